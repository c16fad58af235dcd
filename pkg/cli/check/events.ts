/**
 * Check 5: no recent Unhealthy or Killing events about the pod (kubelet's probes fail). The root
 * causes fsm-controller found for them (ProbeTargetFailed: connection refused, timeout, the app's own
 * status, TLS failure, with the original port and path) are listed with them; kubelet's probe
 * warnings (ProbeWarning: a redirect to another host, a success) are shown as warnings.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { PROBE_TARGET_FAILED_REASON, PROBE_WARNING_REASON } from '../../constants/index.js';
import type { Check } from './types.js';

/** Events that mean kubelet's probes fail. */
export const PROBE_EVENT_REASONS: readonly string[] = ['Unhealthy', 'Killing'];
/** Events that say why a rewritten probe fails (recorded by fsm-controller). */
export const ROOT_CAUSE_EVENT_REASONS: readonly string[] = [PROBE_TARGET_FAILED_REASON];
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
    const about = inp.events
      .filter((e) => (e.involvedObject.kind ?? 'Pod') === 'Pod' && e.involvedObject.name === name)
      .filter((e) => !uid || !e.involvedObject.uid || e.involvedObject.uid === uid)
      .map((e) => ({ e, t: eventTime(e) }))
      .filter((x) => x.t === undefined || x.t >= since)
      .sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
    const recent = about.filter((x) => PROBE_EVENT_REASONS.includes(x.e.reason ?? ''));
    const causes = about.filter((x) => ROOT_CAUSE_EVENT_REASONS.includes(x.e.reason ?? ''));
    const warnings = about
      .filter((x) => x.e.reason === PROBE_WARNING_REASON)
      .slice(-MAX_EVENT_LINES)
      .map(
        ({ e }) =>
          `${e.reason}${e.count && e.count > 1 ? ` (x${e.count})` : ''}: ${(e.message ?? '').trim()}`,
      );
    const warned = warnings.length > 0 ? { warnings } : {};
    if (recent.length === 0 && causes.length === 0) return { status: 'pass', details: ['none'], ...warned };
    const shown = recent.slice(-MAX_EVENT_LINES);
    const details = shown.map(({ e }) => {
      const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
      return `${e.type ?? 'Warning'} ${e.reason}${count}: ${(e.message ?? '').trim()}`;
    });
    if (recent.length > shown.length)
      details.unshift(`${recent.length - shown.length} older events not shown`);
    // The root causes, newest last (one line each, as fsm-controller recorded them).
    for (const { e } of causes.slice(-MAX_EVENT_LINES)) {
      const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
      details.push(`root cause: ${e.reason}${count}: ${(e.message ?? '').trim()}`);
    }
    const killed = recent.some((x) => x.e.reason === 'Killing');
    return {
      status: 'fail',
      details,
      ...warned,
      fix:
        (causes.length > 0
          ? `the root cause above (recorded by fsm-controller) names what fails behind the rewritten probe; `
          : '') +
        `kubelet's probes fail${killed ? ' and containers were restarted' : ''}: check the probe targets above ` +
        `answer inside the pod; kubectl -n ${ns} describe pod ${name} shows the history`,
    };
  },
};
