/**
 * The Node.js version every fsm binary needs, checked before anything else loads. ESM evaluates a
 * module's imports before its body, so each cmd/<binary>/main.ts imports this package FIRST: its
 * check runs before any dependency that would crash on an older Node (undici on Node 20 fails with
 * "Cannot read properties of undefined (reading 'bind')"). This file imports nothing.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The oldest Node.js the binaries run on (package.json `engines`). */
export const MIN_NODE_VERSION = '22.19.0';

/** Exit code of a binary started on a Node.js that is too old (a usage error, as a bad flag). */
export const OLD_NODE_EXIT_CODE = 2;

/** True when `version` (`v20.20.2` or `20.20.2`) is older than MIN_NODE_VERSION. */
export function nodeTooOld(version: string): boolean {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = MIN_NODE_VERSION.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] ?? 0;
    if (!Number.isFinite(h)) return true;
    if (h !== need[i]) return h < need[i]!;
  }
  return false;
}

/**
 * What a user who ran `node dist/cmd/<binary>/main.js` on an old Node reads: the version found and
 * the command that works (the launcher in bin/ runs the project's own Node 22).
 */
export function oldNodeMessage(found: string, binary: string, projectRoot: string, args: readonly string[]) {
  const major = MIN_NODE_VERSION.split('.').slice(0, 2).join('.');
  const launcher = join(projectRoot, 'bin', binary);
  const rest = args.length ? ` ${args.join(' ')}` : '';
  return (
    `${binary} needs Node ≥ ${major} (found ${found}); run it as ${launcher}${rest}\n` +
    `  (bin/${binary} uses the project's Node from node_modules/.bin, which \`make install\` provides;\n` +
    `   or put ${join(projectRoot, 'node_modules', '.bin')} first on PATH)\n`
  );
}

/** dist/cmd/<binary>/main.js → <binary>; the project root is three levels above this file in dist/. */
function whoAmI(): { binary: string; root: string } {
  const script = process.argv[1] ?? '';
  const binary = basename(dirname(script)) || 'fsm';
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return { binary, root };
}

/** Exits with OLD_NODE_EXIT_CODE and the message on stderr when this Node is too old. */
export function exitIfNodeTooOld(version: string = process.version): void {
  if (!nodeTooOld(version)) return;
  const { binary, root } = whoAmI();
  process.stderr.write(oldNodeMessage(version, binary, root, process.argv.slice(2)));
  process.exit(OLD_NODE_EXIT_CODE);
}
