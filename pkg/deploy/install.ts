/**
 * An install as `fsm install` does it, for every caller (the CLI, and the sandbox, whose control
 * plane is an install): the webhook's TLS reused from its Secret while still good (else issued), the
 * rendered objects applied (created, configured or unchanged), and what the other certificate mode
 * left deleted. cert-manager's presence is the caller's to check first.
 */
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { INJECTOR_TLS_SECRET_NAME } from '../constants/index.js';
import {
  applyObjects,
  pruneObjects,
  readObject,
  type ApplyAction,
  type DeleteAction,
  type ObjectResult,
} from './apply.js';
import { ownerLabels, type InstallParams } from './params.js';
import { renderInstall, staleObjects } from './render.js';
import { issueInjectorTls, reusableInjectorTls, type InjectorTls } from './tls.js';

/** The serving certificate in the cluster when still good, else a newly issued one (rotation). */
export async function injectorTlsFor(
  kc: KubeConfig,
  p: InstallParams,
  now: number,
  log: (message: string) => void = () => undefined,
): Promise<InjectorTls> {
  const header: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: INJECTOR_TLS_SECRET_NAME, namespace: p.fsmNamespace },
  };
  const live = (await readObject(kc, header)) as V1Secret | undefined;
  const reused = reusableInjectorTls(live, now);
  if (reused) return reused;
  log(live ? 'webhook certificate due for rotation: issuing a new one' : 'issuing the webhook certificate');
  return issueInjectorTls(p);
}

/** Applies the install of `p`; one result per object touched. */
export async function installControlPlane(
  kc: KubeConfig,
  p: InstallParams,
  opts: { now?: number; log?: (message: string) => void } = {},
): Promise<ObjectResult<ApplyAction | DeleteAction>[]> {
  const tls = p.certManager ? undefined : await injectorTlsFor(kc, p, opts.now ?? Date.now(), opts.log);
  const applied = await applyObjects(kc, renderInstall(p, tls));
  return [...applied, ...(await pruneObjects(kc, staleObjects(p), ownerLabels(p)))];
}
