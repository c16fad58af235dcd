/**
 * Names and addresses of the sandbox's namespace mode. Every name carries the sandbox's id, so two
 * sandboxes on one machine (`make run` and a test suite) never share a namespace; interfaces live
 * inside those namespaces (a pod's `eth0`, its peer `v<n>` and the bridge in the node namespace), so
 * their names never meet the machine's own. Pure.
 */
import { randomBytes } from 'node:crypto';

/** Every namespace of a sandbox is `fsm-<id>-…`; the id is 6 hex digits. */
export const NAMESPACE_PREFIX = 'fsm-';
const ID_RE = /^[0-9a-f]{6}$/;

export function newSandboxId(): string {
  return randomBytes(3).toString('hex');
}

export function nodeNamespace(id: string): string {
  return `${NAMESPACE_PREFIX}${id}-node`;
}

/** The pod's namespace: `fsm-<id>-p<n>` (n: the pod's address index, unique while it runs). */
export function podNamespace(id: string, n: number): string {
  return `${NAMESPACE_PREFIX}${id}-p${n}`;
}

/** The sandbox id of one of its namespaces' names; undefined for any other name. */
export function sandboxIdOf(namespace: string): string | undefined {
  const m = /^fsm-([0-9a-f]{6})-(node|p\d+)$/.exec(namespace);
  return m && ID_RE.test(m[1]!) ? m[1] : undefined;
}

/** The bridge in the node namespace, and a pod's veth end beside it. */
export const BRIDGE_NAME = 'br0';
export function hostVethName(n: number): string {
  return `v${n}`;
}
/** The pod's end of its veth pair, inside the pod's namespace. */
export const POD_INTERFACE = 'eth0';

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  /** The network address. */
  network: string;
  prefix: number;
  /** The node's address on the bridge (the network's first host): the pods' gateway. */
  gateway: string;
  /** `network/prefix` */
  text: string;
}

/**
 * An IPv4 CIDR for pods or Services (`10.244.0.0/24`), /16 to /29; a host part in the text is a
 * mistake named in the error (`podCidr: 10.244.0.5/24 has host bits set`).
 */
export function parseCidr(text: string, what = 'CIDR'): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text.trim());
  if (!m)
    throw new Error(`${what}: expected an IPv4 CIDR such as 10.244.0.0/24, got ${JSON.stringify(text)}`);
  const prefix = Number(m[2]);
  if (prefix < 16 || prefix > 29) throw new Error(`${what}: the prefix of ${text} must be /16 to /29`);
  const base = ipToInt(m[1]!);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) {
    throw new Error(
      `${what}: ${text} has host bits set (the network is ${intToIp((base & mask) >>> 0)}/${prefix})`,
    );
  }
  return { network: intToIp(base), prefix, gateway: intToIp(base + 1), text: `${intToIp(base)}/${prefix}` };
}

/** True when `ip` lies in `cidr`. */
export function inCidr(ip: string, cidr: Cidr): boolean {
  const mask = (0xffffffff << (32 - cidr.prefix)) >>> 0;
  try {
    return (ipToInt(ip) & mask) >>> 0 === ipToInt(cidr.network);
  } catch {
    return false;
  }
}

/**
 * Pod addresses of a CIDR: hosts 2 … broadcast-1 (host 1 is the node's gateway). Each address has
 * an index n (its host number), which also names the pod's namespace and veth.
 */
export class PodAddressPool {
  private readonly used = new Set<number>();
  private next = 2;
  private readonly last: number;
  private readonly base: number;

  constructor(readonly cidr: Cidr) {
    this.base = ipToInt(cidr.network);
    this.last = 2 ** (32 - cidr.prefix) - 2;
  }

  allocate(): { ip: string; n: number } {
    const count = this.last - 1;
    for (let i = 0; i < count; i++) {
      const n = 2 + ((this.next - 2 + i) % count);
      if (this.used.has(n)) continue;
      this.used.add(n);
      this.next = n + 1 > this.last ? 2 : n + 1;
      return { ip: intToIp(this.base + n), n };
    }
    throw new Error(`no free pod address left in ${this.cidr.text} (${count} pods)`);
  }

  release(n: number): void {
    this.used.delete(n);
  }
}
