/**
 * The controller's side of bootstrap credentials: it watches every bootstrap Secret of the mesh
 * (label selector) and, every BOOTSTRAP_GC_PERIOD_MS and whenever the mesh CA changes, sweeps them
 * (bootstrap-secret.ts decides): Secrets whose proxy UUID has no pod for longer than the grace are
 * deleted (a credential outlives its pod by at most grace + period), Secrets near expiry or signed
 * by a root that is no longer the active one are re-issued in place, and Secrets holding an old
 * trust bundle get the current one. Kubelet then refreshes the mounted volume and Envoy re-reads
 * the files (SDS path_config_source with watched_directory).
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import {
  BOOTSTRAP_CERT_RENEW_BEFORE_MS,
  BOOTSTRAP_CERT_VALIDITY_MS,
  BOOTSTRAP_GC_GRACE_MS,
  BOOTSTRAP_GC_PERIOD_MS,
} from '../constants/index.js';
import { secretInformer, type ResourceInformer } from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import {
  bootstrapSecretData,
  bootstrapSecretSelector,
  sweepBootstrapSecrets,
  type RenewAction,
} from './bootstrap-secret.js';
import { encodeSecretData, decodeSecretData } from './ca-material.js';
import type { MeshCaSource } from './ca-secret.js';
import { TLS_CERT_KEY, TLS_KEY_KEY } from '../constants/index.js';

export interface BootstrapKeeperOptions {
  kc: KubeConfig;
  meshName: string;
  ca: MeshCaSource;
  /** The pod with this proxy UUID in this namespace (the controller's pod index). */
  pod(namespace: string, proxyUuid: string): { serviceAccount: string } | undefined;
  /** Sweeps run only once pods are known: a pod cache not yet synced would look like "no pod". */
  podsSynced(): boolean;
  logger: Logger;
  graceMs?: number;
  periodMs?: number;
  renewBeforeMs?: number;
  validityMs?: number;
  now?: () => number;
}

export interface SweepReport {
  deleted: number;
  renewed: number;
  failed: number;
  skipped?: string;
}

export class BootstrapKeeper {
  readonly secrets: ResourceInformer<V1Secret>;
  private readonly core: CoreV1Api;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<SweepReport> | undefined;
  private again = false;
  private unwatchCa: (() => void) | undefined;

  constructor(private readonly opts: BootstrapKeeperOptions) {
    this.log = opts.logger.child({ component: 'bootstrap-keeper' });
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.secrets = secretInformer(opts.kc, opts.logger, {
      labelSelector: bootstrapSecretSelector(opts.meshName),
    });
  }

  start(): void {
    void this.secrets
      .start()
      .catch((e: unknown) => this.log.debug('informer ended', { error: errorMessage(e) }));
    this.unwatchCa = this.opts.ca.onChange(() => void this.sweep());
    // A first sweep as soon as the caches are synced (a new controller after a CA change, a restart
    // after an outage), not a whole period later.
    const first = async (): Promise<void> => {
      while (this.timer && (await this.sweep()).skipped === 'caches not synced') {
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    this.timer = setInterval(() => void this.sweep(), this.opts.periodMs ?? BOOTSTRAP_GC_PERIOD_MS);
    this.timer.unref();
    void first();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unwatchCa?.();
    await this.secrets.stop();
    await this.sweeping;
  }

  /** One sweep (coalesced: a sweep asked for while one runs runs once more after it). */
  sweep(): Promise<SweepReport> {
    if (this.sweeping) {
      this.again = true;
      return this.sweeping;
    }
    this.sweeping = this.runSweep().finally(() => {
      this.sweeping = undefined;
      if (this.again) {
        this.again = false;
        void this.sweep();
      }
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<SweepReport> {
    const authority = this.opts.ca.authority;
    if (!authority) return { deleted: 0, renewed: 0, failed: 0, skipped: 'mesh CA unavailable' };
    if (!this.secrets.hasSynced() || !this.opts.podsSynced()) {
      return { deleted: 0, renewed: 0, failed: 0, skipped: 'caches not synced' };
    }
    const m = authority.material;
    const plan = sweepBootstrapSecrets({
      secrets: this.secrets.list(),
      pod: (ns, uuid) => this.opts.pod(ns, uuid),
      roots: m.roots,
      signing: m.signingCert,
      bundlePem: m.bundlePem,
      now: (this.opts.now ?? Date.now)(),
      graceMs: this.opts.graceMs ?? BOOTSTRAP_GC_GRACE_MS,
      renewBeforeMs: this.opts.renewBeforeMs ?? BOOTSTRAP_CERT_RENEW_BEFORE_MS,
    });
    const report: SweepReport = { deleted: 0, renewed: 0, failed: 0 };
    for (const r of plan.remove) {
      try {
        await this.core.deleteNamespacedSecret({ name: r.name, namespace: r.namespace });
        report.deleted++;
        this.log.info('bootstrap credential deleted', {
          secret: `${r.namespace}/${r.name}`,
          reason: r.reason,
        });
      } catch (e) {
        if ((e as { code?: number }).code === 404) continue;
        report.failed++;
        this.log.warn('cannot delete bootstrap credential', {
          secret: `${r.namespace}/${r.name}`,
          error: errorMessage(e),
        });
      }
    }
    for (const r of plan.renew) {
      try {
        await this.renew(r);
        report.renewed++;
      } catch (e) {
        report.failed++;
        this.log.warn('cannot renew bootstrap credential', {
          secret: `${r.namespace}/${r.name}`,
          error: errorMessage(e),
        });
      }
    }
    if (report.deleted || report.renewed || report.failed)
      this.log.info('bootstrap credentials swept', { ...report });
    return report;
  }

  private async renew(r: RenewAction): Promise<void> {
    const authority = this.opts.ca.authority;
    if (!authority) throw new Error('mesh CA unavailable');
    const old = decodeSecretData(r.secret.data);
    const pair = r.reissue
      ? await authority.bootstrap(r.identity, this.opts.validityMs ?? BOOTSTRAP_CERT_VALIDITY_MS)
      : { certPem: old[TLS_CERT_KEY] ?? '', keyPem: old[TLS_KEY_KEY] ?? '' };
    const data = { ...old, ...bootstrapSecretData(pair, authority.bundlePem) };
    // replace carries the resourceVersion read: a concurrent writer (another replica) makes it 409.
    await this.core.replaceNamespacedSecret({
      name: r.name,
      namespace: r.namespace,
      body: { ...r.secret, data: encodeSecretData(data) },
    });
    this.log.info('bootstrap credential renewed', { secret: `${r.namespace}/${r.name}`, reason: r.reason });
  }
}
