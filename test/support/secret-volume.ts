/**
 * Test helper: a Secret projected into a directory the way kubelet's atomic writer does it — the
 * files live in a timestamped directory, `..data` is a symlink to it, and each key is a symlink
 * `<key> → ..data/<key>`. An update writes a new directory and swaps `..data` with one rename, so a
 * reader never sees half of a new pair (and a watcher sees a rename in the directory, not a write to
 * the key's file).
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';

let generation = 0;

/** Writes (or atomically replaces) the Secret's keys under `dir`. */
export async function projectSecret(dir: string, secret: V1Secret): Promise<void> {
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
}
