export { certificateExpiresInMs, createCA, loadCA } from './certs.js';
export type { CertificateAuthority, PemPair } from './certs.js';
