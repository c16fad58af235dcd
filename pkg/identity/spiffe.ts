/**
 * SPIFFE IDs of mesh workloads: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`
 * (the shape Istio and OSM use). Pure.
 */

export interface WorkloadName {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Throws, naming the value, when a trust domain is not a valid SPIFFE trust domain. */
export function checkTrustDomain(trustDomain: string): string {
  if (!TRUST_DOMAIN.test(trustDomain) || trustDomain.length > 255) {
    throw new Error(
      `trust domain ${JSON.stringify(trustDomain)} is invalid: lowercase letters, digits, '.', '-' and '_' only`,
    );
  }
  return trustDomain;
}

export function spiffeId(w: WorkloadName): string {
  checkTrustDomain(w.trustDomain);
  for (const [field, v] of [
    ['namespace', w.namespace],
    ['serviceAccount', w.serviceAccount],
  ] as const) {
    if (!SEGMENT.test(v)) throw new Error(`${field} ${JSON.stringify(v)} cannot be a SPIFFE path segment`);
  }
  return `spiffe://${w.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;
}

/** The workload of a SPIFFE ID, or undefined when it is not of the `/ns/<ns>/sa/<sa>` shape. */
export function parseSpiffeId(uri: string): WorkloadName | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m || !TRUST_DOMAIN.test(m[1]!) || !SEGMENT.test(m[2]!) || !SEGMENT.test(m[3]!)) return undefined;
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}
