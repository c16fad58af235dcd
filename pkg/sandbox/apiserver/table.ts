/**
 * Server-side printing: the meta.k8s.io/v1 Table kubectl asks for (`Accept: ...;as=Table;...`), with
 * the columns kube-apiserver prints for the kinds we serve. Pure, given `now`.
 */
import type { KubeObject } from './store.js';
import type { ResourceInfo } from './resources.js';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;
type O = Record<string, unknown>;

function col(name: string, type = 'string', priority = 0, format = ''): TableColumn {
  return { name, type, format, description: name, priority };
}

/** kube's duration.HumanDuration: 45s, 5m2s, 3h4m, 2d3h, 400d. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

function age(obj: KubeObject, now: number): string {
  const ts = obj.metadata['creationTimestamp'];
  if (typeof ts !== 'string') return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

function arr(v: unknown): O[] {
  return Array.isArray(v) ? (v as O[]) : [];
}

function obj(v: unknown): O {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as O) : {};
}

/**
 * kubectl's STATUS of a pod whose init containers are not all done (the printer's order): the first
 * init container that is not: `Init:<reason>` when it terminated with an error or waits for a
 * reason (Init:Error, Init:CrashLoopBackOff), else `Init:<done>/<all>`. Native sidecars that run
 * count as done.
 */
function initStatus(pod: KubeObject): string | undefined {
  const spec = obj(pod['spec']);
  const inits = arr(spec['initContainers']);
  const statuses = arr(obj(pod['status'])['initContainerStatuses']);
  for (let i = 0; i < statuses.length; i++) {
    const cs = statuses[i]!;
    const state = obj(cs['state']);
    const terminated = obj(state['terminated']);
    const waiting = obj(state['waiting']);
    if (state['terminated'] !== undefined && terminated['exitCode'] === 0) continue;
    const sidecar = inits.find((c) => c['name'] === cs['name'])?.['restartPolicy'] === 'Always';
    if (sidecar && state['running'] !== undefined) continue;
    if (state['terminated'] !== undefined) {
      return typeof terminated['reason'] === 'string' && terminated['reason']
        ? `Init:${terminated['reason']}`
        : `Init:ExitCode:${String(terminated['exitCode'])}`;
    }
    if (
      typeof waiting['reason'] === 'string' &&
      waiting['reason'] &&
      waiting['reason'] !== 'PodInitializing'
    ) {
      return `Init:${waiting['reason']}`;
    }
    return `Init:${i}/${inits.length}`;
  }
  return undefined;
}

function podStatus(pod: KubeObject): string {
  const status = obj(pod['status']);
  let reason = String(status['reason'] ?? status['phase'] ?? 'Pending');
  const init = initStatus(pod);
  if (init !== undefined) return pod.metadata['deletionTimestamp'] ? 'Terminating' : init;
  for (const cs of arr(status['containerStatuses'])) {
    const state = obj(cs['state']);
    const waiting = obj(state['waiting']);
    const terminated = obj(state['terminated']);
    if (typeof waiting['reason'] === 'string' && waiting['reason']) reason = waiting['reason'];
    else if (typeof terminated['reason'] === 'string' && terminated['reason']) reason = terminated['reason'];
  }
  if (pod.metadata['deletionTimestamp']) reason = 'Terminating';
  return reason;
}

function podRow(pod: KubeObject, now: number): Cell[] {
  const spec = obj(pod['spec']);
  const status = obj(pod['status']);
  // Native sidecars (init containers with restartPolicy Always) count as containers, as kube-apiserver prints them.
  const sidecars = new Set(
    arr(spec['initContainers'])
      .filter((c) => c['restartPolicy'] === 'Always')
      .map((c) => c['name']),
  );
  const statuses = [
    ...arr(status['containerStatuses']),
    ...arr(status['initContainerStatuses']).filter((c) => sidecars.has(c['name'])),
  ];
  const ready = statuses.filter((c) => c['ready'] === true).length;
  const restarts = statuses.reduce(
    (n, c) => n + (typeof c['restartCount'] === 'number' ? c['restartCount'] : 0),
    0,
  );
  let lastRestart = 0;
  for (const c of statuses) {
    const fin = obj(obj(c['lastState'])['terminated'])['finishedAt'];
    if (typeof fin === 'string') lastRestart = Math.max(lastRestart, Date.parse(fin));
  }
  const restartCell =
    restarts > 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : restarts;
  return [
    pod.metadata.name,
    `${ready}/${arr(spec['containers']).length + sidecars.size}`,
    podStatus(pod),
    restartCell,
    age(pod, now),
    String(status['podIP'] ?? '<none>'),
    String(spec['nodeName'] ?? '<none>'),
    '<none>',
    '<none>',
  ];
}

function servicePorts(svc: KubeObject): string {
  const ports = arr(obj(svc['spec'])['ports']);
  if (ports.length === 0) return '<none>';
  return ports
    .map(
      (p) =>
        `${String(p['port'])}${p['nodePort'] ? ':' + String(p['nodePort']) : ''}/${String(p['protocol'] ?? 'TCP')}`,
    )
    .join(',');
}

function selectorString(sel: unknown): string {
  const entries = Object.entries(obj(sel));
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(',') : '<none>';
}

