/**
 * Namespace-mode test helpers: whether this machine allows the sandbox's namespace mode (the same
 * probe `make run` makes: a namespace is created, given an owner rule, the proxy UID starts Node in
 * it), the machine's sandbox namespaces, and small Node programs run inside a namespace.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { SANDBOX_NETWORK_ENV } from '../../pkg/constants/index.js';
import { NAMESPACE_MODE_FILES } from '../../pkg/sandbox/index.js';
import { namespaceSupport, podCommand, type PodProcessOptions } from '../../pkg/sandbox/netns/index.js';

/** Why namespace-mode tests are skipped here (undefined: they run). */
export async function namespaceModeUnavailable(): Promise<string | undefined> {
  if (process.env[SANDBOX_NETWORK_ENV] === 'loopback') return `${SANDBOX_NETWORK_ENV}=loopback`;
  const s = await namespaceSupport(NAMESPACE_MODE_FILES);
  return s.ok ? undefined : s.reason;
}

/** `ip netns list`, names only. */
export function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** The names of the root namespace's interfaces (`ip -o link`). */
export function rootLinks(): string[] {
  return execFileSync('ip', ['-o', 'link'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n)
    .sort();
}

/** A Node program running inside a namespace; `lines` grows with its stdout. */
export interface InPod {
  lines: string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  kill(): void;
}

export function runInPod(o: PodProcessOptions, code: string, args: readonly string[] = []): InPod {
  const [file, ...rest] = podCommand(o, [process.execPath, '-e', code, ...args]);
  const child = spawn(file!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters) w();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return {
    lines,
    exited,
    kill: () => void child.kill('SIGKILL'),
    waitFor(re, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const l = lines.find((x) => re.test(x));
          if (l !== undefined) resolve(l);
          return l !== undefined;
        };
        if (check()) return;
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${re} (stdout: ${lines.join(' | ')}; stderr: ${err})`)),
          timeoutMs,
        );
        waiters.push(() => {
          if (check()) clearTimeout(timer);
        });
        void exited.then(() => setTimeout(() => check() || reject(new Error(`exited: ${err}`)), 50));
      });
    },
  };
}
