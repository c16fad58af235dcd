/**
 * Which network the sandbox gives pods. Namespace mode needs what a node has: root (or
 * CAP_NET_ADMIN), iproute2, iptables with the owner match, util-linux's setpriv, the built
 * SO_ORIGINAL_DST addon, and a proxy UID that can run the project's Node. It is probed by doing it —
 * a test namespace is created, given an owner rule and deleted, and the proxy UID starts Node
 * inside it — so "allowed" means "works here". Otherwise loopback mode, with what the user misses.
 */
import { accessSync, constants } from 'node:fs';
import { PROXY_UID } from '../../constants/index.js';
import { run } from './commands.js';
import { newSandboxId } from './names.js';
import type { NetworkMode } from './node-network.js';
import { podCommand } from './pod-command.js';

export const NETWORK_MODES = ['auto', 'namespaces', 'loopback'] as const;
export type NetworkModeRequest = (typeof NETWORK_MODES)[number];

/** What loopback mode cannot show (the guide and `make run` say it). */
export const LOOPBACK_MISSES =
  'probes are not intercepted: a pod that opts out of the rewrite stays Ready, and a tcpSocket probe on a closed port fails even without fsm-healthcheck';

/** The reason of a loopback mode that was asked for (--network loopback, FSM_SANDBOX_NETWORK). */
export const LOOPBACK_ASKED = 'loopback mode was asked for';

export type Support = { ok: true } | { ok: false; reason: string };

/**
 * Probes namespace mode on this machine. `files`: what the proxy UID must be able to read (the
 * probe agent's entry; the addon).
 */
export async function namespaceSupport(files: readonly string[]): Promise<Support> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  for (const f of files) {
    try {
      accessSync(f, constants.R_OK);
    } catch {
      return {
        ok: false,
        reason: `${f} is missing (run make build; npm ci builds the SO_ORIGINAL_DST addon)`,
      };
    }
  }
  for (const [tool, versionFlag, pkg] of [
    ['ip', '-V', 'iproute2'],
    ['iptables-restore', '--version', 'iptables'],
    ['setpriv', '--version', 'util-linux'],
  ] as const) {
    try {
      await run(tool, [versionFlag]);
    } catch (e) {
      const missing = /ENOENT/.test(String(e));
      return {
        ok: false,
        reason: missing
          ? `${tool} is not installed (Debian package ${pkg}; make tools installs it)`
          : String(e),
      };
    }
  }
  const probe = `fsm-probe-${newSandboxId()}`;
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (e) {
    return {
      ok: false,
      reason: `cannot create a network namespace (root or CAP_NET_ADMIN is needed): ${String(e).split('\n')[0]}`,
    };
  }
  try {
    await run(
      'ip',
      ['netns', 'exec', probe, 'iptables-restore', '--noflush'],
      `*nat\n-A OUTPUT -p tcp -m owner --uid-owner ${PROXY_UID} -j RETURN\nCOMMIT\n`,
    );
    const [file, ...args] = podCommand({ namespace: probe, uid: PROXY_UID }, [
      process.execPath,
      '-e',
      'for (const f of process.argv.slice(1)) require("fs").accessSync(f, require("fs").constants.R_OK)',
      ...files,
    ]);
    await run(file!, args);
    return { ok: true };
  } catch (e) {
    return {
      ok: false,
      reason: `a network namespace works, but not all a pod needs: ${String(e).split('\n')[0]}`,
    };
  } finally {
    await run('ip', ['netns', 'delete', probe]).catch(() => undefined);
  }
}

export interface ModeChoice {
  mode: NetworkMode;
  /** Why loopback mode (auto fell back, or it was asked for). */
  reason?: string;
}

/** auto → namespaces where they work, else loopback with the reason; namespaces → an error where they do not. */
export async function chooseNetworkMode(
  request: NetworkModeRequest,
  files: readonly string[],
): Promise<ModeChoice> {
  if (request === 'loopback') return { mode: 'loopback', reason: LOOPBACK_ASKED };
  const s = await namespaceSupport(files);
  if (s.ok) return { mode: 'namespaces' };
  if (request === 'namespaces') throw new Error(`namespace mode is not available here: ${s.reason}`);
  return { mode: 'loopback', reason: s.reason };
}

/** The mode a request names: --network, else $FSM_SANDBOX_NETWORK, else auto. */
export function parseNetworkModeRequest(value: string | undefined, what: string): NetworkModeRequest {
  const v = (value ?? 'auto').trim() || 'auto';
  if (!(NETWORK_MODES as readonly string[]).includes(v)) {
    throw new Error(`${what}: expected ${NETWORK_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return v as NetworkModeRequest;
}
