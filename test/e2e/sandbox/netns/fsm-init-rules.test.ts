/**
 * fsm-init's rules by what they do, not by their text: the injector's real fsm-init container
 * (command, args and securityContext as mutatePod renders them) runs in a pod's network namespace
 * with the real iptables-restore, as the sandbox's node agent runs it; then connections are made
 * from the node, from the app and from the proxy's UID, and each says which listener answered it
 * (and the original destination SO_ORIGINAL_DST reads on the accepted socket).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  INIT_CONTAINER_NAME,
  MONITORED_BY_LABEL,
  PROBE_BYPASS_PORTS,
  PROXY_ADMIN_PORT,
  PROXY_INBOUND_PORT,
  PROXY_OUTBOUND_PORT,
  PROXY_STATS_PORT,
  PROXY_UID,
} from '../../../../pkg/constants/index.js';
import { defaultInjectorConfig, mutatePod } from '../../../../pkg/injector/index.js';
import { silentLogger } from '../../../../pkg/logger/index.js';
import { ORIGINAL_DST_ADDON } from '../../../../pkg/sandbox/agent/index.js';
import {
  capabilitiesOf,
  ClusterNetwork,
  podCommand,
  type PodNetwork,
} from '../../../../pkg/sandbox/netns/index.js';
import { namespaceModeUnavailable, netnsList, runInPod, type InPod } from '../../../support/netns.js';

const unavailable = await namespaceModeUnavailable();
const suite = unavailable ? describe.skip : describe;

/** Listeners `name=port`; each answers `<name> <original destination or ->` and closes. */
const LISTENERS = `
const net = require('net');
const [addonPath, ...specs] = process.argv.slice(1);
const addon = require(addonPath);
let left = specs.length;
for (const spec of specs) {
  const [name, port] = spec.split('=');
  net.createServer((s) => {
    s.on('error', () => {});
    let od;
    try { od = addon.originalDestination(s._handle.fd); } catch (e) { od = undefined; }
    s.end(name + ' ' + (od ? od.address + ':' + od.port : '-') + '\\n');
  }).listen(Number(port), '0.0.0.0', () => { if (--left === 0) console.log('listening'); });
}`;

