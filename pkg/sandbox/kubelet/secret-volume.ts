/**
 * The sidecar's bootstrap credential in the sandbox's kubelet: the pod's volumes are prepared by
 * volumes.ts; here, what the probe agent needs of them (the credential files, the server name the
 * sidecar's Envoy bootstrap checks) and the periodic refresh of the volume from its Secret (the
 * controller renewed the credential, or a CA rotation changed its bundle).
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import {
  BOOTSTRAP_VOLUME_NAME,
  SIDECAR_CONTAINER_NAME,
  TLS_CA_KEY,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../../constants/index.js';
import type { AgentTls } from '../agent/index.js';

/**
 * Writes the Secret's keys again into an existing volume directory (kubelet's periodic sync of a
 * secret volume), each file replaced with one rename so a reader never sees half a file.
 */
export async function rewriteSecretFiles(dir: string, secret: V1Secret, mode = 0o444): Promise<void> {
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    const tmp = join(dir, `.${key}.${process.pid}.tmp`);
    await writeFile(tmp, Buffer.from(value, 'base64'), { mode });
    await rename(tmp, join(dir, key));
  }
}

/** The bootstrap Secret's name of a pod (from its volume), if the sidecar mounts one. */
/** The sidecar container: a classic one among the containers, or a native one among the init containers. */
function sidecarOf(pod: V1Pod): V1Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (c) => c.name === SIDECAR_CONTAINER_NAME,
  );
}

export function bootstrapSecretOf(pod: V1Pod): string | undefined {
  const sidecar = sidecarOf(pod);
  if (!sidecar?.volumeMounts?.some((m) => m.name === BOOTSTRAP_VOLUME_NAME)) return undefined;
  return pod.spec?.volumes?.find((v) => v.name === BOOTSTRAP_VOLUME_NAME)?.secret?.secretName;
}

/** The name the sidecar's Envoy bootstrap checks the controller's certificate for (its ADS cluster's SNI). */
export function adsServerNameOf(pod: V1Pod): string | undefined {
  const sidecar = sidecarOf(pod);
  const args = sidecar?.args ?? [];
  const i = args.indexOf('--config-yaml');
  if (i < 0 || args[i + 1] === undefined) return undefined;
  try {
    const boot = JSON.parse(args[i + 1]!) as {
      static_resources?: { clusters?: { transport_socket?: { typed_config?: { sni?: string } } }[] };
    };
    return boot.static_resources?.clusters?.[0]?.transport_socket?.typed_config?.sni;
  } catch {
    return undefined;
  }
}

/** The probe agent's TLS options from a mounted bootstrap volume. */
export function agentTlsFor(dir: string, serverName: string): AgentTls {
  return {
    certFile: join(dir, TLS_CERT_KEY),
    keyFile: join(dir, TLS_KEY_KEY),
    caFile: join(dir, TLS_CA_KEY),
    serverName,
  };
}
