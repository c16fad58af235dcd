/** Probes as short lines for the check report, and the fix most checks end with. */
import type { V1Probe } from '@kubernetes/client-node';
import type { ProbeType } from '../../constants/index.js';
import type { OriginalProbe } from '../../probes/index.js';

function describeHeaders(h: readonly { name: string; value: string }[] | undefined): string {
  return h && h.length > 0 ? ' ' + h.map((x) => `${x.name}: ${x.value}`).join(', ') : '';
}

/** One probe handler as a short line: `httpGet :15901/fsm-liveness-probe`, `tcpSocket :5432`. */
export function describeProbe(p: V1Probe | undefined): string {
  if (!p) return 'nothing';
  if (p.httpGet) {
    const scheme = p.httpGet.scheme === 'HTTPS' ? 'httpGet HTTPS' : 'httpGet';
    return `${scheme} :${String(p.httpGet.port)}${p.httpGet.path ?? ''}${describeHeaders(p.httpGet.httpHeaders)}`;
  }
  if (p.tcpSocket) return `tcpSocket :${String(p.tcpSocket.port)}`;
  if (p.grpc) return `grpc :${p.grpc.port}${p.grpc.service ? ` service ${p.grpc.service}` : ''}`;
  if (p.exec) return 'exec';
  return 'no handler';
}

/** The original target recorded by the injector. */
export function describeOriginal(o: OriginalProbe): string {
  switch (o.kind) {
    case 'http':
      return `httpGet :${o.port}${o.path}`;
    case 'https':
      return `httpGet HTTPS :${o.port}${o.path}${o.tls === 'originate' ? ' (TLS from the proxy)' : ''}`;
    case 'tcp':
      return `tcpSocket :${o.port}`;
    case 'grpc':
      return `grpc :${o.port}${o.grpcService ? ` service ${o.grpcService}` : ''}`;
  }
}

export function probeLabel(type: ProbeType, container: string): string {
  return `${type} probe of container ${container}`;
}

export function recreateFix(ns: string, pod: string): string {
  return `recreate the pod so fsm-injector handles it again: kubectl -n ${ns} delete pod ${pod} (its Deployment re-creates it)`;
}
