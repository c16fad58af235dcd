/**
 * Container logs as a node keeps them: one file per container per start (restart count), each line
 * in the CRI format `<RFC3339Nano> <stdout|stderr> <F|P> <text>` (F: the line ends; P: a partial line
 * continues), under <root>/<namespace>_<pod>_<uid>/<container>/<restart>.log. The API server reads
 * them through PodLogSource (pods/<name>/log: kubectl logs -c, --previous, -f, --tail, --since,
 * --timestamps). A pod's logs go when the pod goes, as on a node.
 */
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ContainerLogFile, PodLogSource } from '../apiserver/index.js';

export type LogStreamName = 'stdout' | 'stderr';

/** One container start's log: write text, or pipe a process's stdout/stderr into stream(). */
export class ContainerLog {
  private readonly file: WriteStream;
  private readonly partial: Record<LogStreamName, string> = { stdout: '', stderr: '' };
  private done = false;
  readonly ended: Promise<void>;

  constructor(readonly path: string) {
    this.file = createWriteStream(path, { flags: 'a' });
    this.ended = new Promise((resolve) => this.file.once('close', () => resolve()));
  }

  get live(): boolean {
    return !this.done;
  }

  /** Writes text; complete lines become F lines, a trailing fragment waits for its end. */
  write(stream: LogStreamName, text: string): void {
    if (this.done) return;
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.file.write(`${new Date().toISOString()} ${stream} F ${line}\n`);
    // A very long line without a newline is flushed as partial pieces, as a runtime does.
    if (this.partial[stream].length > 16 * 1024) {
      this.file.write(`${new Date().toISOString()} ${stream} P ${this.partial[stream]}\n`);
      this.partial[stream] = '';
    }
  }

  /** A Writable feeding this log (for a child's stdout/stderr or a logger's stream). */
  stream(name: LogStreamName): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _enc, cb) => {
        this.write(name, chunk.toString());
        cb();
      },
    });
  }

  /** The instance ended: flush fragments and close the file. */
  end(): Promise<void> {
    if (!this.done) {
      for (const s of ['stdout', 'stderr'] as const) {
        if (this.partial[s]) this.file.write(`${new Date().toISOString()} ${s} F ${this.partial[s]}\n`);
        this.partial[s] = '';
      }
      this.done = true;
      this.file.end();
    }
    return this.ended;
  }
}

interface ContainerLogs {
  /** By restart count. */
  instances: ContainerLog[];
}

/** Every container log of the node. */
export class NodeLogs implements PodLogSource {
  private readonly pods = new Map<string, Map<string, ContainerLogs>>();

  constructor(private readonly root: string) {}

  private podDir(namespace: string, pod: string, uid: string): string {
    return join(this.root, `${namespace}_${pod}_${uid}`);
  }

  /** Starts the log of a container's next instance (the previous one, if any, is ended). */
  begin(namespace: string, pod: string, uid: string, container: string): ContainerLog {
    let byContainer = this.pods.get(uid);
    if (!byContainer) {
      byContainer = new Map();
      this.pods.set(uid, byContainer);
    }
    let logs = byContainer.get(container);
    if (!logs) {
      logs = { instances: [] };
      byContainer.set(container, logs);
    }
    const last = logs.instances.at(-1);
    if (last?.live) void last.end();
    const dir = join(this.podDir(namespace, pod, uid), container);
    mkdirSync(dir, { recursive: true });
    const log = new ContainerLog(join(dir, `${logs.instances.length}.log`));
    logs.instances.push(log);
    return log;
  }

  containerLog(
    _namespace: string,
    _pod: string,
    uid: string,
    container: string,
    previous: boolean,
  ): ContainerLogFile | undefined {
    const instances = this.pods.get(uid)?.get(container)?.instances ?? [];
    const last = instances.at(-1);
    // As kubelet: "previous" is the last terminated instance — the one before the running one, or
    // the last one while the container waits to start again; the current one is the newest.
    const log = previous ? (last?.live ? instances.at(-2) : last) : last;
    return log && { path: log.path, live: log.live, ended: log.ended };
  }

  /** The pod is gone: end its logs and remove its files. */
  async forget(namespace: string, pod: string, uid: string): Promise<void> {
    const byContainer = this.pods.get(uid);
    this.pods.delete(uid);
    for (const logs of byContainer?.values() ?? []) await Promise.all(logs.instances.map((l) => l.end()));
    rmSync(this.podDir(namespace, pod, uid), { recursive: true, force: true });
  }
}
