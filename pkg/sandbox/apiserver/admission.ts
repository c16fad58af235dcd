/**
 * Mutating admission through MutatingWebhookConfigurations, as kube-apiserver calls them: for each
 * configuration (by name) and webhook (in order) whose rules, namespaceSelector and objectSelector
 * match, POST an admission.k8s.io/v1 AdmissionReview over HTTPS (clientConfig.url, or a service
 * reference mapped to an address by the caller's resolver, its certificate checked for
 * <service>.<namespace>.svc; caBundle trusted; timeoutSeconds), apply
 * the returned JSONPatch, collect warnings, and honour failurePolicy when the call fails. A webhook
 * with reinvocationPolicy IfNeeded is called once more when a later webhook changed the object.
 */
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import fastJsonPatch from 'fast-json-patch';
import { errorMessage, silentLogger, type Logger } from '../../logger/index.js';
import { createConnectionVia, type NodeNetwork } from '../netns/index.js';
import type { KubeObject, Store } from './store.js';
import type { ResourceInfo } from './resources.js';
import { StatusError, internalError, statusFor } from './status.js';

type O = Record<string, unknown>;

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionContext {
  info: ResourceInfo;
  operation: AdmissionOperation;
  namespace?: string;
  name: string;
  /** The object as it would be stored (defaults applied); the hook returns a mutated copy. */
  object: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
  /** Reads namespaces etc. for selectors. */
  store: Store;
}

export interface AdmissionResult {
  object: KubeObject;
  warnings?: string[];
}

/** Mutating admission (the API server calls it on creates): throw a StatusError to reject. */
export type AdmissionHook = (ctx: AdmissionContext) => Promise<AdmissionResult>;

export interface ServiceReference {
  namespace: string;
  name: string;
  port: number;
  path?: string;
}

