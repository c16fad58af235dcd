import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEALTHCHECK_NODE_FLAGS, IMAGE_ENTRYPOINT_SCRIPT } from '../../../pkg/constants/index.js';
import { healthcheckContainer } from '../../../pkg/injector/containers.js';
import { repoRoot } from '../../support/process.js';

/**
 * The injected fsm-healthcheck's command replaces its image's ENTRYPOINT (to add Node flags): both
 * must run the same module, or the container starts nothing.
 */
describe('the images and the injected fsm-healthcheck command', () => {
  const dockerfile = readFileSync(join(repoRoot(), 'deploy', 'docker', 'Dockerfile'), 'utf8');

  it('the ENTRYPOINT runs IMAGE_ENTRYPOINT_SCRIPT with node, and the image writes that module', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', IMAGE_ENTRYPOINT_SCRIPT]);
    const workdir = /^WORKDIR (\S+)$/gm;
    const dirs = [...dockerfile.matchAll(workdir)].map((m) => m[1]);
    // The runtime stage's WORKDIR is where `> entrypoint.mjs` writes it.
    expect(`${dirs.at(-1)}/entrypoint.mjs`).toBe(IMAGE_ENTRYPOINT_SCRIPT);
    expect(dockerfile).toMatch(/> entrypoint\.mjs/);
  });

  it('the injected command is node, its flags, then that module', () => {
    expect(healthcheckContainer('flomesh/fsm-healthcheck:v0.1.0', [80]).command).toEqual([
      'node',
      ...HEALTHCHECK_NODE_FLAGS,
      IMAGE_ENTRYPOINT_SCRIPT,
    ]);
  });
});
