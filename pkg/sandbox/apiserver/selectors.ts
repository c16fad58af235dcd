/**
 * Label and field selectors as the Kubernetes API accepts them in `labelSelector` / `fieldSelector`.
 * Pure: parse once, match many times.
 */

export type LabelRequirement =
  | { key: string; op: 'exists' }
  | { key: string; op: 'notexists' }
  | { key: string; op: 'eq'; value: string }
  | { key: string; op: 'neq'; value: string }
  | { key: string; op: 'in'; values: string[] }
  | { key: string; op: 'notin'; values: string[] };

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

const KEY_RE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, selector: string): string {
  if (!KEY_RE.test(key) || key.length > 317) {
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  }
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!VALUE_RE.test(value) || value.length > 63) {
    throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${selector}"`);
  }
  return value;
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  for (const part of splitTop(selector)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
        .map((v) => checkValue(v, selector));
      if (values.length === 0) throw new SelectorError(`unable to parse requirement: empty set in "${part}"`);
      reqs.push({ key: checkKey(m[1]!, selector), op: m[2] === 'in' ? 'in' : 'notin', values });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]!, selector), op: 'notexists' });
    } else if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      const key = checkKey(m[1]!, selector);
      const value = checkValue(m[3]!, selector);
      reqs.push(m[2] === '!=' ? { key, op: 'neq', value } : { key, op: 'eq', value });
    } else if ((m = part.match(/^([^=!\s()]+)$/))) {
      reqs.push({ key: checkKey(m[1]!, selector), op: 'exists' });
    } else {
      throw new SelectorError(`unable to parse requirement: "${part}" in label selector "${selector}"`);
    }
  }
  return reqs;
}

export function matchesLabels(
  reqs: readonly LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const req of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, req.key);
    const v = l[req.key];
    switch (req.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case 'eq':
        if (!has || v !== req.value) return false;
        break;
      case 'neq':
        if (has && v === req.value) return false;
        break;
      case 'in':
        if (!has || !req.values.includes(v!)) return false;
        break;
      case 'notin':
        if (has && req.values.includes(v!)) return false;
        break;
    }
  }
  return true;
}

export interface FieldRequirement {
  /** Dotted path, e.g. metadata.name or involvedObject.uid. */
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

/** Field selectors: `a.b=c`, `a.b==c`, `a.b!=c`, comma separated; `\,` escapes a comma in a value. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (ch === '\\' && i + 1 < selector.length) {
      cur += selector[++i];
    } else if (ch === ',') {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const part = raw.trim();
    if (!part) continue;
    const m = part.match(/^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid field selector: "${part}" in "${selector}"`);
    out.push({ field: m[1]!, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]! });
  }
  return out;
}

function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function matchesFields(reqs: readonly FieldRequirement[], obj: unknown): boolean {
  for (const req of reqs) {
    const v = fieldValue(obj, req.field);
    if (req.op === 'eq' ? v !== req.value : v === req.value) return false;
  }
  return true;
}
