/**
 * pkg/identity — mesh identity: the mesh CA (its Secret, checks, rotation), bootstrap credentials
 * (issued by the injector, swept and renewed by the controller), the authorization of ADS streams
 * by their client certificate, and workload certificates served over SDS.
 */
export { MeshAuthority, newMeshCaData, newRoot } from './authority.js';
export type { IssuedCertificate, WorkloadCertRequest } from './authority.js';
export { authorizeProxy } from './authorize.js';
export type {
  AuthorizationStatus,
  AuthorizedProxy,
  ProxyAuthorization,
  ProxyPod,
  ProxyPodLookup,
} from './authorize.js';
export {
  bootstrapCommonName,
  describeCertificate,
  parseBootstrapCommonName,
  verifyBootstrapCertificate,
} from './bootstrap-cert.js';
export type { BootstrapIdentity, BootstrapRefusal, BootstrapVerdict } from './bootstrap-cert.js';
export { BootstrapKeeper } from './bootstrap-keeper.js';
export type { BootstrapKeeperOptions, SweepReport } from './bootstrap-keeper.js';
export { BootstrapProvisioner } from './bootstrap-provisioner.js';
export type { BootstrapCredentials, BootstrapRequest } from './bootstrap-provisioner.js';
export {
  bootstrapSecret,
  bootstrapSecretData,
  bootstrapSecretName,
  bootstrapSecretSelector,
  readBootstrapSecret,
  sweepBootstrapSecrets,
} from './bootstrap-secret.js';
export type { BootstrapSecretView, RenewAction, SweepAction, SweepInput } from './bootstrap-secret.js';
export { decodeSecretData, encodeSecretData, readMeshCa } from './ca-material.js';
export type { CaData, CaPair, MeshCaCheck, MeshCaMaterial } from './ca-material.js';
export { MeshCaSource, ensureMeshCaSecret, meshCaSecret, meshCaSecretName } from './ca-secret.js';
export type { MeshCaListener, MeshCaSecretRef, MeshCaSourceOptions, MeshCaState } from './ca-secret.js';
export { derToPem, joinPem, parseBundle, splitPemCertificates } from './pem.js';
export { ROTATION_PHASES, rotateMeshCa } from './rotation.js';
export type { RotationPhase, RotationResult } from './rotation.js';
export { checkTrustDomain, parseSpiffeId, spiffeId } from './spiffe.js';
export type { WorkloadName } from './spiffe.js';
export { WorkloadCertIssuer } from './workload-issuer.js';
export type { AuthoritySource, SecretSink, WorkloadRef, WorkloadIssuerOptions } from './workload-issuer.js';
