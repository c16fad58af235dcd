/**
 * HTTP field syntax of probe paths and headers: the one definition the injector (what it can rewrite),
 * the record decoder (what it accepts) and the comparison use. Grammar from RFC 9110 (HTTP Semantics)
 * and RFC 5234 (ABNF core rules).
 */

/**
 * RFC 9110 §5.1: `field-name = token`; §5.6.2: `token = 1*tchar`,
 * `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
 * What Envoy and kubelet accept as a header name (a pseudo-header such as `:path` is not a token).
 */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 5234 §B.1: `CTL = %x00-1F / %x7F`. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CTL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CTL_ALL = /[\u0000-\u001f\u007f]/g;

/**
 * RFC 9110 §5.5: `field-value = *field-content`, built of VCHAR, obs-text (%x80-FF), SP and HTAB:
 * every control character but HTAB is out (CR, LF and NUL would end or split the field).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_FIELD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** A header (field) name: an RFC 9110 token. */
export function isHeaderName(s: unknown): s is string {
  return typeof s === 'string' && TOKEN.test(s);
}

/** A header (field) value: no control character except horizontal tab. */
export function isHeaderValue(s: unknown): s is string {
  return typeof s === 'string' && !NOT_FIELD_VALUE.test(s);
}

/**
 * Whether `s` holds a control character (CTL). None can travel in a request line, and kubelet cannot
 * send them in a path; spaces and non-ASCII characters are fine (kubelet percent-encodes them).
 */
export function hasControlChar(s: string): boolean {
  return CTL.test(s);
}

/** `s` with every control character replaced by `by` (for text that travels in an HTTP header). */
export function replaceControlChars(s: string, by: string): string {
  return s.replace(CTL_ALL, by);
}