/** Connects to host:port and prints `reply <what the listener said>` or `error <code>`. */
const DIAL = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const s = net.connect(Number(port), host);
let d = '';
s.on('data', (c) => (d += c));
s.on('end', () => { console.log('reply ' + d.trim()); process.exit(0); });
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
setTimeout(() => { console.log('error timeout'); process.exit(0); }, 5000);`;

/** The injector's fsm-init container for a meshed pod. */
function injectedInit(): V1Container {
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app', namespace: 'app' },
    spec: { containers: [{ name: 'app', image: 'app', ports: [{ containerPort: 8080 }] }] },
  };
  const r = mutatePod({
    object: pod,
    namespace: 'app',
    namespaceObject: { metadata: { name: 'app', labels: { [MONITORED_BY_LABEL]: 'fsm' } } },
    config: defaultInjectorConfig(),
    newProxyUuid: () => '11111111-2222-4333-8444-555555555555',
  });
  const out = jsonpatch.applyPatch(jsonpatch.deepClone(pod), r.patch, true).newDocument as V1Pod;
  const init = out.spec?.initContainers?.find((c) => c.name === INIT_CONTAINER_NAME);
  if (!init)
    throw new Error(`the injector rendered no ${INIT_CONTAINER_NAME}: ${r.outcome} ${r.reason ?? ''}`);
  return init;
}

/** Runs an init container's command in a namespace as the node agent does; its exit code and output. */
function runInit(c: V1Container, namespace: string): Promise<{ code: number | null; output: string }> {
  const sc = c.securityContext;
  const caps = capabilitiesOf(sc);
  const [file, ...args] = podCommand(
    {
      namespace,
      ...(caps ? { capabilities: caps } : {}),
      noNewPrivs: sc?.allowPrivilegeEscalation === false,
    },
    [...(c.command ?? []), ...(c.args ?? [])],
  );
  return new Promise((resolve) => {
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('close', (code) => resolve({ code, output }));
  });
}

suite(
  `fsm-init's rules in a pod's network namespace${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let dir: string;
    let cn: ClusterNetwork;
    let meshed: PodNetwork;
    let plain: PodNetwork;
    const procs: InPod[] = [];

    const dialFrom = async (pod: PodNetwork, uid: number | undefined, host: string, port: number) => {
      const p = runInPod({ namespace: pod.namespace, ...(uid !== undefined ? { uid } : {}) }, DIAL, [
        host,
        String(port),
      ]);
      procs.push(p);
      return (await p.waitFor(/^(reply|error) /)).replace(/^reply /, '');
    };
    const dialFromNode = async (host: string, port: number): Promise<string> => {
      const s = await cn.network.dial(host, port, 5000);
      return new Promise((resolve, reject) => {
        let d = '';
        s.on('data', (c: Buffer) => (d += c.toString()));
        s.once('end', () => resolve(d.trim()));
        s.once('error', reject);
      });
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fsm-netns-rules-'));
      cn = await ClusterNetwork.create({ dir, logger: silentLogger() });
      await cn.startHelper(6443);
      [meshed, plain] = await Promise.all([cn.addPod(), cn.addPod()]);
      const init = await runInit(injectedInit(), meshed.namespace);
      expect(init).toEqual({ code: 0, output: '' });
      const proxy = runInPod({ namespace: meshed.namespace, uid: PROXY_UID }, LISTENERS, [
        ORIGINAL_DST_ADDON,
        `inbound-capture=${PROXY_INBOUND_PORT}`,
        `outbound-capture=${PROXY_OUTBOUND_PORT}`,
        ...PROBE_BYPASS_PORTS.filter((p) => p !== 15904).map((p) => `proxy-${p}=${p}`),
        `proxy-admin=${PROXY_ADMIN_PORT}`,
        `proxy-stats=${PROXY_STATS_PORT}`,
      ]);
      const app = runInPod({ namespace: meshed.namespace }, LISTENERS, [
        ORIGINAL_DST_ADDON,
        'app=8080',
        'healthcheck=15904',
      ]);
      const remote = runInPod({ namespace: plain.namespace }, LISTENERS, [ORIGINAL_DST_ADDON, 'remote=9000']);
      procs.push(proxy, app, remote);
      await Promise.all([proxy, app, remote].map((p) => p.waitFor(/^listening$/)));
    }, 60_000);

    afterAll(async () => {
      for (const p of procs) p.kill();
      const id = cn?.id;
      await cn?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
      if (id) expect(netnsList().filter((n) => n.includes(id))).toEqual([]);
    });

    it('the injected fsm-init is a shell script feeding iptables-restore, with NET_ADMIN and NET_RAW only', () => {
      const c = injectedInit();
      expect(c.command).toEqual(['/bin/sh', '-c']);
      expect(c.args?.[0]).toMatch(/^iptables-restore --noflush/);
      expect(capabilitiesOf(c.securityContext)).toEqual(['net_admin', 'net_raw']);
    });

    it("inbound to an app port lands on the proxy's capture listener, which reads the original destination", async () => {
      expect(await dialFromNode(meshed.ip, 8080)).toBe(`inbound-capture ${meshed.ip}:8080`);
    });

    it.each([...PROBE_BYPASS_PORTS, PROXY_ADMIN_PORT, PROXY_STATS_PORT])(
      'inbound to %i bypasses the capture',
      async (port) => {
        const name =
          port === 15904
            ? 'healthcheck'
            : port === PROXY_ADMIN_PORT
              ? 'proxy-admin'
              : port === PROXY_STATS_PORT
                ? 'proxy-stats'
                : `proxy-${port}`;
        expect((await dialFromNode(meshed.ip, port)).split(' ')[0]).toBe(name);
      },
    );

    it("the app's outbound connection is captured by the proxy, original destination intact", async () => {
      expect(await dialFrom(meshed, undefined, plain.ip, 9000)).toBe(`outbound-capture ${plain.ip}:9000`);
    });

    it("the proxy's own upstream connection (its UID) is not looped back: it reaches the other pod", async () => {
      expect((await dialFrom(meshed, PROXY_UID, plain.ip, 9000)).split(' ')[0]).toBe('remote');
    });

    it('loopback traffic inside the pod is untouched', async () => {
      expect((await dialFrom(meshed, undefined, '127.0.0.1', 8080)).split(' ')[0]).toBe('app');
      expect((await dialFrom(meshed, PROXY_UID, '127.0.0.1', 8080)).split(' ')[0]).toBe('app');
    });

    it('a pod without fsm-init is reached directly, from the node and from another pod', async () => {
      expect((await dialFromNode(plain.ip, 9000)).split(' ')[0]).toBe('remote');
      expect((await dialFrom(plain, undefined, plain.ip, 9000)).split(' ')[0]).toBe('remote');
    });
  },
);
