export { compareProbe, resolveProbePort } from './compare.js';
export type { LiveContainer, LiveHttpGet, LiveProbe, ProbeDrift, ProbeDriftKind } from './compare.js';
export { hasControlChar, isHeaderName, isHeaderValue, replaceControlChars } from './http-syntax.js';
export {
  ORIGINAL_PROBES_VERSION,
  formatOriginalProbes,
  originalHandler,
  parseOriginalProbes,
} from './record.js';
export type {
  GrpcOriginalProbe,
  HttpOriginalProbe,
  HttpsOriginalProbe,
  OriginalHandlerView,
  OriginalProbe,
  OriginalProbeKind,
  OriginalProbesAnnotation,
  OriginalProbesByContainer,
  ParsedOriginalProbes,
  ProbeHeader,
  RewrittenTarget,
  TcpOriginalProbe,
} from './record.js';
export {
  effectiveTimeoutSeconds,
  keepsHttpsPath,
  recordProbe,
  rewriteProbe,
  rewrittenHttpGet,
  rewrittenTarget,
} from './rewrite.js';
export type { OriginalHandler, ProbeSlot, RewrittenHttpGet } from './rewrite.js';
