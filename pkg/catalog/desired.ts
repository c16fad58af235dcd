/**
 * Pod → desired proxy config: identity, Envoy resources (probe + inbound), the Probes view and the
 * problems found on the way. Pure and total: it reads the pod (and, for the inbound mTLS mode, its
 * namespace's annotations) and never throws.
 */
import { isIP } from 'node:net';
import { DEFAULT_TRUST_DOMAIN, SIDECAR_CONTAINER_NAME, type InboundMtlsMode } from '../constants/index.js';
import { buildProxyResources } from '../envoy/builders/index.js';
import type { ProxyResources } from '../envoy/builders/index.js';
import { podOriginalProbes } from './annotation.js';
import { proxyIdentity } from './identity.js';
import { inboundMode, type InboundModeResult, type NamespaceLike } from './inbound-mode.js';
import type { ProxyIdentity } from './identity.js';
import type { PodLike } from './pod.js';
import { hasNativeSidecar, podRef } from './pod.js';
import { inboundPorts } from './ports.js';
import { planProbes } from './probe-plan.js';
import { buildHooksView, buildProbesView, emptyProbesView } from './probes-view.js';
import type { HookViewEntry, ProbesView } from './probes-view.js';

export interface DesiredProxy {
  isProxy: true;
  proxy: ProxyIdentity;
  /** Listeners (routes inline) and clusters, each sorted by name. */
  resources: ProxyResources;
  probes: ProbesView;
  /** The rewritten lifecycle hooks (present only when the pod has some). */
  hooks?: HookViewEntry[];
  /**
   * absent: the pod records no rewritten probe; valid: probes built from it; invalid: the
   * annotation was rejected (first entry of `problems` says why) and no probe listener is built.
   */
  annotation: 'absent' | 'valid' | 'invalid';
  /** Problems a user can fix, each naming the pod and the field: log them, surface them as events. */
  problems: string[];
  /** The inbound mTLS mode served on the app ports, and where it came from. */
  inbound: { mode: InboundMtlsMode; source: InboundModeResult['source'] };
}

export type DesiredProxyResult = DesiredProxy | { isProxy: false; reason: string };

/** What a pod's config depends on besides the pod. */
export interface DesiredContext {
  /** The pod's namespace (its inbound mTLS annotation); undefined: not known. */
  namespace?: NamespaceLike;
  /** SPIFFE trust domain of the mesh (default cluster.local). */
  trustDomain?: string;
}

export function desiredProxy(pod: PodLike, context: DesiredContext = {}): DesiredProxyResult {
  try {
    return compute(pod, context);
  } catch (e) {
    // Only a pod object of an impossible shape (e.g. a container list that is not an array) gets here.
    return { isProxy: false, reason: `pod ${podRef(pod)}: unreadable pod object (${String(e)})` };
  }
}

function compute(pod: PodLike, context: DesiredContext): DesiredProxyResult {
  const id = proxyIdentity(pod);
  if (!id.isProxy) return id;
  const problems: string[] = [];
  const ann = podOriginalProbes(pod);
  const ports = inboundPorts(pod);
  const mode = inboundMode(podRef(pod), pod.metadata?.annotations, context.namespace);
  const podIP = pod.status?.podIP;
  const inbound = {
    mode: mode.mode,
    trustDomain: context.trustDomain ?? DEFAULT_TRUST_DOMAIN,
    ...(podIP && isIP(podIP) !== 0 ? { podIP } : {}),
  };
  const inboundView = { mode: mode.mode, source: mode.source };
  if (ann.status === 'invalid') {
    problems.push(ann.error, ...ports.warnings, ...(mode.problem ? [mode.problem] : []));
    return {
      isProxy: true,
      proxy: id.proxy,
      resources: buildProxyResources({ probes: [], inboundPorts: ports.ports, inbound }),
      probes: emptyProbesView(),
      annotation: 'invalid',
      problems,
      inbound: inboundView,
    };
  }
  const plan = planProbes(pod, ann.containers, {
    ...(ann.hooks ? { hooks: ann.hooks } : {}),
    nativeSidecar: hasNativeSidecar(pod, SIDECAR_CONTAINER_NAME),
  });
  problems.push(...plan.warnings, ...ports.warnings, ...(mode.problem ? [mode.problem] : []));
  return {
    isProxy: true,
    proxy: id.proxy,
    resources: buildProxyResources({ probes: plan.inputs, inboundPorts: ports.ports, inbound }),
    probes: buildProbesView(plan.probes),
    ...(plan.hooks.length > 0 ? { hooks: buildHooksView(plan.hooks) } : {}),
    annotation: ann.status,
    problems,
    inbound: inboundView,
  };
}
