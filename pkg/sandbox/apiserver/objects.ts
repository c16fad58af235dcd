/**
 * What kube-apiserver does to an object between decode and storage, for the kinds we serve:
 * defaulting (the fields clients rely on seeing), validation (422 with field paths), and the
 * metadata the server owns (uid, creationTimestamp, generation, resourceVersion). Pure except for
 * random names/uids, which come from the injected `ids`.
 */
import { randomUUID, randomInt } from 'node:crypto';
import type { ResourceInfo } from './resources.js';
import type { KubeObject } from './store.js';
import { invalid, type StatusCause } from './status.js';

type O = Record<string, unknown>;

export function isObj(v: unknown): v is O {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function arr(v: unknown): O[] {
  return Array.isArray(v) ? (v.filter(isObj) as O[]) : [];
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `2026-11-24T23:34:11Z`: Kubernetes timestamps have second precision. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[randomInt(NAME_CHARS.length)];
  return s;
}

export function nameCauses(info: ResourceInfo, name: string, field = 'metadata.name'): StatusCause[] {
  if (info.nameRule === 'label') {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return [
        {
          field,
          message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        },
      ];
    }
  } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return [
      {
        field,
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      },
    ];
  }
  return [];
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  p['timeoutSeconds'] ??= 1;
  p['periodSeconds'] ??= 10;
  p['successThreshold'] ??= 1;
  p['failureThreshold'] ??= 3;
  if (isObj(p['httpGet'])) p['httpGet']['scheme'] ??= 'HTTP';
}

function defaultContainer(c: O): void {
  c['terminationMessagePath'] ??= '/dev/termination-log';
  c['terminationMessagePolicy'] ??= 'File';
  if (c['imagePullPolicy'] === undefined && typeof c['image'] === 'string') {
    const image = c['image'];
    const tagged = /:[^/]+$/.test(image.split('@')[0]!) || image.includes('@');
    c['imagePullPolicy'] = !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
  }
  c['resources'] ??= {};
  for (const port of arr(c['ports'])) port['protocol'] ??= 'TCP';
  defaultProbe(c['livenessProbe']);
  defaultProbe(c['readinessProbe']);
  defaultProbe(c['startupProbe']);
}

function defaultPodSpec(spec: O): void {
  spec['restartPolicy'] ??= 'Always';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['schedulerName'] ??= 'default-scheduler';
  spec['securityContext'] ??= {};
  if (spec['serviceAccountName'] === undefined)
    spec['serviceAccountName'] = spec['serviceAccount'] ?? 'default';
  spec['serviceAccount'] ??= spec['serviceAccountName'];
  spec['enableServiceLinks'] ??= true;
  spec['preemptionPolicy'] ??= 'PreemptLowerPriority';
  spec['priority'] ??= 0;
  for (const c of arr(spec['containers'])) defaultContainer(c);
  for (const c of arr(spec['initContainers'])) defaultContainer(c);
}

