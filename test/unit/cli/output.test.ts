import { parse as parseYaml } from 'yaml';
import { InvalidArgumentError } from 'commander';
import { parseControllerUrl } from '../../../pkg/cli/flags.js';
import { render, renderJson, renderTable, renderYaml } from '../../../pkg/cli/output.js';

describe('renderTable', () => {
  const cases: [string, string[], string[][], string][] = [
    ['header only', ['A', 'B'], [], 'A   B\n'],
    [
      'pads to the widest cell, 3 spaces apart',
      ['NAME', 'X'],
      [
        ['a', '1'],
        ['longer', '22'],
      ],
      'NAME     X\na        1\nlonger   22\n',
    ],
    ['no trailing spaces when the last cell is empty', ['A', 'B'], [['x', '']], 'A   B\nx\n'],
    ['missing cells are empty', ['A', 'B', 'C'], [['x']], 'A   B   C\nx\n'],
    [
      'counts ✓ and ✗ as one column',
      ['S', 'N'],
      [
        ['✓', 'a'],
        ['✗✗', 'b'],
      ],
      'S    N\n✓    a\n✗✗   b\n',
    ],
    [
      'a header wider than its cells',
      ['SIDECAR-INJECTION', 'Z'],
      [['-', 'z']],
      'SIDECAR-INJECTION   Z\n-                   z\n',
    ],
  ];
  it.each(cases)('%s', (_name, headers, rows, want) => {
    expect(renderTable(headers, rows)).toBe(want);
  });
});

describe('render', () => {
  const value = [{ name: 'fsm', namespaces: ['a', 'b'], version: 'Unknown', n: 1, empty: [] as string[] }];
  it('json is indented, ends with a newline and parses back', () => {
    const out = renderJson(value);
    expect(out.endsWith('}\n]\n')).toBe(true);
    expect(out).toContain('\n  {\n    "name": "fsm"');
    expect(JSON.parse(out)).toEqual(value);
  });
  it('yaml parses back to the same value', () => {
    const out = renderYaml(value);
    expect(out).toContain('- name: fsm\n  namespaces:\n    - a\n');
    expect(parseYaml(out)).toEqual(value);
  });
  it('dispatches on the format and only builds the table for table', () => {
    let built = 0;
    const table = (): string => {
      built++;
      return 'T\n';
    };
    expect(render('table', value, table)).toBe('T\n');
    expect(render('json', value, table)).toBe(renderJson(value));
    expect(render('yaml', value, table)).toBe(renderYaml(value));
    expect(built).toBe(1);
  });
});

describe('parseControllerUrl', () => {
  it.each([
    ['http://127.0.0.1:9091', 'http://127.0.0.1:9091'],
    ['http://127.0.0.1:9091/', 'http://127.0.0.1:9091'],
    ['https://fsm-controller.fsm-system.svc:9091', 'https://fsm-controller.fsm-system.svc:9091'],
    ['http://h:9091/prefix/', 'http://h:9091/prefix'],
  ])('accepts %s', (input, want) => {
    expect(parseControllerUrl(input)).toBe(want);
  });
  it.each([
    ['127.0.0.1:9091', 'must be an absolute http:// or https:// URL.'],
    ['localhost:9091', 'must be an absolute http:// or https:// URL.'],
    ['not a url', 'must be an absolute http:// or https:// URL.'],
    ['ftp://h', 'must use http or https, not ftp.'],
    ['http://h:9091/?x=1', 'must not have a query or fragment.'],
    ['http://h:9091/#x', 'must not have a query or fragment.'],
  ])('rejects %s', (input, message) => {
    let err: unknown;
    try {
      parseControllerUrl(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe(message);
  });
});
