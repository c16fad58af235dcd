export {
  ALWAYS_FAILING_PATH_PREFIX,
  containersNamedBy,
  OFF_HOST_REDIRECT_HOST,
  OFF_HOST_REDIRECT_PATH_PREFIX,
  REDIRECT_LOOP_PATH,
  SANDBOX_IMAGES,
  UNHEALTHY_ANNOTATION,
  unhealthyContainers,
  workloadKindForImage,
} from './types.js';
export type { Workload } from './types.js';
export { startWorkload } from './workloads.js';
