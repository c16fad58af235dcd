/**
 * AdmissionReview (admission.k8s.io/v1) in, AdmissionReview out. Transport-free: the HTTPS server
 * hands it the body and writes back what it returns. Nothing here throws on caller input.
 *
 * - body not JSON, nested deeper than MAX_ADMISSION_JSON_DEPTH, not an object, wrong apiVersion/kind,
 *   missing request or request.uid → 400 naming the field;
 * - a non-Pod object or a non-CREATE operation → allowed, no patch;
 * - a Pod CREATE → mutatePod; denied admissions carry status.code 400 and the reason.
 * handleAdmission itself has no side effects. An injected pod needs its bootstrap credential
 * (`credential` in the result): the server then calls withBootstrapCredential, which creates it
 * and turns a failure into a denial (500, naming the error). A dryRun admission gets the same
 * patch and no credential, so it has no side effects.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import {
  ADMISSION_REVIEW_API_VERSION,
  ADMISSION_REVIEW_KIND,
  MAX_ADMISSION_JSON_DEPTH,
} from '../constants/index.js';
import type { BootstrapCredentials, BootstrapRequest } from '../identity/index.js';
import { errorMessage } from '../logger/index.js';
import { findDeepNesting } from './json-depth.js';
import { mutatePod, type InjectorConfig, type MutationOutcome } from './mutate.js';
import type { ServerSupport } from './sidecar-mode.js';
import { showValue } from './validate.js';

/** Outcome label of one admission (metrics `result`). */
export type AdmissionResult = MutationOutcome | 'ignored' | 'bad-request';

export interface AdmissionHandled {
  /** HTTP status to answer with. */
  status: number;
  /** JSON AdmissionReview (200) or a plain-text message (400). */
  body: string;
  contentType: 'application/json' | 'text/plain; charset=utf-8';
  result: AdmissionResult;
  /** For logs. */
  reason: string;
  uid?: string;
  warnings: string[];
  /** Injected and not a dryRun: the bootstrap credential to create before answering. */
  credential?: BootstrapRequest;
}

