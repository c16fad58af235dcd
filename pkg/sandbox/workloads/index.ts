export {
  ALWAYS_FAILING_PATH_PREFIX,
  SANDBOX_IMAGES,
  UNHEALTHY_ANNOTATION,
  unhealthyContainers,
  workloadKindForImage,
} from './types.js';
export type { Workload } from './types.js';
export { startWorkload } from './workloads.js';
