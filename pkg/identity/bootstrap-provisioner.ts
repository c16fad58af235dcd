/**
 * The injector's side of bootstrap credentials: at the admission of an injected pod (never for a
 * dryRun), issue the pod's bootstrap certificate with the mesh CA and create its Secret in the
 * pod's namespace. A failure is the admission's failure: a pod without its credential could never
 * get configuration.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { BOOTSTRAP_CERT_VALIDITY_MS } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { bootstrapSecret, bootstrapSecretName } from './bootstrap-secret.js';
import type { MeshCaSource } from './ca-secret.js';

export interface BootstrapRequest {
  proxyUuid: string;
  namespace: string;
  serviceAccount: string;
}

/** What admission calls; resolves once the Secret exists. */
export interface BootstrapCredentials {
  provision(req: BootstrapRequest): Promise<{ secretName: string }>;
}

export class BootstrapProvisioner implements BootstrapCredentials {
  private readonly core: CoreV1Api;

  constructor(
    private readonly opts: {
      kc: KubeConfig;
      meshName: string;
      ca: MeshCaSource;
      logger: Logger;
      validityMs?: number;
    },
  ) {
    this.core = opts.kc.makeApiClient(CoreV1Api);
  }

  async provision(req: BootstrapRequest): Promise<{ secretName: string }> {
    const authority = this.opts.ca.authority;
    if (!authority) {
      const s = this.opts.ca.state;
      throw new Error(`the mesh CA is not available: ${'problem' in s ? s.problem : 'not loaded yet'}`);
    }
    const pair = await authority.bootstrap(req, this.opts.validityMs ?? BOOTSTRAP_CERT_VALIDITY_MS);
    const body = bootstrapSecret({
      ...req,
      meshName: this.opts.meshName,
      pair,
      bundlePem: authority.bundlePem,
    });
    const secretName = bootstrapSecretName(req.proxyUuid);
    try {
      await this.core.createNamespacedSecret({ namespace: req.namespace, body });
    } catch (e) {
      throw new Error(`cannot create Secret ${req.namespace}/${secretName}: ${errorMessage(e)}`);
    }
    this.opts.logger.debug('bootstrap credential created', { secret: `${req.namespace}/${secretName}` });
    return { secretName };
  }
}
