/**
 * The mesh CA Secret: created once per mesh, then only read.
 *
 * ensureMeshCaSecret: any replica of the controller or the injector that finds no Secret creates
 * one with a single `create`; a 409 AlreadyExists means another replica won, and its Secret is read
 * and used. Exactly one CA per mesh whatever the number of replicas racing. A Secret that exists is
 * never updated here, valid or not (rotation is `fsm mesh ca rotate`, an operator's decision).
 *
 * MeshCaSource: watches that Secret (field selector on its name) and keeps a MeshAuthority of its
 * current content. Missing (deleted while running) or corrupt: no authority, a log line naming the
 * Secret, the key and the problem, and the readiness check fails naming it. A new root is NEVER
 * created silently while running: proxies trust the old one until an operator rotates.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import {
  IDENTITY_KIND_CA,
  IDENTITY_KIND_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MESH_CA_SECRET_NAME,
  MESH_NAME_LABEL,
} from '../constants/index.js';
import { secretInformer, type ResourceInformer } from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { MeshAuthority, newMeshCaData } from './authority.js';
import { decodeSecretData, encodeSecretData, readMeshCa, type MeshCaMaterial } from './ca-material.js';

export interface MeshCaSecretRef {
  namespace: string;
  /** Default fsm-mesh-ca. */
  name?: string;
  meshName: string;
}

function apiCode(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

/** `404 namespaces "fsm-system" not found` rather than the client's whole response dump. */
function apiError(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as
      { message?: string; code?: number } | undefined;
    if (status?.message) return `${status.code ?? apiCode(e) ?? ''} ${status.message}`.trim();
  } catch {
    // not a Status body
  }
  return errorMessage(e).split('\n')[0]!;
}

export function meshCaSecretName(ref: MeshCaSecretRef): string {
  return ref.name ?? MESH_CA_SECRET_NAME;
}

/** The CA Secret object for `data` (text values). */
export function meshCaSecret(ref: MeshCaSecretRef, data: Record<string, string>): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: meshCaSecretName(ref),
      namespace: ref.namespace,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [MESH_NAME_LABEL]: ref.meshName,
        [IDENTITY_KIND_LABEL]: IDENTITY_KIND_CA,
      },
    },
    data: encodeSecretData(data),
  };
}

/**
 * Reads the CA Secret, creating it when it does not exist. Resolves with the Secret in force and
 * whether this call created it. Never updates an existing Secret.
 */
export async function ensureMeshCaSecret(
  core: CoreV1Api,
  ref: MeshCaSecretRef,
  logger: Logger,
): Promise<{ secret: V1Secret; created: boolean }> {
  const name = meshCaSecretName(ref);
  const where = `Secret ${ref.namespace}/${name}`;
  // A list by field selector rather than a get: the same right (list/watch in the fsm namespace)
  // as the watch that follows, so the Roles need no get on Secrets.
  const read = async (): Promise<V1Secret | undefined> => {
    try {
      const list = await core.listNamespacedSecret({
        namespace: ref.namespace,
        fieldSelector: `metadata.name=${name}`,
      });
      return list.items.find((s) => s.metadata?.name === name);
    } catch (e) {
      throw new Error(`cannot read the mesh CA ${where}: ${apiError(e)}`);
    }
  };
  const existing = await read();
  if (existing) return { secret: existing, created: false };
  const body = meshCaSecret(ref, await newMeshCaData(ref.meshName));
  try {
    const secret = await core.createNamespacedSecret({ namespace: ref.namespace, body });
    logger.info(`created the mesh CA in ${where}`, { mesh: ref.meshName });
    return { secret, created: true };
  } catch (e) {
    if (apiCode(e) !== 409) throw new Error(`cannot create the mesh CA ${where}: ${apiError(e)}`);
    // Another replica created it first: use theirs (ours was never stored).
    const winner = await read();
    if (!winner) throw new Error(`the mesh CA ${where} was created concurrently but cannot be read`);
    logger.info(`the mesh CA in ${where} was created by another replica: using it`);
    return { secret: winner, created: false };
  }
}

export type MeshCaState =
  | { status: 'unknown' }
  | { status: 'ok'; authority: MeshAuthority }
  | { status: 'missing' | 'corrupt'; problem: string };

export interface MeshCaSourceOptions extends MeshCaSecretRef {
  kc: KubeConfig;
  logger: Logger;
  /** Create the Secret at start when it does not exist (default true). */
  create?: boolean;
  now?: () => number;
  /** Delay between attempts to create the Secret while none was ever seen (default 5 s). */
  createRetryMs?: number;
}

export type MeshCaListener = (authority: MeshAuthority, previous: MeshAuthority | undefined) => void;

