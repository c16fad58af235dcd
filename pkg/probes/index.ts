export { compareHook, compareProbe, resolveProbePort } from './compare.js';
export type {
  LiveContainer,
  LiveHandler,
  LiveHttpGet,
  LiveProbe,
  ProbeDrift,
  ProbeDriftKind,
} from './compare.js';
export { describeOriginalTarget, diagnoseProbeAnswer, probeFailureMessage } from './failure.js';
export type { ProbeAnswer, ProbeFailure, ProbeFailureCause } from './failure.js';
export { hasControlChar, isHeaderName, isHeaderValue, replaceControlChars } from './http-syntax.js';
export {
  ORIGINAL_PROBES_VERSION,
  formatOriginalProbes,
  originalHandler,
  originatesTls,
  parseOriginalProbes,
  passesTlsThrough,
} from './record.js';
export type {
  GrpcOriginalProbe,
  HttpOriginalProbe,
  HttpsOriginalProbe,
  OriginalHandlerView,
  OriginalHook,
  OriginalHooksByContainer,
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
  rewriteHook,
  rewriteProbe,
  rewrittenHttpGet,
  rewrittenTarget,
} from './rewrite.js';
export type { OriginalHandler, ProbeSlot, RewrittenHttpGet } from './rewrite.js';
export {
  CURRENT_FORMAT,
  SEED_STAMP,
  formatInjectionStamp,
  injectionInfo,
  injectionStamp,
  parseInjectionStamp,
} from './stamp.js';
export type { CurrentFormat, InjectionInfo, InjectionStamp, ParsedInjectionStamp } from './stamp.js';
