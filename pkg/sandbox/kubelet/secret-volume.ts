/**
 * What kubelet does for a pod's secret volume, for the one the sandbox needs: the sidecar's
 * bootstrap credential. The Secret's keys are written the way kubelet's atomic writer does — into a
 * timestamped directory, `..data` a symlink to it, each key a symlink through `..data` — so a new
 * version (the controller renewed the credential, or a CA rotation changed its bundle) replaces
 * the pair in one rename and a reader never sees half of it. `agentTlsFor` turns the pod's spec
 * (the sidecar's bootstrap volume mount, the server name its Envoy bootstrap checks) plus the
 * mounted files into the probe agent's TLS options.
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import {
  BOOTSTRAP_VOLUME_NAME,
  SIDECAR_CONTAINER_NAME,
  TLS_CA_KEY,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../../constants/index.js';
import type { AgentTls } from '../agent/index.js';

let generation = 0;

/** Writes (or atomically replaces) the Secret's keys under `dir`; returns a content fingerprint. */
export async function projectSecretVolume(dir: string, secret: V1Secret): Promise<string> {
  await mkdir(dir, { recursive: true });
  const data = secret.data ?? {};
  const stamp = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${++generation}`;
  await mkdir(join(dir, stamp));
  for (const [key, value] of Object.entries(data)) {
    await writeFile(join(dir, stamp, key), Buffer.from(value, 'base64'), { mode: 0o440 });
  }
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const key of Object.keys(data)) {
    await symlink(join('..data', key), join(dir, key)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  if (previous) await rm(join(dir, previous), { recursive: true, force: true });
  return secret.metadata?.resourceVersion ?? JSON.stringify(data);
}

/** The bootstrap Secret's name of a pod (from its volume), if the sidecar mounts one. */
export function bootstrapSecretOf(pod: V1Pod): string | undefined {
  const sidecar = pod.spec?.containers?.find((c) => c.name === SIDECAR_CONTAINER_NAME);
  if (!sidecar?.volumeMounts?.some((m) => m.name === BOOTSTRAP_VOLUME_NAME)) return undefined;
  return pod.spec?.volumes?.find((v) => v.name === BOOTSTRAP_VOLUME_NAME)?.secret?.secretName;
}

/** The name the sidecar's Envoy bootstrap checks the controller's certificate for (its ADS cluster's SNI). */
export function adsServerNameOf(pod: V1Pod): string | undefined {
  const sidecar = pod.spec?.containers?.find((c) => c.name === SIDECAR_CONTAINER_NAME);
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
