/**
 * pkg/nodeversion — the Node.js version guard. Importing this package runs the check: every
 * cmd/<binary>/main.ts imports it first, so an old Node exits 2 with a message naming the command
 * that works, before any module that would crash on it is evaluated.
 */
import { exitIfNodeTooOld } from './check.js';

exitIfNodeTooOld();

export { MIN_NODE_VERSION, OLD_NODE_EXIT_CODE, nodeTooOld, oldNodeMessage } from './check.js';
