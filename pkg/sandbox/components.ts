/**
 * The sandbox runs fsm-injector and fsm-controller as the real built binaries, each in its own
 * process with its log in <dir>/logs/<name>.log; their JSON log lines tell the sandbox when (and on
 * which port) they serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtBinaryPath } from '../binary/index.js';

export interface Component {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the first JSON log line whose message matches (rejects if the process exits first). */
  waitForLog(message: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function startComponent(
  name: 'fsm-controller' | 'fsm-injector',
  args: string[],
  logDir: string,
): Component {
  const bin = builtBinaryPath(name);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make build\` first`);
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (l: Record<string, unknown>) => void }>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    log.write(chunk);
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(String(line.message))) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => log.write(d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => log.end());
  return {
    name,
    child,
    logFile,
    waitForLog(message, timeoutMs = 20_000) {
      const found = lines.find((l) => message.test(String(l.message)));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} did not log ${message} within ${timeoutMs} ms (see ${logFile})`)),
          timeoutMs,
        );
        const w = {
          re: message,
          resolve: (l: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.add(w);
        void exited.then((code) => {
          if (waiters.delete(w)) {
            clearTimeout(timer);
            reject(
              new Error(`${name} exited with code ${code} before it logged ${message} (see ${logFile})`),
            );
          }
        });
      });
    },
    async stop(graceMs = 6000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
