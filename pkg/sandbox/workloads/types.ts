/**
 * Sandbox workloads: what a pod's container "runs" in the sandbox. The kubelet-like node agent picks
 * one by the container's image and binds it to the pod's own loopback address on the container's
 * declared ports.
 */
export const WORKLOAD_KINDS = ['http', 'https', 'tcp', 'grpc', 'redirect', 'bookbuyer'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Images of the sandbox's demo apps; any other image runs the plain HTTP app. */
export const SANDBOX_IMAGES: Readonly<Record<WorkloadKind, string>> = {
  http: 'fsm-sandbox/http-app',
  https: 'fsm-sandbox/https-app',
  tcp: 'fsm-sandbox/tcp-app',
  grpc: 'fsm-sandbox/grpc-app',
  redirect: 'fsm-sandbox/redirect-app',
  bookbuyer: 'fsm-sandbox/bookbuyer',
};

/** HTTP paths under this prefix always answer 503: a probe pointed there fails on purpose. */
export const ALWAYS_FAILING_PATH_PREFIX = '/fail';

/**
 * The redirect app (SANDBOX_IMAGES.redirect) is the HTTP app behind the redirects apps make: a path
 * without a trailing `/` answers `301 Location: <path>/` (relative, as Go's http.Redirect and most
 * frameworks write it: `/healthz` → `/healthz/`); under OFF_HOST_REDIRECT_PATH_PREFIX it answers
 * `302 Location: http://<OFF_HOST_REDIRECT_HOST><path>` (another host); REDIRECT_LOOP_PATH redirects
 * to itself forever. Paths ending in `/` answer as the HTTP app does.
 */
export const OFF_HOST_REDIRECT_PATH_PREFIX = '/elsewhere';
export const OFF_HOST_REDIRECT_HOST = 'elsewhere.invalid';
export const REDIRECT_LOOP_PATH = '/loop';

export interface WorkloadSpec {
  kind: WorkloadKind;
  /** The pod address (127.0.x.y). */
  host: string;
  ports: readonly number[];
  /** Container name, echoed in HTTP bodies so a probe's path to its own container is visible. */
  name: string;
  /** PEM cert/key for https (and served as-is, like an app with its own certificate). */
  tls?: { certPem: string; keyPem: string };
  /** The app's log lines (its container's stdout): what it serves and every request it answers. */
  log?: (line: string) => void;
  /** The container's environment (literal values), as the app reads it. */
  env?: Readonly<Record<string, string>>;
}

export interface Workload {
  readonly spec: WorkloadSpec;
  /**
   * Healthy: HTTP(S) 200, TCP accepts, gRPC SERVING. Unhealthy: HTTP(S) 503, TCP port closed,
   * gRPC NOT_SERVING — what "break the app" means for each kind.
   */
  setHealthy(healthy: boolean): Promise<void>;
  readonly healthy: boolean;
  stop(): Promise<void>;
}

/** Picks the workload kind for a container image (the tag is ignored). */
export function workloadKindForImage(image: string | undefined): WorkloadKind {
  const repo = (image ?? '').replace(/[:@].*$/, '');
  for (const kind of WORKLOAD_KINDS) if (SANDBOX_IMAGES[kind] === repo) return kind;
  return 'http';
}

/**
 * Pod annotation: the containers whose app is "broken" (comma list of names, or `*` for all):
 * HTTP answers 503, TCP closes its port, gRPC reports NOT_SERVING. Remove it to fix them:
 *   kubectl annotate pod bookstore-v1 sandbox.flomesh.io/unhealthy='*'
 *   kubectl annotate pod bookstore-v1 sandbox.flomesh.io/unhealthy-
 */
export const UNHEALTHY_ANNOTATION = 'sandbox.flomesh.io/unhealthy';

/** Which of these containers the annotation value marks unhealthy. */
export function unhealthyContainers(value: string | undefined, containers: readonly string[]): Set<string> {
  return containersNamedBy(value, containers);
}

/** The containers a sandbox annotation value names: a comma list of names, or `*` for all. */
export function containersNamedBy(value: string | undefined, containers: readonly string[]): Set<string> {
  if (value === undefined) return new Set();
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return new Set(names.includes('*') ? containers : containers.filter((c) => names.includes(c)));
}
