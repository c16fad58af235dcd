/**
 * The ADS server's lifecycle, read by the controller's /health/alive and /health/ready:
 * starting → serving (bound and accepting) → draining (stop accepting, GOAWAY, streams closed
 * after a grace period) → stopped. Transitions only move forward.
 */
export const LIFECYCLE_STATES = ['starting', 'serving', 'draining', 'stopped'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export type LifecycleListener = (state: LifecycleState, previous: LifecycleState) => void;

/** Read side given to health handlers. */
export interface LifecycleView {
  readonly state: LifecycleState;
  /** Calls `listener` on every transition; returns the unsubscribe function. */
  onChange(listener: LifecycleListener): () => void;
}

export class Lifecycle implements LifecycleView {
  private current: LifecycleState = 'starting';
  private readonly listeners = new Set<LifecycleListener>();

  get state(): LifecycleState {
    return this.current;
  }

  onChange(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Moves forward to `next`; a move backwards or to the same state is refused (returns false). */
  transition(next: LifecycleState): boolean {
    const from = LIFECYCLE_STATES.indexOf(this.current);
    const to = LIFECYCLE_STATES.indexOf(next);
    if (to <= from) return false;
    const previous = this.current;
    this.current = next;
    for (const l of [...this.listeners]) l(next, previous);
    return true;
  }
}
