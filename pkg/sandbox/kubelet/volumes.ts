/**
 * Pod volumes on the sandbox's node: each volume is a directory under the pod's directory
 * (emptyDir empty; secret and configMap with their keys as files), and — the loopback-mode stand-in
 * for a mount namespace — every container argument and environment value naming a path under a
 * volumeMount's mountPath is rewritten to the volume's directory. So the injector's
 * `--tls-cert-file=/etc/fsm/tls/tls.crt` writes into the pod's own emptyDir.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Api, V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';

export interface Mount {
  mountPath: string;
  dir: string;
}

function decode(data: Record<string, string> | undefined, base64: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(data ?? {})) out.set(k, Buffer.from(v, base64 ? 'base64' : 'utf8'));
  return out;
}

async function writeKeys(
  dir: string,
  files: Map<string, Buffer>,
  items: { key: string; path: string; mode?: number }[] | undefined,
  mode: number,
): Promise<void> {
  const wanted: { key: string; path: string; mode?: number }[] = items?.length
    ? items
    : [...files.keys()].map((key) => ({ key, path: key }));
  for (const item of wanted) {
    const body = files.get(item.key);
    if (!body) throw new Error(`key ${item.key} not found`);
    const path = join(dir, item.path);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, body);
    await chmod(path, item.mode ?? mode);
  }
}

/** Creates the volume's directory and its content; throws naming the volume when it cannot. */
async function prepareVolume(
  podDir: string,
  namespace: string,
  v: V1Volume,
  core: CoreV1Api,
): Promise<string> {
  const dir = join(podDir, 'volumes', v.name);
  await mkdir(dir, { recursive: true });
  if (v.secret) {
    const secret = await core.readNamespacedSecret({ name: v.secret.secretName!, namespace });
    await writeKeys(dir, decode(secret.data, true), v.secret.items, v.secret.defaultMode ?? 0o644);
  } else if (v.configMap) {
    const cm = await core.readNamespacedConfigMap({ name: v.configMap.name!, namespace });
    await writeKeys(dir, decode(cm.data, false), v.configMap.items, v.configMap.defaultMode ?? 0o644);
  }
  return dir;
}

/** Prepares every volume of the pod: name → directory. */
export async function preparePodVolumes(
  podDir: string,
  pod: V1Pod,
  core: CoreV1Api,
): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    try {
      dirs.set(v.name, await prepareVolume(podDir, pod.metadata?.namespace ?? 'default', v, core));
    } catch (e) {
      throw new Error(`MountVolume.SetUp failed for volume "${v.name}": ${(e as Error).message}`);
    }
  }
  return dirs;
}

/** The container's mounts, longest mountPath first (a nested mount wins). */
export function containerMounts(c: V1Container, volumes: ReadonlyMap<string, string>): Mount[] {
  return (c.volumeMounts ?? [])
    .filter((m) => volumes.has(m.name))
    .map((m) => ({
      mountPath: m.mountPath.replace(/\/+$/, ''),
      dir: join(volumes.get(m.name)!, m.subPath ?? ''),
    }))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
}

/** Rewrites paths under a mountPath (at a path boundary) to the volume's directory. */
export function rewritePaths(text: string, mounts: readonly Mount[]): string {
  let out = text;
  for (const m of mounts) {
    const escaped = m.mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(^|[=:,\\s])${escaped}(?=/|$|[\\s,:])`, 'g'), `$1${m.dir}`);
  }
  return out;
}
