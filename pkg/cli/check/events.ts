/** Check 5: no recent Unhealthy or Killing events about the pod (kubelet's probes fail). */
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Check } from './types.js';

/** Events that mean kubelet's probes fail. */
export const PROBE_EVENT_REASONS: readonly string[] = ['Unhealthy', 'Killing'];
/** Most event lines shown. */
export const MAX_EVENT_LINES = 10;

function eventTime(e: CoreV1Event): number | undefined {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(String(t));
  return Number.isNaN(ms) ? undefined : ms;
}

export const eventsCheck: Check = {
  id: 'events',
  title: ({ input }) => `No recent Unhealthy or Killing events (last ${input.eventsSince})`,
  run({ input: inp, namespace: ns, pod: name }) {
    const since = inp.now.getTime() - inp.eventsSinceMs;
    const uid = inp.pod.metadata?.uid;
    const recent = inp.events
      .filter((e) => (e.involvedObject.kind ?? 'Pod') === 'Pod' && e.involvedObject.name === name)
      .filter((e) => !uid || !e.involvedObject.uid || e.involvedObject.uid === uid)
      .filter((e) => PROBE_EVENT_REASONS.includes(e.reason ?? ''))
      .map((e) => ({ e, t: eventTime(e) }))
      .filter((x) => x.t === undefined || x.t >= since)
      .sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
    if (recent.length === 0) return { status: 'pass', details: ['none'] };
    const shown = recent.slice(-MAX_EVENT_LINES);
    const details = shown.map(({ e }) => {
      const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
      return `${e.type ?? 'Warning'} ${e.reason}${count}: ${(e.message ?? '').trim()}`;
    });
    if (recent.length > shown.length)
      details.unshift(`${recent.length - shown.length} older events not shown`);
    const killed = recent.some((x) => x.e.reason === 'Killing');
    return {
      status: 'fail',
      details,
      fix:
        `kubelet's probes fail${killed ? ' and containers were restarted' : ''}: check the probe targets above ` +
        `answer inside the pod; kubectl -n ${ns} describe pod ${name} shows the history`,
    };
  },
};
