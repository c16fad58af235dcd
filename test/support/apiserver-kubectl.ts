/**
 * Runs the machine's kubectl against a sandbox API server: an isolated HOME and cache directory,
 * KUBECONFIG pointing at the server's file. kubectl comes from $KUBECTL or PATH (`make tools`
 * installs Debian's kubernetes-client when absent).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findKubectl(): string | undefined {
  if (process.env['KUBECTL']) return process.env['KUBECTL'];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, 'kubectl');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Kubectl {
  constructor(
    readonly bin: string,
    private readonly kubeconfigPath: string,
    private readonly home: string,
  ) {}

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.home,
      KUBECONFIG: this.kubeconfigPath,
      KUBECTL_INTERACTIVE_DELETE: '',
    };
  }

  private args(args: string[]): string[] {
    return ['--cache-dir', join(this.home, 'kube-cache'), ...args];
  }

  run(args: string[], input?: string): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.bin,
        this.args(args),
        { env: this.env(), timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          if (err && code === -1) reject(err);
          else resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  /** Starts a long-running kubectl (e.g. get -w); the caller stops it with stop(). */
  spawn(args: string[]): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
    const child = spawn(this.bin, this.args(args), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return {
      child,
      output: () => out,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }
}

/**
 * Debian bookworm's kubectl 1.20 (kubernetes-client), which speaks only SPDY for port-forward:
 * $KUBECTL_120, else .tools/kubernetes-client/usr/bin/kubectl as `make tools` extracts it.
 * Undefined when absent (its tests are then skipped).
 */
export function findKubectl120(root: string): string | undefined {
  const candidates = [
    process.env['KUBECTL_120'],
    join(root, '.tools', 'kubernetes-client', 'usr', 'bin', 'kubectl'),
  ];
  for (const p of candidates) {
    if (!p) continue;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
