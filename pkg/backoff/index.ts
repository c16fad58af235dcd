/** pkg/backoff — capped exponential backoff with jitter, the one retry policy of fsm. */
export { Backoff, backoffDelayMs } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
