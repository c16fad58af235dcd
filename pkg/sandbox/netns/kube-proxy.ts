/**
 * kube-proxy's stand-in in the node namespace: each Service ClusterIP:port is DNATed to one of its
 * ready endpoints (iptables nat, PREROUTING for the pods' traffic and OUTPUT for the node's own, the
 * `statistic` match spreading connections as kube-proxy's iptables mode does). DNATed connections
 * from pods are masqueraded to the node's address, so the answer of a pod on the same bridge comes
 * back through the node and is un-NATed (kube-proxy's hairpin masquerade). A ClusterIP:port without
 * a ready endpoint is refused: the Service range is routed locally in the node namespace and nothing
 * listens there. Rule text is built by pure functions (table-tested); the class re-applies it
 * (one iptables-restore of one chain) when Services or EndpointSlices change.
 */
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { ResourceInformer } from '../../k8s/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
import { SERVICE_NAME_LABEL } from '../controllers/index.js';
import type { Cidr } from './names.js';

export const SERVICES_CHAIN = 'FSM-SERVICES';

export interface ServiceRoute {
  /** namespace/name:port, for the rule's comment. */
  service: string;
  clusterIP: string;
  port: number;
  endpoints: { ip: string; port: number }[];
}

/** The TCP routes of Services with a ClusterIP, through their EndpointSlices' ready endpoints. */
export function serviceRoutes(
  services: readonly V1Service[],
  slices: readonly V1EndpointSlice[],
): ServiceRoute[] {
  const routes: ServiceRoute[] = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const ns = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    if (!ip || ip === 'None') continue;
    const mine = slices.filter(
      (s) => s.metadata?.namespace === ns && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name,
    );
    for (const sp of svc.spec?.ports ?? []) {
      if ((sp.protocol ?? 'TCP') !== 'TCP') continue;
      const endpoints: ServiceRoute['endpoints'] = [];
      for (const s of mine) {
        const ep = (s.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
        if (ep?.port === undefined) continue;
        for (const e of s.endpoints ?? []) {
          if (e.conditions?.ready === false) continue;
          for (const a of e.addresses) endpoints.push({ ip: a, port: ep.port });
        }
      }
      endpoints.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
      routes.push({ service: `${ns}/${name}:${sp.port}`, clusterIP: ip, port: sp.port, endpoints });
    }
  }
  return routes.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

/** The node namespace's fixed nat rules: traffic enters the Services chain; DNATed pod traffic is masqueraded. */
export function nodeBaseRules(podCidr: Cidr): string {
  return [
    '*nat',
    `:${SERVICES_CHAIN} - [0:0]`,
    `-A PREROUTING -j ${SERVICES_CHAIN}`,
    `-A OUTPUT -j ${SERVICES_CHAIN}`,
    `-A POSTROUTING -s ${podCidr.text} -m conntrack --ctstate DNAT -j MASQUERADE`,
    'COMMIT',
    '',
  ].join('\n');
}

/** The Services chain (replaces the chain's rules: iptables-restore --noflush flushes a declared chain). */
export function servicesChainRules(routes: readonly ServiceRoute[]): string {
  const lines = ['*nat', `:${SERVICES_CHAIN} - [0:0]`];
  for (const r of routes) {
    const match = `-A ${SERVICES_CHAIN} -d ${r.clusterIP}/32 -p tcp --dport ${r.port} -m comment --comment "${r.service.replace(/"/g, '')}"`;
    r.endpoints.forEach((e, i) => {
      const left = r.endpoints.length - i;
      // kube-proxy's spreading: endpoint i takes 1/(n-i) of what the ones before it left.
      const pick = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(5)}` : '';
      lines.push(`${match}${pick} -j DNAT --to-destination ${e.ip}:${e.port}`);
    });
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export class KubeProxy {
  private timer: NodeJS.Timeout | undefined;
  private applied = '';
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly services: ResourceInformer<V1Service>,
    private readonly slices: ResourceInformer<V1EndpointSlice>,
    private readonly apply: (rules: string) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  start(): void {
    const kick = (): void => this.schedule();
    for (const inf of [this.services, this.slices] as ResourceInformer<unknown>[]) {
      for (const ev of ['add', 'update', 'delete'] as const) {
        inf.on(ev, kick);
        this.offs.push(() => inf.off(ev, kick));
      }
    }
    this.schedule();
  }

  /** Resolves once the rules of everything seen so far are applied. */
  async sync(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.runOnce();
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce();
    }, 20);
  }

  private runOnce(): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      const rules = servicesChainRules(serviceRoutes(this.services.list(), this.slices.list()));
      if (rules === this.applied) return;
      try {
        await this.apply(rules);
        this.applied = rules;
        this.log.debug('kube-proxy rules applied', { rules: rules.split('\n').length - 3 });
      } catch (err) {
        this.log.warn('kube-proxy rules not applied; retrying', { error: errorMessage(err) });
        setTimeout(() => this.schedule(), 1000).unref();
      }
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const off of this.offs.splice(0)) off();
  }
}
