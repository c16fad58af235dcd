/** Starts the built binaries (dist/cmd/<name>/main.js) for end-to-end tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('dist')) dir = dirname(dir);
  return dir;
}

export function binaryPath(name: string): string {
  const path = resolve(repoRoot(), 'dist', 'cmd', name, 'main.js');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (make test does) first`);
  return path;
}

export interface RunningBinary {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout JSON log line whose message matches. */
  waitForLog(message: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

export function startBinary(name: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningBinary {
  const child = spawn(process.execPath, [binaryPath(name), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (v: Record<string, unknown>) => void }[] = [];
  const scan = (): void => {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (w.re.test(String(parsed.message))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    scan();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, sig) => res(code ?? sig ?? -1)),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLog(message, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${name}: no log matching ${message} within ${timeoutMs}ms.\nstdout:\n${out}\nstderr:\n${err}`,
              ),
            ),
          timeoutMs,
        );
        const entry = {
          re: message,
          resolve: (v: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(v);
          },
        };
        waiters.push(entry);
        scan();
        void exited.then((code) => {
          if (waiters.includes(entry)) {
            clearTimeout(timer);
            reject(
              new Error(
                `${name} exited (${code}) before logging ${message}.\nstdout:\n${out}\nstderr:\n${err}`,
              ),
            );
          }
        });
      });
    },
  };
}

/** Runs a binary to completion (for --help, bad flags, ...). */
export async function runBinaryToExit(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const b = startBinary(name, args, env);
  const code = await b.exited;
  return { code, stdout: b.stdout(), stderr: b.stderr() };
}
