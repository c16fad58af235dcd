/**
 * Namespace mode's network, as a node's CNI and kube-proxy set it up — without touching the
 * machine's own namespace (no address, bridge, route or rule there):
 * - a node namespace `fsm-<id>-node` holding the bridge (the pod CIDR's first address, 10.244.0.1/24
 *   by default: the pods' gateway and the node's address), the Service range routed locally (a
 *   ClusterIP without endpoints refuses), IP forwarding, and kube-proxy's rules (kube-proxy.ts);
 * - per pod a namespace `fsm-<id>-p<n>` with `eth0` (a veth whose peer `v<n>` is on the bridge), the
 *   pod's address and a default route via the node;
 * - the node-network helper (node-helper.ts) in the node namespace, the root side's door to all of
 *   it (node-network.ts), and the API server as pods reach it: <node address>:<API port>, relayed
 *   to a unix socket in front of the API server.
 * Everything carries the sandbox's id and is recorded (registry.ts) before it exists; stop()
 * removes it all, and a next start removes what a killed sandbox left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { projectFile } from '../../binary/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
import { ipBatch, iptablesRestore, run } from './commands.js';
import { nodeBaseRules } from './kube-proxy.js';
import {
  BRIDGE_NAME,
  hostVethName,
  newSandboxId,
  nodeNamespace,
  parseCidr,
  PodAddressPool,
  POD_INTERFACE,
  podNamespace,
  type Cidr,
} from './names.js';
import { namespaceNetwork, type NodeNetwork } from './node-network.js';
import { podCommand } from './pod-command.js';
import {
  cleanStateDir,
  deleteNamespace,
  record,
  REGISTRY_DIR,
  removeSandbox,
  writeRecord,
} from './registry.js';

export const DEFAULT_POD_CIDR = '10.244.0.0/24';
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';
export const NODE_HELPER_SCRIPT = projectFile('dist', 'pkg', 'sandbox', 'netns', 'node-helper.js');

export interface ClusterNetworkOptions {
  /** The sandbox's state directory (its record; the helper's log under logs/). */
  dir: string;
  logger: Logger;
  podCidr?: string;
  serviceCidr?: string;
}

/** A pod's network: its address, its namespace, and the index naming both. */
export interface PodNetwork {
  ip: string;
  namespace: string;
  n: number;
}

export class ClusterNetwork {
  readonly id: string;
  readonly nodeNamespace: string;
  readonly podCidr: Cidr;
  readonly serviceCidr: Cidr;
  /** Sockets and per-pod files the proxy UID may need: /run/fsm-sandbox/<id>. */
  readonly runDir: string;
  readonly network: NodeNetwork;
  private readonly pool: PodAddressPool;
  private readonly pods = new Map<string, PodNetwork>();
  private readonly log: Logger;
  private helper?: ChildProcess;
  private apiRelay?: net.Server;
  private readonly relaySockets = new Set<net.Socket>();
  private stopped = false;

  private constructor(
    private readonly opts: ClusterNetworkOptions,
    id: string,
  ) {
    this.id = id;
    this.nodeNamespace = nodeNamespace(id);
    this.podCidr = parseCidr(opts.podCidr ?? DEFAULT_POD_CIDR, 'podCidr');
    this.serviceCidr = parseCidr(opts.serviceCidr ?? DEFAULT_SERVICE_CIDR, 'serviceCidr');
    this.pool = new PodAddressPool(this.podCidr);
    this.runDir = join(REGISTRY_DIR, id);
    this.log = opts.logger.child({ component: 'network' });
    this.network = namespaceNetwork({
      socketPath: join(this.runDir, 'dial.sock'),
      namespaceOf: (ip) => this.pods.get(ip)?.namespace,
    });
  }

  /** The node's address on the bridge (the pods' gateway). */
  get nodeIP(): string {
    return this.podCidr.gateway;
  }

  /**
   * Removes what a sandbox killed in this state directory left, records this one, and creates the
   * node namespace with its bridge and rules.
   */
  static async create(opts: ClusterNetworkOptions): Promise<ClusterNetwork> {
    const leftovers = await cleanStateDir(opts.dir);
    const log = opts.logger.child({ component: 'network' });
    if (leftovers.length > 0) log.info('removed what a killed sandbox left', { namespaces: leftovers });
    const cn = new ClusterNetwork(opts, newSandboxId());
    writeRecord(record(cn.id, opts.dir));
    mkdirSync(cn.runDir, { recursive: true, mode: 0o755 });
    try {
      await cn.createNode();
    } catch (err) {
      await cn.stop();
      throw err;
    }
    return cn;
  }

