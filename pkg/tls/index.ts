export { certificateExpiresInMs, createCA, loadCA } from './certs.js';
export type { CertificateAuthority, PemPair, ServingCertOptions } from './certs.js';
