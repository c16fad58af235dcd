/**
 * How the CLI prints: aligned tables (the default), JSON or YAML (`-o table|json|yaml`). Pure: every
 * function returns the text, the command decides where it goes.
 */
import { Option } from 'commander';
import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Spaces between table columns (as kubectl prints). */
export const TABLE_COLUMN_GAP = 3;

/** `-o, --output <format>` limited to `formats`; commander rejects other values (exit 2). */
export function outputOption<F extends string>(formats: readonly F[], defaultFormat: F): Option {
  return new Option('-o, --output <format>', 'output format').choices([...formats]).default(defaultFormat);
}

/** Display width of a string: code points, so ✓ and ✗ count as one column. */
function width(s: string): number {
  return [...s].length;
}

/**
 * Columns padded to their widest cell, TABLE_COLUMN_GAP spaces apart; the last column is not
 * padded (no trailing spaces). Every line ends with a newline.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, i) => {
        const cell = cells[i] ?? '';
        return i === headers.length - 1
          ? cell
          : cell + ' '.repeat(widths[i]! - width(cell) + TABLE_COLUMN_GAP);
      })
      .join('')
      .trimEnd() + '\n';
  return [headers, ...rows].map(line).join('');
}

/** Two-space indented JSON with a final newline. */
export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Block-style YAML (the `yaml` package) with a final newline. */
export function renderYaml(value: unknown): string {
  return stringify(value, { indent: 2, lineWidth: 0 });
}

/** JSON or YAML of `value`; for `table`, the caller's table text. */
export function render(format: OutputFormat, value: unknown, table: () => string): string {
  switch (format) {
    case 'json':
      return renderJson(value);
    case 'yaml':
      return renderYaml(value);
    case 'table':
      return table();
  }
}
