export { addVerbosityOption, runBinary } from './binary.js';
export {
  parseDnsLabel,
  parseDuration,
  parseHost,
  parseListenPort,
  parseNonEmpty,
  parsePortList,
  parsePositiveInt,
} from './flags.js';
export { bindHost, listen } from './listen.js';
export { builtBinaryPath, fsmVersion } from './version.js';
