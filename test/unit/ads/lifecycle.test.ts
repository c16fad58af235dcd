import { Lifecycle, type LifecycleState } from '../../../pkg/ads/index.js';

describe('Lifecycle', () => {
  it('moves forward only and tells listeners', () => {
    const l = new Lifecycle();
    const seen: [LifecycleState, LifecycleState][] = [];
    const off = l.onChange((s, p) => seen.push([s, p]));
    expect(l.state).toBe('starting');
    expect(l.transition('serving')).toBe(true);
    expect(l.transition('starting')).toBe(false);
    expect(l.transition('serving')).toBe(false);
    expect(l.transition('draining')).toBe(true);
    off();
    expect(l.transition('stopped')).toBe(true);
    expect(seen).toEqual([
      ['serving', 'starting'],
      ['draining', 'serving'],
    ]);
    expect(l.state).toBe('stopped');
  });
});
