import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | undefined;

/** The project's package.json, found by walking up from this file (source or dist/). */
function project(): { root: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'fsm' && pkg.version) return (cached = { root: dir, version: pkg.version });
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  return (cached = { root: process.cwd(), version: 'unknown' });
}

/** The fsm version: `version` of the project's package.json. */
export function fsmVersion(): string {
  return project().version;
}

/** The built entry point of one of fsm's binaries: <project>/dist/cmd/<name>/main.js. */
export function builtBinaryPath(name: 'fsm' | 'fsm-controller' | 'fsm-injector' | 'fsm-healthcheck'): string {
  return join(project().root, 'dist', 'cmd', name, 'main.js');
}

/** A file of the project by its path from the project's root (the native addon's build, dist/ entries). */
export function projectFile(...parts: string[]): string {
  return join(project().root, ...parts);
}
