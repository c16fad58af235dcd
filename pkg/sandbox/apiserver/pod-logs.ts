/**
 * The pods/log connect subresource (GET /api/v1/namespaces/<ns>/pods/<name>/log), as
 * kube-apiserver serves it from the kubelet: container (required when the pod has several),
 * previous, follow, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes, and its error texts.
 * The node keeps the files (CRI lines: `<RFC3339Nano> <stream> <F|P> <text>`); a PodLogSource says
 * which file is a container's current or previous instance.
 */
import { open, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { SubresourceHandler } from './connect.js';
import type { KubeObject } from './store.js';
import { badRequest, invalid, notFound } from './status.js';
import { isObj } from './objects.js';

export interface ContainerLogFile {
  path: string;
  /** The instance still runs: a follow waits for more. */
  live: boolean;
  /** Resolves when the instance has ended and its file is complete. */
  ended: Promise<void>;
}

/** The node's side of pods/log. */
export interface PodLogSource {
  containerLog(
    namespace: string,
    pod: string,
    uid: string,
    container: string,
    previous: boolean,
  ): ContainerLogFile | undefined;
}

export interface LogOptions {
  container?: string;
  previous: boolean;
  follow: boolean;
  timestamps: boolean;
  tailLines?: number;
  /** Lines at or after this time (ms since epoch). */
  sinceMs?: number;
  limitBytes?: number;
}

type O = Record<string, unknown>;

function names(list: unknown): string[] {
  return Array.isArray(list) ? (list as O[]).map((c) => String(c['name'])) : [];
}

/** Parses and validates the query as kube-apiserver does (422 naming the field). */
export function logOptions(q: URLSearchParams, now = Date.now()): LogOptions {
  const bool = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1';
  const int = (k: string, min: number): number | undefined => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw invalid('', 'PodLogOptions', '', [
        { field: k, message: `Invalid value: ${v}: must be greater than or equal to ${min}` },
      ]);
    }
    return n;
  };
  const sinceSeconds = int('sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) {
    throw invalid('', 'PodLogOptions', '', [
      {
        field: 'sinceSeconds',
        message: 'Forbidden: at most one of sinceTime or sinceSeconds may be specified',
      },
    ]);
  }
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw badRequest(`parsing time "${sinceTime}" as RFC3339: cannot parse`);
  }
  return {
    container: q.get('container') || undefined,
    previous: bool('previous'),
    follow: bool('follow'),
    timestamps: bool('timestamps'),
    tailLines: int('tailLines', 0),
    sinceMs,
    limitBytes: int('limitBytes', 1),
  };
}

