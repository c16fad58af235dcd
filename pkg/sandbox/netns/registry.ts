/**
 * What a namespace-mode sandbox leaves on the machine, and how a later start removes it. Each
 * sandbox has an id; every namespace it creates is named `fsm-<id>-…` (names.ts), so the
 * namespaces of an id are found by name, whatever happened between a create and a write. The id
 * and its owner (pid and that process's start time, so a reused pid is not mistaken for it) are
 * recorded twice: in the sandbox's state directory (`<dir>/network.json`: the next start from the
 * same directory cleans that id first) and in the machine's registry `/run/fsm-sandbox/<id>.json`
 * (a sweep removes every sandbox namespace whose owner is gone: `fsm sandbox cleanup`, and the
 * test suites' global teardown). Processes still inside such a namespace are killed first; the
 * veths die with their namespaces, the bridge with the node's.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './commands.js';
import { NAMESPACE_PREFIX, sandboxIdOf } from './names.js';

export const REGISTRY_DIR = '/run/fsm-sandbox';
export const STATE_FILE = 'network.json';

export interface SandboxRecord {
  id: string;
  pid: number;
  /** The owner's start time (clock ticks since boot, /proc/<pid>/stat field 22). */
  pidStart: string;
  dir: string;
  createdAt: string;
}

/** The start time of a process, or undefined when it does not exist. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces and parentheses): state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** True while the sandbox that wrote the record runs. */
export function ownerAlive(r: Pick<SandboxRecord, 'pid' | 'pidStart'>): boolean {
  return processStart(r.pid) === r.pidStart;
}

export function record(id: string, dir: string): SandboxRecord {
  return {
    id,
    pid: process.pid,
    pidStart: processStart(process.pid) ?? '',
    dir,
    createdAt: new Date().toISOString(),
  };
}

/** Writes the record to the state directory and the machine's registry (before any namespace exists). */
export function writeRecord(r: SandboxRecord): void {
  const text = JSON.stringify(r, null, 2) + '\n';
  mkdirSync(r.dir, { recursive: true });
  writeFileSync(join(r.dir, STATE_FILE), text);
  mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o755 });
  writeFileSync(join(REGISTRY_DIR, `${r.id}.json`), text);
}

function readJson(path: string): SandboxRecord | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<SandboxRecord>;
    return typeof v.id === 'string' && typeof v.pid === 'number' ? (v as SandboxRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The record a sandbox left in this state directory (undefined: none). */
export function readStateRecord(dir: string): SandboxRecord | undefined {
  return readJson(join(dir, STATE_FILE));
}

/** Every sandbox namespace on the machine (`ip netns list`), by sandbox id. */
export async function sandboxNamespaces(): Promise<Map<string, string[]>> {
  const out = await run('ip', ['netns', 'list']);
  const byId = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? '';
    if (!name.startsWith(NAMESPACE_PREFIX)) continue;
    const id = sandboxIdOf(name);
    if (!id) continue;
    byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  return byId;
}

/** Kills what still runs in a namespace, then deletes it (a namespace already gone is fine). */
export async function deleteNamespace(name: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', name]).catch(() => '');
  for (const p of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await run('ip', ['netns', 'delete', name]).catch((e: unknown) => {
    if (!/No such file|Cannot remove namespace file/.test(String(e))) throw e;
  });
}

/** Removes every namespace of a sandbox id (pods first, the node's last) and its records. */
export async function removeSandbox(id: string, names?: readonly string[]): Promise<string[]> {
  const all = names ?? (await sandboxNamespaces()).get(id) ?? [];
  const ordered = [...all].sort((a, b) => Number(a.endsWith('-node')) - Number(b.endsWith('-node')));
  for (const n of ordered) await deleteNamespace(n);
  rmSync(join(REGISTRY_DIR, `${id}.json`), { force: true });
  rmSync(join(REGISTRY_DIR, id), { recursive: true, force: true });
  return ordered;
}

/** A next start from the same state directory: removes what the last sandbox there left. */
export async function cleanStateDir(dir: string): Promise<string[]> {
  const r = readStateRecord(dir);
  if (!r) return [];
  if (ownerAlive(r) && r.pid !== process.pid) {
    throw new Error(`another sandbox (pid ${r.pid}) runs from ${dir}: stop it first, or use another --dir`);
  }
  const removed = await removeSandbox(r.id);
  rmSync(join(dir, STATE_FILE), { force: true });
  return removed;
}

/**
 * Removes the namespaces of every sandbox whose owner is gone (killed, or a machine restart left
 * a record); running sandboxes are left alone. Returns the namespaces removed.
 */
export async function removeOrphans(): Promise<string[]> {
  const byId = await sandboxNamespaces();
  const records = new Map<string, SandboxRecord>();
  let files: string[] = [];
  try {
    files = readdirSync(REGISTRY_DIR);
  } catch {
    // no registry yet
  }
  for (const f of files) {
    const r = readJson(join(REGISTRY_DIR, f));
    if (r) records.set(r.id, r);
  }
  const removed: string[] = [];
  for (const id of new Set([...byId.keys(), ...records.keys()])) {
    const r = records.get(id);
    if (r && ownerAlive(r)) continue;
    removed.push(...(await removeSandbox(id, byId.get(id) ?? [])));
  }
  return removed;
}