function qosClass(spec: O): string {
  const cs = [...arr(spec['containers']), ...arr(spec['initContainers'])];
  let any = false;
  let guaranteed = cs.length > 0;
  for (const c of cs) {
    const res = isObj(c['resources']) ? c['resources'] : {};
    const req = isObj(res['requests']) ? res['requests'] : {};
    const lim = isObj(res['limits']) ? res['limits'] : {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const k of ['cpu', 'memory']) {
      if (lim[k] === undefined || (req[k] !== undefined && req[k] !== lim[k])) guaranteed = false;
    }
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}

let nextClusterIp = 10;

/** Applies kube's defaults in place (the object is a fresh copy owned by the caller). */
export function applyDefaults(info: ResourceInfo, obj: O): void {
  switch (info.kind) {
    case 'Namespace': {
      const name = String((obj['metadata'] as O)['name'] ?? '');
      const md = obj['metadata'] as O;
      md['labels'] = { ...(isObj(md['labels']) ? md['labels'] : {}), 'kubernetes.io/metadata.name': name };
      obj['spec'] = isObj(obj['spec']) ? obj['spec'] : {};
      (obj['spec'] as O)['finalizers'] ??= ['kubernetes'];
      obj['status'] = { phase: 'Active', ...(isObj(obj['status']) ? obj['status'] : {}) };
      break;
    }
    case 'Pod': {
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      obj['spec'] = spec;
      defaultPodSpec(spec);
      const status = isObj(obj['status']) ? obj['status'] : {};
      status['phase'] ??= 'Pending';
      status['qosClass'] ??= qosClass(spec);
      obj['status'] = status;
      break;
    }
    case 'Service': {
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      obj['spec'] = spec;
      spec['type'] ??= 'ClusterIP';
      spec['sessionAffinity'] ??= 'None';
      if (spec['clusterIP'] === undefined && spec['type'] !== 'ExternalName') {
        const n = nextClusterIp++;
        spec['clusterIP'] = `10.96.${(n >> 8) & 255}.${n & 255}`;
      }
      if (spec['clusterIP'] !== undefined) spec['clusterIPs'] ??= [spec['clusterIP']];
      spec['ipFamilies'] ??= ['IPv4'];
      spec['ipFamilyPolicy'] ??= 'SingleStack';
      spec['internalTrafficPolicy'] ??= 'Cluster';
      for (const p of arr(spec['ports'])) {
        p['protocol'] ??= 'TCP';
        p['targetPort'] ??= p['port'];
      }
      obj['status'] ??= { loadBalancer: {} };
      break;
    }
    case 'ReplicaSet': {
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      obj['spec'] = spec;
      spec['replicas'] ??= 1;
      spec['minReadySeconds'] ??= 0;
      const tpl = isObj(spec['template']) ? spec['template'] : undefined;
      if (tpl && isObj(tpl['spec'])) defaultPodSpec(tpl['spec']);
      obj['status'] ??= { replicas: 0 };
      break;
    }
    case 'Deployment': {
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      obj['spec'] = spec;
      spec['replicas'] ??= 1;
      spec['minReadySeconds'] ??= 0;
      spec['revisionHistoryLimit'] ??= 10;
      spec['progressDeadlineSeconds'] ??= 600;
      spec['strategy'] ??= {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
      };
      const tpl = isObj(spec['template']) ? spec['template'] : undefined;
      if (tpl && isObj(tpl['spec'])) defaultPodSpec(tpl['spec']);
      obj['status'] ??= {};
      break;
    }
    case 'Secret': {
      obj['type'] ??= 'Opaque';
      if (isObj(obj['stringData'])) {
        const data = isObj(obj['data']) ? { ...obj['data'] } : {};
        for (const [k, v] of Object.entries(obj['stringData']))
          data[k] = Buffer.from(String(v)).toString('base64');
        obj['data'] = data;
        delete obj['stringData'];
      }
      break;
    }
    case 'MutatingWebhookConfiguration': {
      for (const w of arr(obj['webhooks'])) {
        w['failurePolicy'] ??= 'Fail';
        w['matchPolicy'] ??= 'Equivalent';
        w['namespaceSelector'] ??= {};
        w['objectSelector'] ??= {};
        w['timeoutSeconds'] ??= 10;
        w['reinvocationPolicy'] ??= 'Never';
      }
      break;
    }
    default:
      break;
  }
}

function need(causes: StatusCause[], cond: boolean, field: string, message = 'Required value'): void {
  if (!cond) causes.push({ field, message, reason: 'FieldValueRequired' });
}

function validatePodSpec(spec: unknown, prefix: string, causes: StatusCause[]): void {
  if (!isObj(spec)) {
    need(causes, false, prefix);
    return;
  }
  const containers = arr(spec['containers']);
  need(causes, containers.length > 0, `${prefix}.containers`);
  const seen = new Set<string>();
  const all = [
    ...containers.map((c, i) => [c, `${prefix}.containers[${i}]`] as const),
    ...arr(spec['initContainers']).map((c, i) => [c, `${prefix}.initContainers[${i}]`] as const),
  ];
  for (const [c, path] of all) {
    const name = c['name'];
    if (typeof name !== 'string' || name === '') need(causes, false, `${path}.name`);
    else if (!DNS1123_LABEL.test(name) || name.length > 63) {
      causes.push({
        field: `${path}.name`,
        message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
      });
    } else if (seen.has(name)) {
      causes.push({
        field: `${path}.name`,
        message: `Duplicate value: "${name}"`,
        reason: 'FieldValueDuplicate',
      });
    } else seen.add(name);
    if (typeof c['image'] !== 'string' || c['image'] === '') need(causes, false, `${path}.image`);
    arr(c['ports']).forEach((p, j) => {
      const port = p['containerPort'];
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        causes.push({
          field: `${path}.ports[${j}].containerPort`,
          message: `Invalid value: ${JSON.stringify(port ?? null)}: must be between 1 and 65535, inclusive`,
        });
      }
    });
    for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const p = c[field];
      if (p === undefined || p === null) continue;
      if (!isObj(p)) {
        causes.push({ field: `${path}.${field}`, message: 'Invalid value: must be an object' });
        continue;
      }
      const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter((h) => p[h] !== undefined);
      if (handlers.length === 0)
        need(causes, false, `${path}.${field}`, 'Required value: must specify a handler type');
      if (handlers.length > 1) {
        causes.push({
          field: `${path}.${field}`,
          message: 'Forbidden: may not specify more than 1 handler type',
          reason: 'FieldValueForbidden',
        });
      }
    }
  }
}