export interface WebhookAdmissionOptions {
  store: Store;
  /**
   * Maps a clientConfig.service to `https://host:port` (no path). In the sandbox a service resolves
   * to the local address its process listens on. Undefined: the webhook call fails (failurePolicy).
   */
  resolveService?: (ref: ServiceReference) => string | undefined;
  logger?: Logger;
  /** How the API server reaches pods (namespace mode: through the node network). */
  network?: NodeNetwork;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

function isObj(v: unknown): v is O {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** metav1.LabelSelector semantics; an empty or absent selector matches everything. */
export function matchesLabelSelector(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (!isObj(sel)) return true;
  const s = sel as LabelSelector;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function listMatches(list: unknown, value: string): boolean {
  return Array.isArray(list) && list.some((x) => x === '*' || x === value);
}

/** Does one webhook rule cover this request? */
export function ruleMatches(rule: unknown, ctx: Pick<AdmissionContext, 'info' | 'operation'>): boolean {
  if (!isObj(rule)) return false;
  const { info } = ctx;
  if (!listMatches(rule['operations'], ctx.operation)) return false;
  if (!listMatches(rule['apiGroups'], info.group)) return false;
  if (!listMatches(rule['apiVersions'], info.version)) return false;
  const resources = rule['resources'];
  if (!Array.isArray(resources) || !resources.some((r) => r === '*' || r === '*/*' || r === info.resource))
    return false;
  const scope = rule['scope'];
  if (scope === 'Namespaced' && !info.namespaced) return false;
  if (scope === 'Cluster' && info.namespaced) return false;
  return true;
}

class WebhookCallError extends Error {}

/** `serverName`: the name the certificate must carry (a Service's `<name>.<namespace>.svc`). */
function post(
  url: URL,
  body: string,
  ca: string | undefined,
  serverName: string | undefined,
  timeoutMs: number,
  network: NodeNetwork | undefined,
): Promise<{ status: number; text: string }> {
  const createConnection =
    network &&
    createConnectionVia(
      network,
      {
        ...(ca ? { ca } : {}),
        ...(serverName ? { servername: serverName } : isIP(url.hostname) ? {} : { servername: url.hostname }),
      },
      timeoutMs,
    );
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        ...(createConnection ? { createConnection } : {}),
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
        ...(ca ? { ca } : {}),
        ...(serverName ? { servername: serverName } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    // One deadline for the whole call (connect + response), as timeoutSeconds means.
    const timer = setTimeout(
      () => req.destroy(new WebhookCallError(`context deadline exceeded (timeout ${timeoutMs} ms)`)),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () =>
      req.destroy(new WebhookCallError(`context deadline exceeded (timeout ${timeoutMs} ms)`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function webhookAdmission(opts: WebhookAdmissionOptions): AdmissionHook {
  const log = (opts.logger ?? silentLogger()).child({ component: 'admission' });
  return async (ctx: AdmissionContext): Promise<AdmissionResult> => {
    const configs = opts.store.list('admissionregistration.k8s.io/mutatingwebhookconfigurations');
    let object = ctx.object;
    const warnings: string[] = [];
    const nsObj =
      ctx.info.namespaced && ctx.namespace
        ? opts.store.get('namespaces', undefined, ctx.namespace)
        : undefined;
    const nsLabels =
      ctx.info.kind === 'Namespace'
        ? (object.metadata['labels'] as Record<string, string> | undefined)
        : (nsObj?.metadata['labels'] as Record<string, string> | undefined);
    // Webhooks called, with the object as each one left it: reinvocationPolicy IfNeeded needs it.
    const called: { wh: O; name: string; after: string }[] = [];
    const invoke = async (wh: O, name: string): Promise<boolean> => {
      const failOpen = wh['failurePolicy'] === 'Ignore';
      try {
        object = await callWebhook(wh, name, ctx, object, warnings, opts);
        return true;
      } catch (e) {
        if (e instanceof StatusError) throw e;
        const msg = `failed calling webhook "${name}": ${errorMessage(e)}`;
        if (failOpen) {
          log.warn('webhook failed; failurePolicy Ignore', { webhook: name, error: errorMessage(e) });
          return false;
        }
        log.warn('webhook failed; failurePolicy Fail', { webhook: name, error: errorMessage(e) });
        throw internalError(msg);
      }
    };
    for (const cfg of configs) {
      const webhooks = Array.isArray(cfg['webhooks']) ? (cfg['webhooks'] as O[]) : [];
      for (const wh of webhooks) {
        const name = String(wh['name'] ?? '');
        const rules = Array.isArray(wh['rules']) ? wh['rules'] : [];
        if (!rules.some((r) => ruleMatches(r, ctx))) continue;
        if (
          (ctx.info.namespaced || ctx.info.kind === 'Namespace') &&
          !matchesLabelSelector(wh['namespaceSelector'], nsLabels)
        )
          continue;
        if (
          !matchesLabelSelector(
            wh['objectSelector'],
            object.metadata['labels'] as Record<string, string> | undefined,
          )
        )
          continue;
        if (await invoke(wh, name)) called.push({ wh, name, after: JSON.stringify(object) });
      }
    }
    // As kube-apiserver: a webhook with reinvocationPolicy IfNeeded whose output a later webhook
    // changed is called once more, in the original order.
    const final = JSON.stringify(object);
    for (const c of called) {
      if (c.wh['reinvocationPolicy'] === 'IfNeeded' && c.after !== final) {
        log.debug('reinvoking webhook: a later webhook changed the object', { webhook: c.name });
        await invoke(c.wh, c.name);
      }
    }
    return { object, warnings };
  };
}

async function callWebhook(
  wh: O,
  name: string,
  ctx: AdmissionContext,
  object: KubeObject,
  warnings: string[],
  opts: WebhookAdmissionOptions,
): Promise<KubeObject> {
  const versions = wh['admissionReviewVersions'];
  if (!Array.isArray(versions) || !versions.includes('v1')) {
    throw new WebhookCallError(
      `admissionReviewVersions ${JSON.stringify(versions)} does not include v1, the only version this server sends`,
    );
  }
  if (ctx.dryRun && wh['sideEffects'] !== 'None' && wh['sideEffects'] !== 'NoneOnDryRun') {
    throw statusFor(400, `admission webhook "${name}" does not support dry run`);
  }
  const cc = isObj(wh['clientConfig']) ? wh['clientConfig'] : {};
  let url: URL;
  // As kube-apiserver: a Service is called by address, but its certificate is checked for the
  // Service's DNS name (<name>.<namespace>.svc), never for the address it resolved to.
  let serverName: string | undefined;
  if (typeof cc['url'] === 'string') {
    url = new URL(cc['url']);
  } else if (isObj(cc['service'])) {
    const svc = cc['service'];
    const ref: ServiceReference = {
      namespace: String(svc['namespace'] ?? ''),
      name: String(svc['name'] ?? ''),
      port: typeof svc['port'] === 'number' ? svc['port'] : 443,
      path: typeof svc['path'] === 'string' ? svc['path'] : undefined,
    };
    const base = opts.resolveService?.(ref);
    if (!base)
      throw new WebhookCallError(`service "${ref.name}.${ref.namespace}.svc:${ref.port}" cannot be resolved`);
    url = new URL((ref.path ?? '/').replace(/^(?!\/)/, '/'), base);
    serverName = `${ref.name}.${ref.namespace}.svc`;
  } else {
    throw new WebhookCallError('clientConfig has neither url nor service');
  }
  if (url.protocol !== 'https:') throw new WebhookCallError(`webhook URL ${url.href} must use https`);
  const ca =
    typeof cc['caBundle'] === 'string' && cc['caBundle']
      ? Buffer.from(cc['caBundle'], 'base64').toString('utf8')
      : undefined;
  const timeoutMs = (typeof wh['timeoutSeconds'] === 'number' ? wh['timeoutSeconds'] : 10) * 1000;
  const uid = randomUUID();
  const { info } = ctx;
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: info.group, version: info.version, kind: info.kind },
      resource: { group: info.group, version: info.version, resource: info.resource },
      requestKind: { group: info.group, version: info.version, kind: info.kind },
      requestResource: { group: info.group, version: info.version, resource: info.resource },
      name: ctx.name,
      ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
      operation: ctx.operation,
      userInfo: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: ctx.oldObject ?? null,
      dryRun: ctx.dryRun,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
  let res: { status: number; text: string };
  try {
    res = await post(url, JSON.stringify(review), ca, serverName, timeoutMs, opts.network);
  } catch (e) {
    throw new WebhookCallError(`failed to call webhook: Post "${url.href}": ${errorMessage(e)}`);
  }
  if (res.status !== 200) {
    throw new WebhookCallError(
      `received status ${res.status} from Post "${url.href}": ${res.text.slice(0, 200)}`,
    );
  }
  let body: O;
  try {
    body = JSON.parse(res.text) as O;
  } catch (e) {
    throw new WebhookCallError(`the response is not JSON: ${errorMessage(e)}`);
  }
  const response = isObj(body['response']) ? body['response'] : undefined;
  if (!response) throw new WebhookCallError('the AdmissionReview has no response');
  if (response['uid'] !== uid) {
    throw new WebhookCallError(`expected response.uid="${uid}", got "${String(response['uid'])}"`);
  }
  if (Array.isArray(response['warnings'])) {
    for (const w of response['warnings']) if (typeof w === 'string') warnings.push(w);
  }
  if (response['allowed'] !== true) {
    const st = isObj(response['status']) ? response['status'] : {};
    const code = typeof st['code'] === 'number' && st['code'] >= 400 ? st['code'] : 400;
    const msg = typeof st['message'] === 'string' && st['message'] ? st['message'] : 'without explanation';
    throw statusFor(code, `admission webhook "${name}" denied the request: ${msg}`);
  }
  if (response['patch'] === undefined || response['patch'] === null) return object;
  if (response['patchType'] !== 'JSONPatch') {
    throw new WebhookCallError(
      `unsupported patchType ${JSON.stringify(response['patchType'])} (only JSONPatch)`,
    );
  }
  let ops: fastJsonPatch.Operation[];
  try {
    ops = JSON.parse(
      Buffer.from(String(response['patch']), 'base64').toString('utf8'),
    ) as fastJsonPatch.Operation[];
  } catch (e) {
    throw new WebhookCallError(`the patch is not base64 JSON: ${errorMessage(e)}`);
  }
  try {
    return fastJsonPatch.applyPatch(structuredClone(object), ops, true, false).newDocument as KubeObject;
  } catch (e) {
    throw internalError(
      `admission webhook "${name}" returned a JSON patch that does not apply: ${errorMessage(e).split('\n')[0]}`,
    );
  }
}
