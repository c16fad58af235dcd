/**
 * Check 2: every probe kubelet runs calls what the injector's record says (pkg/probes compareProbe,
 * the same comparison the controller uses); a probe with no record either was not rewritten (and what
 * the rewrite would make of it) or cannot be (and why).
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import {
  HOOK_TYPES,
  INBOUND_MTLS_ANNOTATION,
  ORIGINAL_PROBES_ANNOTATION,
  PROBE_BYPASS_PORTS,
  PROBE_REWRITE_ANNOTATION,
  PROBE_REWRITE_DISABLED_VALUE,
  PROBE_TYPE_INFO,
  PROBE_TYPES,
} from '../../constants/index.js';
import type { ProbeType } from '../../constants/index.js';
import { appContainers, inboundMode, podOriginalProbes, podRef } from '../../catalog/index.js';
import { rewriteProbes } from '../../injector/index.js';
import { compareHook, compareProbe } from '../../probes/index.js';
import type { OriginalHooksByContainer, OriginalProbe } from '../../probes/index.js';
import { describeOriginal, describeProbe, probeLabel, recreateFix } from './describe.js';
import type { Check } from './types.js';

function pointsAtMesh(p: V1Probe): boolean {
  const port = p.httpGet?.port;
  return typeof port === 'number' && PROBE_BYPASS_PORTS.includes(port);
}

interface Slot {
  c: V1Container;
  t: ProbeType;
  /** The probe kubelet runs now (undefined: the container has none of this type). */
  live: V1Probe | undefined;
  /** The injector's record of it (undefined: none). */
  rec: OriginalProbe | undefined;
}

export const probesRewrittenCheck: Check = {
  id: 'probes-rewritten',
  title: () => 'Probes rewritten to the proxy (15901-15903) and fsm-healthcheck (15904) ports',
  run({ input: inp, namespace: ns, pod: name, injected }) {
    if (!injected)
      return { status: 'skip', details: ['pod has no sidecar: kubelet probes the app directly'] };
    const containers = appContainers(inp.pod) as V1Container[];
    const ann = podOriginalProbes(inp.pod);
    const recorded = ann.status === 'invalid' ? {} : ann.containers;
    // Every probe the pod runs, and every probe the record has for a container of the pod.
    const slots: Slot[] = containers
      .flatMap((c) =>
        PROBE_TYPES.map((t) => ({
          c,
          t,
          live: c[PROBE_TYPE_INFO[t].field] || undefined,
          rec: recorded[c.name]?.[t],
        })),
      )
      .filter((s) => s.live !== undefined || s.rec !== undefined);
    if (slots.length === 0) {
      return { status: 'pass', details: ['the pod defines no liveness, readiness or startup probe'] };
    }
    if (ann.status === 'invalid') return { status: 'fail', details: [ann.error], fix: recreateFix(ns, name) };
    const wouldBe = rewriteProbes(podRef(inp.pod), containers);
    const details: string[] = [];
    let failed = false;
    /** Ports of app probes kubelet runs un-rewritten (they reach the proxy's inbound capture). */
    const unrewritten = new Set<string>();
    for (const { c, t, live, rec } of slots) {
      const label = probeLabel(t, c.name);
      if (rec) {
        const drift = compareProbe(c, t, rec);
        if (drift === undefined) {
          details.push(`${label}: ${describeProbe(live)} → ${describeOriginal(rec)}`);
        } else {
          failed = true;
          details.push(
            `${label}: kubelet calls ${describeProbe(live)}, but ${ORIGINAL_PROBES_ANNOTATION} expects ` +
              `${describeProbe({ httpGet: drift.expected })} (original ${describeOriginal(rec)})`,
          );
        }
        continue;
      }
      // No record: `live` is defined (slots hold a live probe or a record).
      const probe = live!;
      if (probe.exec) {
        details.push(`${label}: exec, runs in the container (not rewritten)`);
        continue;
      }
      failed = true;
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
      if (!pointsAtMesh(probe) && port !== undefined) unrewritten.add(String(port));
      if (pointsAtMesh(probe)) {
        details.push(
          `${label}: kubelet calls ${describeProbe(probe)}, but ${ORIGINAL_PROBES_ANNOTATION} records no original target for it`,
        );
        continue;
      }
      const expected = wouldBe.containers.find((x) => x.name === c.name)?.[PROBE_TYPE_INFO[t].field];
      if (expected && describeProbe(expected) !== describeProbe(probe)) {
        details.push(
          `${label}: not rewritten: kubelet calls ${describeProbe(probe)}, expected ${describeProbe(expected)}`,
        );
      } else {
        const why = wouldBe.warnings.find((w) => w.includes(`container ${c.name} ${t} probe`));
        details.push(
          `${label}: ${describeProbe(probe)} cannot be rewritten${why ? `: ${why.replace(/^pod [^:]+: /, '')}` : ''}`,
        );
      }
    }
    if (hookLines(containers, ann.status === 'valid' ? (ann.hooks ?? {}) : {}, details)) failed = true;
    if (!failed) return { status: 'pass', details };
    const optOut = inp.pod.metadata?.annotations?.[PROBE_REWRITE_ANNOTATION];
    const why = unrewritten.size > 0 ? ` (${mtlsReason(inp, [...unrewritten])})` : '';
    const fix =
      optOut?.toLowerCase() === PROBE_REWRITE_DISABLED_VALUE
        ? `the pod opts out with ${PROBE_REWRITE_ANNOTATION}=${optOut}: remove the annotation (in its template), then ${recreateFix(ns, name)}${why}`
        : `${recreateFix(ns, name)}${why}`;
    return { status: 'fail', details, fix };
  },
};