export interface AdmissionContext {
  config: InjectorConfig;
  namespace: (name: string) => V1Namespace | undefined;
  newProxyUuid: () => string;
  /** What the API server supports (native sidecars); absent: not known (classic). */
  server?: () => ServerSupport;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badRequest(reason: string): AdmissionHandled {
  return {
    status: 400,
    body: reason + '\n',
    contentType: 'text/plain; charset=utf-8',
    result: 'bad-request',
    reason,
    warnings: [],
  };
}

function review(response: Json): string {
  return JSON.stringify({ apiVersion: ADMISSION_REVIEW_API_VERSION, kind: ADMISSION_REVIEW_KIND, response });
}

/**
 * The review of a patched admission. The base64 patch (~10 KB for a realistic pod) is spliced in as
 * is rather than passed through JSON.stringify, which scans every character of it for escapes (a
 * fifth of the handler's CPU profile): base64 never needs escaping.
 */
function patchedReview(response: Json, patch: readonly unknown[]): string {
  const rest = review(response);
  const b64 = Buffer.from(JSON.stringify(patch), 'utf8').toString('base64');
  // rest ends with the `}}` closing response and the review.
  return `${rest.slice(0, -2)},"patch":"${b64}"}}`;
}

function isPodKind(kind: unknown): boolean {
  return isObject(kind) && (kind['group'] ?? '') === '' && kind['version'] === 'v1' && kind['kind'] === 'Pod';
}

export function handleAdmission(raw: string, ctx: AdmissionContext): AdmissionHandled {
  const deep = findDeepNesting(raw, MAX_ADMISSION_JSON_DEPTH);
  if (deep) {
    return badRequest(
      `body nests JSON deeper than ${MAX_ADMISSION_JSON_DEPTH} levels at ${deep.path} ` +
        `(offset ${deep.offset}); no Kubernetes object does`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return badRequest(`body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(parsed))
    return badRequest(`body must be an AdmissionReview object, got ${showValue(parsed)}`);
  if (parsed['apiVersion'] !== ADMISSION_REVIEW_API_VERSION) {
    return badRequest(`apiVersion ${showValue(parsed['apiVersion'])} is not ${ADMISSION_REVIEW_API_VERSION}`);
  }
  if (parsed['kind'] !== ADMISSION_REVIEW_KIND) {
    return badRequest(`kind ${showValue(parsed['kind'])} is not ${ADMISSION_REVIEW_KIND}`);
  }
  const req = parsed['request'];
  if (!isObject(req)) return badRequest(`request: must be an object, got ${showValue(req)}`);
  const uid = req['uid'];
  if (typeof uid !== 'string' || uid === '') {
    return badRequest(`request.uid: must be a non-empty string, got ${showValue(uid)}`);
  }

  const allowed = (result: AdmissionResult, reason: string): AdmissionHandled => ({
    status: 200,
    body: review({ uid, allowed: true }),
    contentType: 'application/json',
    result,
    reason,
    uid,
    warnings: [],
  });
  if (!isPodKind(req['kind'])) return allowed('ignored', `kind ${showValue(req['kind'])} is not a v1 Pod`);
  if (req['operation'] !== 'CREATE') {
    return allowed('ignored', `operation ${showValue(req['operation'])} is not CREATE`);
  }

  const namespace = typeof req['namespace'] === 'string' ? req['namespace'] : undefined;
  const podNs =
    namespace ||
    (isObject(req['object']) &&
    isObject(req['object']['metadata']) &&
    typeof req['object']['metadata']['namespace'] === 'string'
      ? req['object']['metadata']['namespace']
      : 'default');
  const m = mutatePod({
    object: req['object'],
    namespace: podNs,
    namespaceObject: ctx.namespace(podNs),
    config: ctx.config,
    newProxyUuid: ctx.newProxyUuid,
    ...(ctx.server ? { server: ctx.server() } : {}),
  });
  const warnings = m.warnings.length > 0 ? { warnings: m.warnings } : {};
  let body: string;
  switch (m.outcome) {
    case 'denied':
      body = review({ uid, allowed: false, status: { code: 400, reason: 'BadRequest', message: m.reason } });
      break;
    case 'injected':
    case 'reinvoked':
      body = patchedReview({ uid, allowed: true, patchType: 'JSONPatch', ...warnings }, m.patch);
      break;
    default:
      body = review({ uid, allowed: true, ...warnings });
  }
  const dryRun = req['dryRun'] === true;
  const credential: BootstrapRequest | undefined =
    m.outcome === 'injected' && !dryRun
      ? { proxyUuid: m.proxyUuid!, namespace: m.namespace!, serviceAccount: m.serviceAccount! }
      : undefined;
  return {
    status: 200,
    body,
    contentType: 'application/json',
    result: m.outcome,
    reason: m.reason,
    uid,
    warnings: m.warnings,
    ...(credential ? { credential } : {}),
  };
}

/**
 * Creates the bootstrap credential an injected admission needs. On failure the admission is
 * refused (allowed: false, 500 naming the error): a pod without its credential would never get
 * configuration. Without `credentials` (tests of the pure rewrite) the answer is returned as is.
 */
export async function withBootstrapCredential(
  h: AdmissionHandled,
  credentials: BootstrapCredentials | undefined,
): Promise<AdmissionHandled> {
  if (!h.credential || !credentials) return h;
  try {
    await credentials.provision(h.credential);
    return h;
  } catch (err) {
    const c = h.credential;
    const message = `cannot create the bootstrap credential of proxy ${c.proxyUuid} (${c.namespace}/${c.serviceAccount}): ${errorMessage(err)}`;
    return {
      ...h,
      body: review({ uid: h.uid, allowed: false, status: { code: 500, reason: 'InternalError', message } }),
      result: 'denied',
      reason: message,
    };
  }
}
