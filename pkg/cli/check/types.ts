/**
 * `fsm check probes`: the shapes of its checks (OSM's verifier pattern). Each check is one file
 * exporting a {@link Check}; checks.ts lists them in order; gather.ts reads the facts from the API
 * server and the controller; render.ts prints the report. Judging is pure.
 */
import type { CoreV1Event, V1Namespace, V1Pod } from '@kubernetes/client-node';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export type CheckId =
  'sidecar' | 'probes-rewritten' | 'proxy-listeners' | 'healthcheck' | 'events' | 'control-plane';

/** One check in the report (JSON and YAML output print it as is). */
export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** What was found, one line each. */
  details: string[];
  /** How to fix it (failed checks). */
  fix?: string;
  /**
   * What works but deserves attention (a pod injected in an older format, a probe that passed with a
   * warning). Absent when there is none; never counts as a failure.
   */
  warnings?: string[];
}

export interface ProbeCheckReport {
  namespace: string;
  pod: string;
  mesh: string;
  checks: CheckResult[];
  failed: number;
}

/** What the controller said about the pod's proxy: its config, or why there is none. */
export type ControllerAnswer =
  | { config: unknown }
  | { error: string; status?: number; apiServer?: boolean; where: string }
  | { notAsked: string };

/** The facts the checks judge, gathered from the API server and the controller. */
export interface ProbeCheckInput {
  pod: V1Pod;
  /** The pod's namespace object (undefined: not found). */
  podNamespace: V1Namespace | undefined;
  mesh: string;
  fsmNamespace: string;
  fsmNamespaceObject: V1Namespace | undefined;
  /** Pods of the fsm namespace labelled app=fsm-controller or app=fsm-injector. */
  controlPlanePods: readonly V1Pod[];
  /** Events of the pod's namespace about the pod. */
  events: readonly CoreV1Event[];
  controller: ControllerAnswer;
  now: Date;
  /** Events older than this are not "recent". */
  eventsSinceMs: number;
  /** As typed (for messages), e.g. `1h`. */
  eventsSince: string;
}

/** What every check sees: the gathered facts and what is derived from them once. */
export interface CheckContext {
  input: ProbeCheckInput;
  /** The pod's namespace and name. */
  namespace: string;
  pod: string;
  /** The pod runs the sidecar (proxy label and container): the proxy-side checks apply. */
  injected: boolean;
}

/** A check's verdict: pass, fail (with the fix) or skip (does not apply), and what it found. */
export interface CheckOutcome {
  status: CheckStatus;
  details: string[];
  fix?: string;
  warnings?: string[];
}

export interface Check {
  id: CheckId;
  title(ctx: CheckContext): string;
  /** Pure: same context, same outcome. */
  run(ctx: CheckContext): CheckOutcome;
}
