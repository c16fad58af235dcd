/**
 * A meshed pod's inbound mTLS mode: INBOUND_MTLS_ANNOTATION on the pod, else on its namespace, else
 * DEFAULT_INBOUND_MTLS_MODE (strict). Pure. A value that is neither `strict` nor `permissive` never
 * opens a port: the pod is served `strict` and the problem names where the annotation is and its
 * value (the controller logs it and records a pod Event; the injector warns at admission).
 */
import {
  DEFAULT_INBOUND_MTLS_MODE,
  INBOUND_MTLS_ANNOTATION,
  INBOUND_MTLS_MODES,
  type InboundMtlsMode,
} from '../constants/index.js';

/** The parts of a Namespace the mode reads. */
export interface NamespaceLike {
  readonly metadata?: { readonly name?: string; readonly annotations?: { readonly [key: string]: string } };
}

export interface InboundModeResult {
  mode: InboundMtlsMode;
  /** Where the mode came from. */
  source: 'pod' | 'namespace' | 'default';
  /** Set when an annotation value was refused (and strict served instead). */
  problem?: string;
}

function isMode(v: string): v is InboundMtlsMode {
  return (INBOUND_MTLS_MODES as readonly string[]).includes(v);
}

/** Reads one annotation value: trimmed, case-insensitive, as the injection annotation is. */
function parse(value: string | undefined): InboundMtlsMode | 'invalid' | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  return isMode(v) ? v : 'invalid';
}

function refused(where: string, value: string): string {
  return (
    `${where}: annotation ${INBOUND_MTLS_ANNOTATION}=${JSON.stringify(value)} is not one of ` +
    `${INBOUND_MTLS_MODES.join(', ')}; serving ${DEFAULT_INBOUND_MTLS_MODE}`
  );
}

/**
 * The mode of a pod (`podRef` and its annotations) in a namespace (undefined when unknown). A bad
 * pod value wins over a good namespace value (the pod asked for something; strict is the safe answer).
 */
export function inboundMode(
  podRef: string,
  podAnnotations: { readonly [key: string]: string } | undefined,
  namespace: NamespaceLike | undefined,
): InboundModeResult {
  const own = podAnnotations?.[INBOUND_MTLS_ANNOTATION];
  const fromPod = parse(own);
  if (fromPod === 'invalid') {
    return { mode: DEFAULT_INBOUND_MTLS_MODE, source: 'pod', problem: refused(`pod ${podRef}`, own!) };
  }
  if (fromPod !== undefined) return { mode: fromPod, source: 'pod' };
  const nsValue = namespace?.metadata?.annotations?.[INBOUND_MTLS_ANNOTATION];
  const fromNs = parse(nsValue);
  if (fromNs === 'invalid') {
    const name = namespace?.metadata?.name ?? '<unknown>';
    return {
      mode: DEFAULT_INBOUND_MTLS_MODE,
      source: 'namespace',
      problem: refused(`pod ${podRef}: namespace ${name}`, nsValue!),
    };
  }
  if (fromNs !== undefined) return { mode: fromNs, source: 'namespace' };
  return { mode: DEFAULT_INBOUND_MTLS_MODE, source: 'default' };
}
