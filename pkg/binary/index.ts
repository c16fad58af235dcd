export { addVerbosityOption, runBinary } from './binary.js';
export { isEntryPoint } from './entry-point.js';
export {
  parseDnsLabel,
  parseDuration,
  parseHost,
  parseListenPort,
  parseNonEmpty,
  parsePortList,
  parsePositiveInt,
} from './flags.js';
export {
  DEFAULT_HTTP_SERVER_LIMITS,
  clientErrorResponse,
  createHttpServer,
  createHttpsServer,
} from './http-server.js';
export type { HttpServerLimits, HttpServerOptions } from './http-server.js';
export { bindHost, listen } from './listen.js';
export { builtBinaryPath, fsmVersion, projectFile } from './version.js';
