/**
 * The parts of a Kubernetes Pod the catalog reads. Structural, so a @kubernetes/client-node V1Pod,
 * a pod decoded from JSON and a test fixture all fit. Treated as read-only: the catalog never
 * modifies a pod (informer caches hand out shared objects).
 */
export interface ContainerPortLike {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol?: string;
}

/** The handler fields of a probe the catalog compares with the annotation (pkg/probes compareProbe). */
export interface ProbeLike {
  readonly httpGet?: {
    readonly port: number | string;
    readonly path?: string;
    readonly scheme?: string;
    readonly host?: string;
    readonly httpHeaders?: readonly { readonly name: string; readonly value: string }[];
  };
  readonly tcpSocket?: unknown;
  readonly grpc?: unknown;
  readonly exec?: unknown;
}

export interface ContainerLike {
  readonly name: string;
  readonly livenessProbe?: ProbeLike;
  readonly readinessProbe?: ProbeLike;
  readonly startupProbe?: ProbeLike;
  readonly ports?: readonly ContainerPortLike[];
  /** Init containers with restartPolicy Always are sidecars that run (and serve) with the app. */
  readonly restartPolicy?: string;
  /** Lifecycle hooks (pkg/probes compareHook compares their httpGet with the annotation). */
  readonly lifecycle?: {
    readonly postStart?: { readonly httpGet?: ProbeLike['httpGet'] } | null;
    readonly preStop?: { readonly httpGet?: ProbeLike['httpGet'] } | null;
  } | null;
}

export interface PodLike {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly labels?: { readonly [key: string]: string };
    readonly annotations?: { readonly [key: string]: string };
  };
  readonly spec?: {
    readonly serviceAccountName?: string;
    readonly hostNetwork?: boolean;
    readonly containers?: readonly ContainerLike[];
    readonly initContainers?: readonly ContainerLike[];
  };
  readonly status?: { readonly podIP?: string };
}

/** `<namespace>/<name>` for messages; placeholders when the pod lacks them. */
export function podRef(pod: PodLike): string {
  return `${pod.metadata?.namespace || '<no namespace>'}/${pod.metadata?.name || '<no name>'}`;
}

/** True when the pod runs fsm's sidecar as a native sidecar (an init container with restartPolicy Always). */
export function hasNativeSidecar(pod: PodLike, sidecarName: string): boolean {
  return (pod.spec?.initContainers ?? []).some(
    (c) => c?.name === sidecarName && c.restartPolicy === 'Always',
  );
}