  private async createNode(): Promise<void> {
    const node = this.nodeNamespace;
    await run('ip', ['netns', 'add', node]);
    await ipBatch(
      [
        'link set lo up',
        `link add ${BRIDGE_NAME} type bridge`,
        `addr add ${this.podCidr.gateway}/${this.podCidr.prefix} dev ${BRIDGE_NAME}`,
        `link set ${BRIDGE_NAME} up`,
        // A ClusterIP nobody DNATs is delivered here, where nothing listens: connection refused.
        `route add local ${this.serviceCidr.text} dev lo`,
      ],
      node,
    );
    await run('ip', ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await iptablesRestore(node, nodeBaseRules(this.podCidr));
    this.log.info('node namespace ready', {
      namespace: node,
      bridge: `${this.podCidr.gateway}/${this.podCidr.prefix}`,
    });
  }

  /** Applies kube-proxy's Services chain in the node namespace. */
  applyServiceRules(rules: string): Promise<string> {
    return iptablesRestore(this.nodeNamespace, rules);
  }

  /**
   * Starts the node-network helper, and the relay from the node's address to the API server
   * (127.0.0.1:<apiPort> in the root namespace) through a unix socket.
   */
  async startHelper(apiPort: number): Promise<void> {
    const apiSocket = join(this.runDir, 'apiserver.sock');
    rmSync(apiSocket, { force: true });
    const sockets = this.relaySockets;
    this.apiRelay = net.createServer((client) => {
      const upstream = net.connect(apiPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.apiRelay!.once('error', reject);
      this.apiRelay!.listen(apiSocket, () => resolve());
    });
    const logDir = join(this.opts.dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const out = createWriteStream(join(logDir, 'node-network.log'), { flags: 'a' });
    const dialSocket = join(this.runDir, 'dial.sock');
    rmSync(dialSocket, { force: true });
    const [file, ...args] = podCommand({ namespace: this.nodeNamespace }, [
      process.execPath,
      NODE_HELPER_SCRIPT,
      '--dial-socket',
      dialSocket,
      '--api-listen',
      `${this.nodeIP}:${apiPort}`,
      '--api-socket',
      apiSocket,
    ]);
    const helper = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.helper = helper;
    helper.stdout.pipe(out);
    helper.stderr.pipe(out);
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const onData = (c: Buffer): void => {
        text += c.toString();
        if (text.includes('node network helper serving')) {
          helper.stdout.off('data', onData);
          resolve();
        }
      };
      helper.stdout.on('data', onData);
      helper.once('exit', (code) =>
        reject(
          new Error(
            `the node network helper exited with code ${code} (see ${join(logDir, 'node-network.log')})`,
          ),
        ),
      );
    });
    helper.on('exit', (code, signal) => {
      if (!this.stopped) this.log.error('the node network helper exited', { code, signal });
    });
    this.log.info('node network helper running', {
      pid: helper.pid,
      dialSocket,
      api: `${this.nodeIP}:${apiPort}`,
    });
  }

  /** The API server's URL as pods reach it. */
  apiServerUrl(apiPort: number): string {
    return `https://${this.nodeIP}:${apiPort}`;
  }

  /** A pod's namespace on the bridge, with its address and default route. */
  async addPod(): Promise<PodNetwork> {
    const { ip, n } = this.pool.allocate();
    const p: PodNetwork = { ip, n, namespace: podNamespace(this.id, n) };
    try {
      await deleteNamespace(p.namespace); // a namespace of a pod this sandbox lost track of
      await run('ip', ['netns', 'add', p.namespace]);
      await ipBatch(
        [
          `link add ${hostVethName(n)} type veth peer name ${POD_INTERFACE} netns ${p.namespace}`,
          `link set ${hostVethName(n)} master ${BRIDGE_NAME} up`,
        ],
        this.nodeNamespace,
      );
      await ipBatch(
        [
          'link set lo up',
          `addr add ${ip}/${this.podCidr.prefix} dev ${POD_INTERFACE}`,
          `link set ${POD_INTERFACE} up`,
          `route add default via ${this.podCidr.gateway}`,
        ],
        p.namespace,
      );
    } catch (err) {
      await deleteNamespace(p.namespace).catch(() => undefined);
      this.pool.release(n);
      throw new Error(`cannot create the network of a pod (${p.namespace}, ${ip}): ${errorMessage(err)}`);
    }
    this.pods.set(ip, p);
    mkdirSync(this.podRunDir(p), { recursive: true, mode: 0o755 });
    return p;
  }

  /** Per-pod files of the sandbox's own (the sidecar's status socket): short paths under /run. */
  podRunDir(p: PodNetwork): string {
    return join(this.runDir, `p${p.n}`);
  }

  /** Removes a pod's namespace (its veth goes with it) and frees its address. */
  async removePod(p: PodNetwork): Promise<void> {
    this.pods.delete(p.ip);
    try {
      await deleteNamespace(p.namespace);
    } catch (err) {
      this.log.warn('cannot delete a pod namespace', { namespace: p.namespace, error: errorMessage(err) });
    }
    rmSync(this.podRunDir(p), { recursive: true, force: true });
    this.pool.release(p.n);
  }

  /** Stops the helper and removes every namespace of this sandbox and its records. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.helper?.stdin?.end();
    this.helper?.kill('SIGTERM');
    for (const s of this.relaySockets) s.destroy();
    await new Promise<void>((resolve) => (this.apiRelay ? this.apiRelay.close(() => resolve()) : resolve()));
    const removed = await removeSandbox(this.id);
    rmSync(this.runDir, { recursive: true, force: true });
    rmSync(join(this.opts.dir, 'network.json'), { force: true });
    this.log.info('network removed', { namespaces: removed.length });
  }
}
