/**
 * The binaries on the machine's own Node.js (Debian's, 20 here): each exits 2 with a message naming
 * the command that works, instead of crashing in a dependency; the bin/ launchers run the project's
 * Node whatever is first on PATH. Runs when an older node exists at /usr/bin/node.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeTooOld } from '../../../pkg/nodeversion/index.js';
import { binaryPath, repoRoot } from '../../support/process.js';

const MACHINE_NODE = '/usr/bin/node';

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const machineVersion = existsSync(MACHINE_NODE)
  ? (await run(MACHINE_NODE, ['--version'], {})).stdout.trim()
  : '';
const oldNode = machineVersion !== '' && nodeTooOld(machineVersion);
/** A fresh shell's environment: the machine's PATH only, with its old node first. */
const cleanEnv = { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' };

(oldNode ? describe : describe.skip)(`binaries on the machine's Node (${machineVersion || 'none'})`, () => {
  it.each(['fsm', 'fsm-controller', 'fsm-injector', 'fsm-healthcheck'])(
    '%s exits 2 naming the launcher',
    async (name) => {
      const r = await run(MACHINE_NODE, [binaryPath(name), '--help'], cleanEnv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${name} needs Node ≥ 22.19 (found ${machineVersion}); run it as `);
      expect(r.stderr).toContain(`${join(repoRoot(), 'bin', name)} --help`);
      expect(r.stderr).not.toContain('TypeError');
    },
  );
});

describe('bin/ launchers', () => {
  it.each(['fsm', 'fsm-controller', 'fsm-injector', 'fsm-healthcheck'])(
    'bin/%s runs with the project Node from a clean PATH',
    async (name) => {
      const r = await run(join(repoRoot(), 'bin', name), ['--version'], cleanEnv);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    },
  );
});

describe('README', () => {
  it('prints no `node dist/...` command (it would fail on an older Node): the bin/ launchers instead', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(join(repoRoot(), 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.join('\n')).not.toMatch(/^\s*node dist\//m);
    expect(blocks.join('\n')).toMatch(/^bin\/fsm-healthcheck /m);
  });
});