interface Printer {
  columns: TableColumn[];
  row(o: KubeObject, now: number): Cell[];
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Ready'),
      col('Status'),
      col('Restarts', 'string'),
      col('Age'),
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    row: podRow,
  },
  Namespace: {
    columns: [col('Name', 'string', 0, 'name'), col('Status'), col('Age')],
    row: (o, now) => [o.metadata.name, String(obj(o['status'])['phase'] ?? 'Active'), age(o, now)],
  },
  Service: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      col('Age'),
      col('Selector', 'string', 1),
    ],
    row: (o, now) => {
      const spec = obj(o['spec']);
      return [
        o.metadata.name,
        String(spec['type'] ?? 'ClusterIP'),
        String(spec['clusterIP'] ?? '<none>'),
        '<none>',
        servicePorts(o),
        age(o, now),
        selectorString(spec['selector']),
      ];
    },
  },
  Deployment: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      col('Age'),
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (o, now) => {
      const spec = obj(o['spec']);
      const st = obj(o['status']);
      const containers = arr(obj(obj(spec['template'])['spec'])['containers']);
      return [
        o.metadata.name,
        `${Number(st['readyReplicas'] ?? 0)}/${Number(spec['replicas'] ?? 1)}`,
        Number(st['updatedReplicas'] ?? 0),
        Number(st['availableReplicas'] ?? 0),
        age(o, now),
        containers.map((c) => String(c['name'])).join(','),
        containers.map((c) => String(c['image'])).join(','),
        selectorString(obj(spec['selector'])['matchLabels']),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      col('Age'),
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (o, now) => {
      const spec = obj(o['spec']);
      const st = obj(o['status']);
      const containers = arr(obj(obj(spec['template'])['spec'])['containers']);
      return [
        o.metadata.name,
        Number(spec['replicas'] ?? 0),
        Number(st['replicas'] ?? 0),
        Number(st['readyReplicas'] ?? 0),
        age(o, now),
        containers.map((c) => String(c['name'])).join(','),
        containers.map((c) => String(c['image'])).join(','),
        selectorString(obj(spec['selector'])['matchLabels']),
      ];
    },
  },
  EndpointSlice: {
    columns: [
      col('Name', 'string', 0, 'name'),
      col('AddressType'),
      col('Ports'),
      col('Endpoints'),
      col('Age'),
    ],
    row: (o, now) => {
      const ports = arr(o['ports']).map((p) => String(p['port'] ?? ''));
      const addrs = arr(o['endpoints']).flatMap((e) =>
        Array.isArray(e['addresses']) ? (e['addresses'] as string[]) : [],
      );
      const shown =
        addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
      return [
        o.metadata.name,
        String(o['addressType'] ?? ''),
        ports.length ? ports.join(',') : '<unset>',
        shown || '<unset>',
        age(o, now),
      ];
    },
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
    row: (o, now) => {
      const inv = obj(o['involvedObject']);
      const last = o['lastTimestamp'] ?? o['eventTime'] ?? o.metadata['creationTimestamp'];
      return [
        typeof last === 'string' ? humanDuration(now - Date.parse(last)) : '<unknown>',
        String(o['type'] ?? ''),
        String(o['reason'] ?? ''),
        `${String(inv['kind'] ?? '').toLowerCase()}/${String(inv['name'] ?? '')}`,
        String(o['message'] ?? ''),
      ];
    },
  },
  Secret: {
    columns: [col('Name', 'string', 0, 'name'), col('Type'), col('Data', 'integer'), col('Age')],
    row: (o, now) => [
      o.metadata.name,
      String(o['type'] ?? 'Opaque'),
      Object.keys(obj(o['data'])).length,
      age(o, now),
    ],
  },
  ConfigMap: {
    columns: [col('Name', 'string', 0, 'name'), col('Data', 'integer'), col('Age')],
    row: (o, now) => [
      o.metadata.name,
      Object.keys(obj(o['data'])).length + Object.keys(obj(o['binaryData'])).length,
      age(o, now),
    ],
  },
  ServiceAccount: {
    columns: [col('Name', 'string', 0, 'name'), col('Secrets', 'integer'), col('Age')],
    row: (o, now) => [o.metadata.name, arr(o['secrets']).length, age(o, now)],
  },
  MutatingWebhookConfiguration: {
    columns: [col('Name', 'string', 0, 'name'), col('Webhooks', 'integer'), col('Age')],
    row: (o, now) => [o.metadata.name, arr(o['webhooks']).length, age(o, now)],
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Age')],
  row: (o, now) => [o.metadata.name, age(o, now)],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(o: KubeObject, include: IncludeObject): O | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  info: ResourceInfo,
  objects: readonly KubeObject[],
  opts: {
    now: number;
    include: IncludeObject;
    resourceVersion?: string;
    continue?: string;
    noHeaders?: boolean;
  },
): O {
  const p = PRINTERS[info.kind] ?? DEFAULT_PRINTER;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}),
      ...(opts.continue ? { continue: opts.continue } : {}),
    },
    columnDefinitions: opts.noHeaders ? [] : p.columns,
    rows: objects.map((o) => {
      const ro = rowObject(o, opts.include);
      return { cells: p.row(o, opts.now), ...(ro ? { object: ro } : {}) };
    }),
  };
}

/** True when an Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => /;\s*as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

/** The Table version requested first (v1 or v1beta1). */
export function tableVersion(accept: string): string {
  for (const part of accept.split(',')) {
    if (/;\s*as=Table/.test(part)) {
      const m = part.match(/;\s*v=([a-z0-9]+)/);
      return m ? m[1]! : 'v1';
    }
  }
  return 'v1';
}
