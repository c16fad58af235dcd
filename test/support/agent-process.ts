/**
 * Spawns the built probe agent entry (dist/pkg/sandbox/agent/cli.js) for end-to-end tests: JSON log
 * lines on stdout, the exit code, SIGTERM. `npm run build` (make test runs it) must have run first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './process.js';

export function agentCliPath(): string {
  const path = resolve(repoRoot(), 'dist', 'pkg', 'sandbox', 'agent', 'cli.js');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (make test does) first`);
  return path;
}

export interface AgentProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first log line for which `match` holds (now or later); rejects if the process exits first. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

export function startAgentProcess(args: string[]): AgentProcess {
  const child = spawn(process.execPath, [agentCliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, sig) => res(code ?? sig ?? -1)),
  );
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of [...waiters]) w();
  });
  return {
    child,
    logs: () => [...lines],
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLog: (match) =>
      new Promise((resolvePromise, reject) => {
        const check = (): void => {
          const found = lines.find(match);
          if (found) {
            waiters.delete(check);
            resolvePromise(found);
          } else if (done) {
            waiters.delete(check);
            reject(
              new Error(
                `agent exited before the expected log line.\nstdout: ${JSON.stringify(lines)}\nstderr: ${err}`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      }),
  };
}
