/**
 * Whether a module is the process's entry point (`node <that file>`), for files that are both a
 * library and a command (the sandbox's probe agent and demo apps run as their own processes in
 * namespace mode). Symlinks resolved on both sides.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