/**
 * The pod's httpGet lifecycle hooks: rewritten ones are compared with their record like probes; one
 * the record does not hold still calls the app's port (through the sidecar's inbound capture).
 * Appends one line per hook; true when one fails.
 */
function hookLines(containers: V1Container[], hooks: OriginalHooksByContainer, details: string[]): boolean {
  let failed = false;
  for (const c of containers) {
    for (const hook of HOOK_TYPES) {
      const live = c.lifecycle?.[hook];
      const rec = hooks[c.name]?.[hook];
      const label = `${hook} hook of container ${c.name}`;
      if (rec) {
        const drift = compareHook(c, hook, rec);
        if (drift === undefined)
          details.push(`${label}: ${describeProbe(live ?? undefined)} → ${describeOriginal(rec)}`);
        else {
          failed = true;
          details.push(
            `${label}: kubelet calls ${describeProbe(live ?? undefined)}, but ${ORIGINAL_PROBES_ANNOTATION} expects ` +
              `${describeProbe({ httpGet: drift.expected })} (original ${describeOriginal(rec)})`,
          );
        }
      } else if (live?.httpGet) {
        failed = true;
        details.push(
          `${label}: ${describeProbe(live)} is not rewritten: kubelet calls the app's port through the proxy's inbound capture`,
        );
      }
    }
  }
  return failed;
}

/**
 * Why an un-rewritten probe fails in the mesh: kubelet's plaintext probe of an app port reaches the
 * proxy's inbound listener, which (strict, the default) requires mTLS from a mesh identity that
 * kubelet does not have; permissive lets it through, but a tcpSocket probe then only proves the
 * proxy accepts (it holds every port).
 */
function mtlsReason(inp: Parameters<Check['run']>[0]['input'], ports: string[]): string {
  const m = inboundMode(podRef(inp.pod), inp.pod.metadata?.annotations, inp.podNamespace);
  const from =
    m.source === 'default' ? 'the default' : `the ${m.source}'s ${INBOUND_MTLS_ANNOTATION} annotation`;
  const which = `port${ports.length > 1 ? 's' : ''} ${ports.join(', ')}`;
  return m.mode === 'strict'
    ? `why: the proxy requires mTLS from the mesh on ${which} (inbound mode strict, ${from}); kubelet's plaintext probe has no mesh certificate, so the proxy refuses it and the probe fails — the rewrite to 15901-15904 (plaintext) exists for exactly this`
    : `why: inbound mode is permissive on ${which} (${from}), so kubelet's plaintext probe gets through, but a tcpSocket probe only proves the proxy accepts (it holds every port), not that the app does`;
}
