/**
 * Where a captured connection was going: the seam of the agent's capture listeners (`use_original_dst`).
 * Envoy's original_dst listener filter reads it with getsockopt(SOL_IP, SO_ORIGINAL_DST) on the
 * accepted socket — the destination before fsm-init's iptables REDIRECT sent the connection to the
 * proxy — and so does the namespace-mode implementation here, through the project's one native addon
 * (pkg/sandbox/agent/native/original_dst.cc, built by `npm ci` into build/Release/). Loopback mode has
 * no redirect: its default knows no original destination, and its mesh implementation reads the
 * destination a client announced in a PROXY protocol v1 header (proxy-protocol.ts) — the same seam,
 * with a `prepare` step that reads the header off the connection first.
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import { projectFile } from '../../binary/index.js';

export interface OriginalDestination {
  address: string;
  port: number;
}

/** The original destination of an accepted connection; undefined when it was not redirected. */
export interface OriginalDestinationOf {
  (socket: net.Socket): OriginalDestination | undefined;
  /**
   * Read off the connection before the lookup (PROXY protocol: the header naming the destination);
   * a rejection closes the connection. Absent: the kernel already knows (SO_ORIGINAL_DST).
   */
  prepare?: (socket: net.Socket) => Promise<void>;
  /**
   * Loopback mode: where nothing redirects, the agent's own connections to a mesh endpoint go to
   * this port of the endpoint's address (the peer's inbound capture listener), announcing the
   * endpoint the same way — what the peer's PREROUTING rule does in a pod network namespace.
   */
  announceTo?: {
    port: number;
    header: (source: OriginalDestination, destination: OriginalDestination) => string;
  };
}

/** Loopback mode: nothing redirects connections, so none has an original destination. */
export const noOriginalDestination: OriginalDestinationOf = () => undefined;

interface Addon {
  originalDestination(fd: number): OriginalDestination | undefined;
}

/** The addon's path: <project>/build/Release/original_dst.node. */
export const ORIGINAL_DST_ADDON = projectFile('build', 'Release', 'original_dst.node');

let addon: Addon | undefined;

function load(): Addon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(ORIGINAL_DST_ADDON) as Addon;
  } catch (err) {
    throw new Error(
      `the SO_ORIGINAL_DST addon is not built (${ORIGINAL_DST_ADDON}): run \`npm ci\` (it builds binding.gyp with node-gyp: python3, make and g++ are needed): ${(err as Error).message}`,
    );
  }
  return addon;
}

/** The accepted socket's file descriptor (libuv's TCP handle keeps it; Linux only). */
function fdOf(socket: net.Socket): number | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- net.Socket's handle is internal to Node: its fd is the one way to the kernel socket
  const fd = (socket as any)._handle?.fd as unknown;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Namespace mode: SO_ORIGINAL_DST of the socket. Throws when the addon is missing (loading it
 * early, at agent start, turns that into a clear start failure); undefined for a socket that was
 * not redirected or has no descriptor.
 */
export function soOriginalDestination(): OriginalDestinationOf {
  const a = load();
  return (socket) => {
    const fd = fdOf(socket);
    return fd === undefined ? undefined : a.originalDestination(fd);
  };
}
