export { startController } from './controller.js';
export type { RunningController } from './controller.js';