/** The container a request is about, or kube-apiserver's 400 naming the choices. */
export function pickContainer(pod: KubeObject, requested: string | undefined): string {
  const spec = isObj(pod['spec']) ? pod['spec'] : {};
  const containers = names(spec['containers']);
  const inits = names(spec['initContainers']);
  const name = pod.metadata.name;
  if (requested === undefined) {
    if (containers.length === 1) return containers[0]!;
    const initPart = inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : '';
    throw badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initPart}`,
    );
  }
  if (!containers.includes(requested) && !inits.includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

/** Why a container has no current log: kube-apiserver's "is waiting to start" with the reason. */
function waitingReason(pod: KubeObject, container: string): string {
  const status = isObj(pod['status']) ? pod['status'] : {};
  for (const list of ['containerStatuses', 'initContainerStatuses']) {
    for (const cs of (Array.isArray(status[list]) ? status[list] : []) as O[]) {
      if (cs['name'] !== container) continue;
      const w =
        isObj(cs['state']) && isObj((cs['state'] as O)['waiting'])
          ? ((cs['state'] as O)['waiting'] as O)
          : {};
      if (typeof w['reason'] === 'string') return w['reason'];
    }
  }
  return 'ContainerCreating';
}

interface CriLine {
  time: string;
  ms: number;
  partial: boolean;
  text: string;
}

/** One CRI line; undefined for a malformed one (skipped). */
export function parseCriLine(line: string): CriLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
  if (!m) return undefined;
  const ms = Date.parse(m[1]!);
  if (Number.isNaN(ms)) return undefined;
  return { time: m[1]!, ms, partial: m[3] === 'P', text: m[4]! };
}

/** What a CRI line prints as (with `--timestamps`, the time first). */
export function formatCriLine(l: CriLine, timestamps: boolean): string {
  return `${timestamps ? `${l.time} ` : ''}${l.text}${l.partial ? '' : '\n'}`;
}

class Output {
  private written = 0;
  constructor(
    private readonly res: ServerResponse,
    private readonly limit: number | undefined,
  ) {}
  /** False once the byte limit is reached (the response is then ended). */
  write(text: string): boolean {
    if (this.res.writableEnded) return false;
    let chunk = Buffer.from(text);
    if (this.limit !== undefined && this.written + chunk.length >= this.limit) {
      chunk = chunk.subarray(0, this.limit - this.written);
      this.res.end(chunk);
      return false;
    }
    this.written += chunk.length;
    this.res.write(chunk);
    return true;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Streams the log of one container instance, as kubelet's log handler does. */
async function streamLog(file: ContainerLogFile, o: LogOptions, res: ServerResponse): Promise<void> {
  const out = new Output(res, o.limitBytes);
  const fh = await open(file.path, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    let pos = 0;
    let carry = '';
    const readNew = async (): Promise<string[]> => {
      const size = (await stat(file.path)).size;
      if (size <= pos) return [];
      const buf = Buffer.alloc(size - pos);
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      pos += bytesRead;
      const parts = (carry + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
      carry = parts.pop() ?? '';
      return parts;
    };
    const emit = (lines: string[]): boolean => {
      for (const raw of lines) {
        const l = parseCriLine(raw);
        if (!l || (o.sinceMs !== undefined && l.ms < o.sinceMs)) continue;
        if (!out.write(formatCriLine(l, o.timestamps))) return false;
      }
      return true;
    };
    let first = await readNew();
    if (o.tailLines !== undefined) {
      const kept = first.filter((raw) => {
        const l = parseCriLine(raw);
        return l && (o.sinceMs === undefined || l.ms >= o.sinceMs);
      });
      first = o.tailLines === 0 ? [] : kept.slice(-o.tailLines);
    }
    if (!emit(first)) return;
    if (!o.follow) return;
    let ended = !file.live;
    void file.ended.then(() => (ended = true));
    let closed = false;
    res.once('close', () => (closed = true));
    while (!closed) {
      const lines = await readNew();
      if (!emit(lines)) return;
      if (ended && lines.length === 0) {
        // One last read after the end: whatever was flushed while we slept.
        if (!emit(await readNew())) return;
        return;
      }
      await sleep(100);
    }
  } finally {
    await fh.close();
  }
}

/** The pods/log handler over the node's files (the source is read per request). */
export function podLogHandler(source: () => PodLogSource | undefined): SubresourceHandler {
  return {
    async serve({ route, store }, res) {
      const pod = store.get('pods', route.namespace, route.name!);
      if (!pod) throw notFound('', 'pods', route.name!);
      const o = logOptions(route.query);
      const container = pickContainer(pod, o.container);
      const name = pod.metadata.name;
      const file = source()?.containerLog(
        route.namespace!,
        name,
        String(pod.metadata['uid']),
        container,
        o.previous,
      );
      if (!file) {
        if (o.previous)
          throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
        throw badRequest(
          `container "${container}" in pod "${name}" is waiting to start: ${waitingReason(pod, container)}`,
        );
      }
      res.writeHead(200, {
        'Content-Type': 'text/plain',
        'Cache-Control': 'no-cache, private',
        'Transfer-Encoding': 'chunked',
      });
      await streamLog(file, o, res);
      if (!res.writableEnded) res.end();
    },
  };
}
