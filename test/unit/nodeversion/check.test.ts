import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_NODE_VERSION, nodeTooOld, oldNodeMessage } from '../../../pkg/nodeversion/index.js';

describe('the Node.js version guard', () => {
  it.each([
    ['v20.20.2', true],
    ['v22.18.9', true],
    ['22.19.0', false],
    ['v22.23.3', false],
    ['v23.0.0', false],
    ['v18.0.0', true],
    ['garbage', true],
  ])('%s too old: %s', (version, old) => {
    expect(nodeTooOld(version)).toBe(old);
  });

  it('agrees with package.json engines', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_VERSION}`);
  });

  it('names the version found and the command that works', () => {
    expect(oldNodeMessage('v20.20.2', 'fsm', '/src/fsm', ['mesh', 'list'])).toBe(
      'fsm needs Node ≥ 22.19 (found v20.20.2); run it as /src/fsm/bin/fsm mesh list\n' +
        "  (bin/fsm uses the project's Node from node_modules/.bin, which `make install` provides;\n" +
        '   or put /src/fsm/node_modules/.bin first on PATH)\n',
    );
  });
});