export class MeshCaSource {
  private stateImpl: MeshCaState = { status: 'unknown' };
  private readonly informer: ResourceInformer<V1Secret>;
  private readonly listeners = new Set<MeshCaListener>();
  private readonly log: Logger;
  private readonly where: string;
  private lastAuthority: MeshAuthority | undefined;
  /** A Secret was seen at least once: from then on it is never created again by this process. */
  private seen = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Loads run one after another, in event order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: MeshCaSourceOptions) {
    this.log = opts.logger.child({ component: 'mesh-ca' });
    const name = meshCaSecretName(opts);
    this.where = `Secret ${opts.namespace}/${name}`;
    this.informer = secretInformer(opts.kc, opts.logger, {
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${name}`,
    });
    const onSecret = (s: V1Secret): void => this.enqueue(s);
    this.informer.on('add', onSecret);
    this.informer.on('update', onSecret);
    this.informer.on('delete', () => this.enqueue(undefined));
    this.informer.on('synced', () => {
      if (!this.informer.get(name, opts.namespace)) this.enqueue(undefined);
    });
  }

  get state(): MeshCaState {
    return this.stateImpl;
  }

  /** The authority while the Secret is valid; undefined when missing, corrupt or not read yet. */
  get authority(): MeshAuthority | undefined {
    return this.stateImpl.status === 'ok' ? this.stateImpl.authority : undefined;
  }

  /** Called with each new valid authority (first load, rotation phases). Returns the unsubscribe. */
  onChange(listener: MeshCaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Creates the Secret when missing (unless create: false), then watches it; resolves once loaded.
   * Never rejects: a Secret that cannot be created (namespace missing, RBAC) leaves the state
   * `missing` naming why, and creation is tried again until a Secret is seen.
   */
  async start(): Promise<MeshCaState> {
    this.stopped = false;
    if (this.opts.create !== false) await this.tryCreate();
    void this.informer
      .start()
      .catch((e: unknown) => this.log.debug('CA informer ended', { error: errorMessage(e) }));
    await this.informer.waitForSync();
    await this.chain;
    return this.stateImpl;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.informer.stop();
    await this.chain;
  }

  private async tryCreate(): Promise<void> {
    try {
      const { secret } = await ensureMeshCaSecret(this.opts.kc.makeApiClient(CoreV1Api), this.opts, this.log);
      this.enqueue(secret);
    } catch (e) {
      const problem = `${errorMessage(e)} (retrying)`;
      this.log.error('mesh CA unavailable', { secret: this.where, problem });
      this.stateImpl = { status: 'missing', problem };
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.seen && !this.stopped) void this.tryCreate();
      }, this.opts.createRetryMs ?? 5000);
      this.retryTimer.unref();
    }
  }

  /** Readiness: the CA Secret is present and valid. */
  readinessCheck(): { name: string; check: () => { ok: true } | { ok: false; reason: string } } {
    return {
      name: 'mesh CA',
      check: () => {
        const s = this.stateImpl;
        if (s.status === 'ok') return { ok: true };
        if (s.status === 'unknown') return { ok: false, reason: `${this.where} not read yet` };
        return { ok: false, reason: s.problem };
      },
    };
  }

  /** The current content, checked (for tests and the CLI). */
  material(): MeshCaMaterial | undefined {
    return this.authority?.material;
  }

  private enqueue(secret: V1Secret | undefined): void {
    this.chain = this.chain
      .then(() => this.load(secret))
      .catch((e: unknown) => {
        this.log.error('loading the mesh CA failed', { secret: this.where, error: errorMessage(e) });
      });
  }

  private async load(secret: V1Secret | undefined): Promise<void> {
    if (secret) this.seen = true;
    if (!secret) {
      if (this.stateImpl.status === 'missing') return;
      const problem = `${this.where} is missing: no certificate is issued until it exists again (it is not re-created while running: proxies trust the old root)`;
      this.log.error('mesh CA missing', { secret: this.where, problem });
      this.stateImpl = { status: 'missing', problem };
      return;
    }
    const check = readMeshCa(decodeSecretData(secret.data), this.where, (this.opts.now ?? Date.now)());
    if (!check.ok) {
      if (this.stateImpl.status === 'corrupt' && this.stateImpl.problem === check.problem) return;
      this.log.error('mesh CA is not usable', { secret: this.where, problem: check.problem });
      this.stateImpl = { status: 'corrupt', problem: check.problem };
      return;
    }
    const cur = this.authority ?? this.lastAuthority;
    if (
      this.stateImpl.status === 'ok' &&
      cur &&
      cur.material.signingId === check.material.signingId &&
      cur.material.bundleId === check.material.bundleId &&
      Boolean(cur.material.next) === Boolean(check.material.next)
    ) {
      return; // same content (resync, relabel)
    }
    const authority = await MeshAuthority.load(check.material);
    const previous = this.lastAuthority;
    this.stateImpl = { status: 'ok', authority };
    this.lastAuthority = authority;
    this.log.info('mesh CA loaded', {
      secret: this.where,
      signingRoot: check.material.signingCert.subject.replace(/\n/g, ', '),
      roots: check.material.roots.length,
      staged: check.material.next !== undefined,
    });
    for (const l of [...this.listeners]) {
      try {
        l(authority, previous);
      } catch (e) {
        this.log.error('mesh CA listener failed', { error: errorMessage(e) });
      }
    }
  }
}
