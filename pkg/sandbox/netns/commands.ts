/**
 * The machine's network tools, run as commands: iproute2's `ip` (namespaces, links, addresses,
 * routes; `-batch` for many at once), iptables-restore (nf_tables or legacy, whichever `iptables`
 * is). Every failure names the command and what it printed, so a log line says what did not work.
 */
import { execFile, type ExecFileException } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command}: ${stderr.trim() || `exit code ${String(exitCode)}`}`);
  }
}

/** Runs a command (no shell); resolves with its stdout, rejects with CommandError. */
export function run(
  file: string,
  args: readonly string[],
  input?: string,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err: ExecFileException | null, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : null;
          const text = String(stderr || (typeof err.code === 'string' ? `${err.code}: ${err.message}` : ''));
          reject(new CommandError([file, ...args].join(' ').slice(0, 300), code, text));
        } else resolve(String(stdout));
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `ip [-n ns] -batch -` with one command per line (a line is what follows `ip`). */
export function ipBatch(lines: readonly string[], namespace?: string): Promise<string> {
  return run('ip', [...(namespace ? ['-n', namespace] : []), '-batch', '-'], lines.join('\n') + '\n');
}

/** `iptables-restore` inside a namespace, with `--noflush` unless told to replace the tables. */
export function iptablesRestore(namespace: string, rules: string, noflush = true): Promise<string> {
  return run(
    'ip',
    ['netns', 'exec', namespace, 'iptables-restore', ...(noflush ? ['--noflush'] : [])],
    rules,
  );
}
