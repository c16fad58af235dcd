/**
 * The command line of a process inside a pod: `ip netns exec <pod namespace>` (the pod's network),
 * then util-linux's `setpriv` for what the container's securityContext says and the node enforces —
 * its user (the sidecar runs as the proxy UID, so fsm-init's `-m owner` rule exempts its traffic),
 * its capabilities (fsm-init: NET_ADMIN and NET_RAW only), no new privileges — and
 * `--pdeathsig SIGKILL`, so no process outlives a sandbox that was killed. Both tools exec what
 * follows, so the process's pid is the container's (signals, freezing, exit codes). Pure.
 */
import type { V1SecurityContext } from '@kubernetes/client-node';

export interface PodProcessOptions {
  /** The pod's network namespace. */
  namespace: string;
  /** Run as this user and group (default: root). */
  uid?: number;
  gid?: number;
  /** Root's capabilities limited to these (setpriv names: net_admin); undefined: all of them. */
  capabilities?: readonly string[];
  noNewPrivs?: boolean;
}

export function podCommand(o: PodProcessOptions, argv: readonly string[]): string[] {
  const priv: string[] = ['--pdeathsig', 'SIGKILL'];
  if (o.uid !== undefined) {
    priv.push('--reuid', String(o.uid), '--regid', String(o.gid ?? o.uid), '--clear-groups');
  }
  if (o.capabilities !== undefined) {
    const caps = ['-all', ...o.capabilities.map((c) => `+${c}`)].join(',');
    priv.push('--inh-caps', caps, '--bounding-set', caps);
  }
  if (o.noNewPrivs) priv.push('--no-new-privs');
  return ['ip', 'netns', 'exec', o.namespace, 'setpriv', ...priv, '--', ...argv];
}

/** Kubernetes capability names (NET_ADMIN, CAP_NET_RAW) → setpriv's (net_admin, net_raw). */
function capName(name: string): string {
  return name.toLowerCase().replace(/^cap_/, '');
}

/**
 * What a securityContext leaves of root's capabilities: with `drop: [ALL]` exactly what it adds;
 * otherwise root's (the runtime's default set is not modelled: undefined).
 */
export function capabilitiesOf(sc: V1SecurityContext | undefined): string[] | undefined {
  const caps = sc?.capabilities;
  if (!caps) return undefined;
  const drop = (caps.drop ?? []).map(capName);
  if (!drop.includes('all')) return undefined;
  return [...new Set((caps.add ?? []).map(capName))];
}
