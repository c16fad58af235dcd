/**
 * Test helpers of mesh identity: the mesh CA as the controller created it (read through the API),
 * bootstrap credentials for a pod, and gRPC channel credentials that present them to the
 * controller's ADS (servername fsm-controller.<fsm-namespace>.svc, as the sidecar's bootstrap).
 */
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { MESH_CA_SECRET_NAME } from '../../pkg/constants/index.js';
import {
  MeshAuthority,
  decodeSecretData,
  readMeshCa,
  type IssuedCertificate,
} from '../../pkg/identity/index.js';
import { RawAdsClient } from './ads-client.js';
import { eventually } from './eventually.js';

export const FSM_NS = 'fsm-system';

export function adsServerName(fsmNamespace = FSM_NS): string {
  return `fsm-controller.${fsmNamespace}.svc`;
}

/** The mesh CA in its Secret (waits for a controller or injector to create it). */
export async function meshAuthorityOf(kc: KubeConfig, fsmNamespace = FSM_NS): Promise<MeshAuthority> {
  const core = kc.makeApiClient(CoreV1Api);
  const secret = await eventually('the mesh CA Secret', () =>
    core.readNamespacedSecret({ name: MESH_CA_SECRET_NAME, namespace: fsmNamespace }),
  );
  const check = readMeshCa(decodeSecretData(secret.data), 'test');
  if (!check.ok) throw new Error(check.problem);
  return MeshAuthority.load(check.material);
}

/** Channel credentials presenting `cert` and trusting `bundlePem`. */
export function proxyChannelCredentials(
  bundlePem: string,
  cert?: Pick<IssuedCertificate, 'certPem' | 'keyPem'>,
): grpc.ChannelCredentials {
  return cert
    ? grpc.credentials.createSsl(Buffer.from(bundlePem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem))
    : grpc.credentials.createSsl(Buffer.from(bundlePem));
}

/** grpc-js channel options so that 127.0.0.1 is checked as the controller's DNS name. */
export function adsChannelOptions(fsmNamespace = FSM_NS): grpc.ChannelOptions {
  return {
    'grpc.ssl_target_name_override': adsServerName(fsmNamespace),
    'grpc.default_authority': adsServerName(fsmNamespace),
  };
}

/** A raw ADS client presenting `cert` (undefined: no client certificate). */
export function proxyAdsClient(
  address: string,
  bundlePem: string,
  cert?: Pick<IssuedCertificate, 'certPem' | 'keyPem'>,
  fsmNamespace = FSM_NS,
): RawAdsClient {
  return new RawAdsClient(address, adsChannelOptions(fsmNamespace), proxyChannelCredentials(bundlePem, cert));
}

/** A raw ADS client with the bootstrap credential of (uuid, namespace, service account). */
export async function bootstrapAdsClient(
  address: string,
  authority: MeshAuthority,
  who: { proxyUuid: string; namespace: string; serviceAccount: string },
  fsmNamespace = FSM_NS,
): Promise<RawAdsClient> {
  return proxyAdsClient(address, authority.bundlePem, await authority.bootstrap(who), fsmNamespace);
}
