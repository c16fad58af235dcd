// Jest's global teardown: removes the network namespaces of any namespace-mode sandbox whose owner
// is gone (a suite that crashed or was killed before its afterAll), as `fsm sandbox cleanup` does.
// Sandboxes still running (another worktree's, `make run`) are left alone. Only as root, with dist/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function globalTeardown() {
  const fsm = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cmd', 'fsm', 'main.js');
  if (process.getuid?.() !== 0 || !existsSync(fsm) || !existsSync('/run/fsm-sandbox')) return;
  try {
    execFileSync(process.execPath, [fsm, 'sandbox', 'cleanup'], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    // Nothing to clean, or no iproute2: namespace mode never ran here.
  }
}
