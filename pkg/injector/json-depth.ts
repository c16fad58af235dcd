/**
 * Nesting depth of a JSON text, measured before it is parsed. Everything downstream of JSON.parse
 * that walks a value recursively (error rendering, the JSON-patch diff, JSON.stringify of the
 * answer) overflows the stack on a value nested thousands deep, which no Kubernetes object ever is
 * (the deepest Pod fields sit about 12 levels into an AdmissionReview). A body deeper than the
 * limit is refused up front, naming where the nesting goes too deep. One linear pass, no
 * recursion, no allocation per character; it does not validate the JSON (JSON.parse does).
 */

export interface DeepNesting {
  /** Where the limit is crossed, e.g. `request.object.spec.volumes[0][0]…`. */
  path: string;
  /** Byte offset (UTF-16 index) of the opening bracket that crossed the limit. */
  offset: number;
}

interface Frame {
  array: boolean;
  /** Array: index of the current element; object: raw JSON text of the current key. */
  index: number;
  key: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Longest rendering of a path in a message. */
const PATH_MAX_CHARS = 160;
const KEY_MAX_CHARS = 40;

function keyName(raw: string): string {
  let k: string;
  try {
    k = JSON.parse(raw) as string;
  } catch {
    k = raw;
  }
  if (k.length > KEY_MAX_CHARS) k = `${k.slice(0, KEY_MAX_CHARS)}…`;
  return /^[A-Za-z_$][\w$-]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/** `a.b[0][0][0][0]` → `a.b[0]×4`: a hostile path is mostly one segment repeated. */
function renderPath(frames: readonly Frame[]): string {
  const segments = frames.map((f) => (f.array ? `[${f.index}]` : keyName(f.key)));
  let out = '';
  for (let i = 0; i < segments.length && out.length <= PATH_MAX_CHARS;) {
    let j = i;
    while (j + 1 < segments.length && segments[j + 1] === segments[i]) j++;
    const run = j - i + 1;
    out += run > 3 ? `${segments[i]}×${run}` : segments.slice(i, j + 1).join('');
    i = j + 1;
  }
  if (out.length > PATH_MAX_CHARS) out = `${out.slice(0, PATH_MAX_CHARS)}…`;
  out = out.startsWith('.') ? out.slice(1) : out;
  return out === '' ? '(the top level)' : out;
}

/**
 * The first place where `text` nests arrays/objects more than `maxDepth` levels (the top-level
 * value is level 1), or undefined when it never does.
 */
export function findDeepNesting(text: string, maxDepth: number): DeepNesting | undefined {
  const stack: Frame[] = [];
  let stringStart = 0;
  let stringEnd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case QUOTE: {
        // Jump to the closing quote (indexOf is native; most of a body is inside strings): a quote
        // preceded by an odd number of backslashes is escaped.
        stringStart = i;
        let end = text.indexOf('"', i + 1);
        while (end > 0) {
          let slashes = 0;
          while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
          if (slashes % 2 === 0) break;
          end = text.indexOf('"', end + 1);
        }
        if (end < 0) return undefined; // unterminated: JSON.parse reports it
        stringEnd = end;
        i = end;
        break;
      }
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (stack.length >= maxDepth) return { path: renderPath(stack), offset: i };
        stack.push({ array: c === OPEN_BRACKET, index: 0, key: '' });
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        stack.pop();
        break;
      case COMMA: {
        const top = stack[stack.length - 1];
        if (top?.array) top.index++;
        break;
      }
      case COLON: {
        const top = stack[stack.length - 1];
        if (top && !top.array) top.key = text.slice(stringStart, stringEnd + 1);
        break;
      }
    }
  }
  return undefined;
}
