/**
 * isEntryPoint: true in the file node was started with (also through a symlink), false in a module
 * it imported and for a URL of no file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEntryPoint } from '../../../pkg/binary/index.js';
import { projectFile } from '../../../pkg/binary/index.js';

const built = pathToFileURL(projectFile('dist', 'pkg', 'binary', 'entry-point.js')).href;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fsm-entry-'));
  writeFileSync(
    path.join(dir, 'lib.mjs'),
    `import { isEntryPoint } from ${JSON.stringify(built)};\nexport const lib = isEntryPoint(import.meta.url);\n`,
  );
  writeFileSync(
    path.join(dir, 'main.mjs'),
    `import { isEntryPoint } from ${JSON.stringify(built)};\nimport { lib } from './lib.mjs';\n` +
      `console.log(JSON.stringify({ main: isEntryPoint(import.meta.url), lib }));\n`,
  );
  symlinkSync(path.join(dir, 'main.mjs'), path.join(dir, 'link.mjs'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isEntryPoint', () => {
  it.each(['main.mjs', 'link.mjs'])('node %s: the started file is, the imported one is not', (file) => {
    const out = execFileSync(process.execPath, [path.join(dir, file)], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ main: true, lib: false });
  });

  it('a URL of no file is not the entry point', () => {
    expect(isEntryPoint(pathToFileURL(path.join(dir, 'missing.mjs')).href)).toBe(false);
  });
});