/** 422 causes for an object about to be stored (empty when valid). */
export function validate(info: ResourceInfo, obj: O): StatusCause[] {
  const causes: StatusCause[] = [];
  const md = obj['metadata'] as O;
  causes.push(...nameCauses(info, String(md['name'])));
  for (const [field, v] of [
    ['labels', md['labels']],
    ['annotations', md['annotations']],
  ] as const) {
    if (v === undefined || v === null) continue;
    if (!isObj(v))
      causes.push({ field: `metadata.${field}`, message: 'Invalid value: must be a map of strings' });
    else
      for (const [k, val] of Object.entries(v)) {
        if (typeof val !== 'string') {
          causes.push({
            field: `metadata.${field}.${k}`,
            message: `Invalid value: ${JSON.stringify(val)}: must be a string`,
          });
        }
      }
  }
  switch (info.kind) {
    case 'Pod':
      validatePodSpec(obj['spec'], 'spec', causes);
      break;
    case 'Deployment':
    case 'ReplicaSet': {
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      const sel = isObj(spec['selector']) ? spec['selector'] : undefined;
      need(causes, sel !== undefined, 'spec.selector');
      const tpl = isObj(spec['template']) ? spec['template'] : {};
      validatePodSpec(tpl['spec'], 'spec.template.spec', causes);
      const labels =
        isObj(tpl['metadata']) && isObj(tpl['metadata']['labels']) ? tpl['metadata']['labels'] : {};
      const ml = sel && isObj(sel['matchLabels']) ? sel['matchLabels'] : {};
      for (const [k, v] of Object.entries(ml)) {
        if (labels[k] !== v) {
          causes.push({
            field: 'spec.template.metadata.labels',
            message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
          });
          break;
        }
      }
      break;
    }
    case 'Service': {
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      arr(spec['ports']).forEach((p, i) => {
        const port = p['port'];
        if (typeof port !== 'number' || port < 1 || port > 65535) {
          causes.push({
            field: `spec.ports[${i}].port`,
            message: `Invalid value: ${JSON.stringify(port ?? null)}: must be between 1 and 65535, inclusive`,
          });
        }
      });
      break;
    }
    case 'MutatingWebhookConfiguration':
      arr(obj['webhooks']).forEach((w, i) => {
        need(causes, typeof w['name'] === 'string' && w['name'] !== '', `webhooks[${i}].name`);
        need(causes, isObj(w['clientConfig']), `webhooks[${i}].clientConfig`);
        need(causes, Array.isArray(w['admissionReviewVersions']), `webhooks[${i}].admissionReviewVersions`);
        const se = w['sideEffects'];
        if (se !== 'None' && se !== 'NoneOnDryRun') {
          causes.push({
            field: `webhooks[${i}].sideEffects`,
            message: `Unsupported value: ${JSON.stringify(se ?? '')}: supported values: "None", "NoneOnDryRun"`,
            reason: 'FieldValueNotSupported',
          });
        }
      });
      break;
    case 'Event':
      need(causes, isObj(obj['involvedObject']), 'involvedObject');
      break;
    default:
      break;
  }
  return causes;
}

export function assertValid(info: ResourceInfo, obj: O): void {
  const causes = validate(info, obj);
  if (causes.length) {
    throw invalid(info.group, info.kind, String((obj['metadata'] as O)['name']), causes);
  }
}

/** Kinds whose metadata.generation counts spec changes (status.observedGeneration follows it). */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet']);

/** Server-owned metadata on create. */
export function initMetadata(info: ResourceInfo, obj: O, now: number): void {
  const md = obj['metadata'] as O;
  md['uid'] = randomUUID();
  md['creationTimestamp'] = kubeTime(now);
  delete md['resourceVersion'];
  delete md['deletionTimestamp'];
  delete md['deletionGracePeriodSeconds'];
  if (GENERATION_KINDS.has(info.kind)) md['generation'] = 1;
  obj['apiVersion'] = info.group ? `${info.group}/${info.version}` : info.version;
  obj['kind'] = info.kind;
}

/** Fields the server owns, carried over from the stored object on update. */
export function carryMetadata(info: ResourceInfo, next: O, prev: KubeObject): void {
  const md = next['metadata'] as O;
  md['uid'] = prev.metadata['uid'];
  md['creationTimestamp'] = prev.metadata['creationTimestamp'];
  if (prev.metadata['deletionTimestamp']) md['deletionTimestamp'] = prev.metadata['deletionTimestamp'];
  else delete md['deletionTimestamp'];
  if (info.namespaced) md['namespace'] = prev.metadata.namespace;
  else delete md['namespace'];
  next['apiVersion'] = info.group ? `${info.group}/${info.version}` : info.version;
  next['kind'] = info.kind;
  if (GENERATION_KINDS.has(info.kind)) {
    const gen = Number(prev.metadata['generation'] ?? 1);
    md['generation'] = JSON.stringify(next['spec']) === JSON.stringify(prev['spec']) ? gen : gen + 1;
  }
}

/** Equal apart from resourceVersion (a no-op write keeps the stored version). */
export function sameObject(a: O, b: O): boolean {
  const strip = (o: O): string => {
    const md = { ...(o['metadata'] as O) };
    delete md['resourceVersion'];
    return JSON.stringify(sortKeys({ ...o, metadata: md }));
  };
  return strip(a) === strip(b);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObj(v)) {
    const out: O = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}
