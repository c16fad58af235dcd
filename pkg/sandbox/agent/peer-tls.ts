/**
 * The data plane's mTLS with SDS material: TLS termination of an inbound chain (the workload
 * certificate presented, the client verified against the trust bundle and its URI SAN) and the
 * secure context of a mesh cluster's TLS origination (the same certificate, the server verified the
 * same way). Secrets are looked up by SDS name on every connection, so a rotation applies to the
 * next one; a secure context is built once per distinct certificate and bundle.
 */
import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { DownstreamTlsModel, PeerVerification, SanMatcher, SecretModel } from './model.js';

export type SecretLookup = (name: string) => SecretModel | undefined;

/** The URI SANs of a peer certificate (`URI:spiffe://…` entries of subjectaltname). */
export function uriSans(cert: { subjectaltname?: string } | undefined | null): string[] {
  return (cert?.subjectaltname ?? '')
    .split(', ')
    .filter((x) => x.startsWith('URI:'))
    .map((x) => x.slice(4));
}

/** True when one URI matches one matcher (none: any). */
export function sanMatches(uris: readonly string[], sans: readonly SanMatcher[]): boolean {
  if (sans.length === 0) return true;
  return uris.some((u) => sans.some((m) => (m.kind === 'exact' ? u === m.value : u.startsWith(m.value))));
}

function describeSans(sans: readonly SanMatcher[]): string {
  return sans.map((m) => (m.kind === 'exact' ? m.value : `${m.value}*`)).join(' | ');
}

const contexts = new WeakMap<SecretModel, WeakMap<SecretModel | object, tls.SecureContext>>();
const NO_BUNDLE = {};

/**
 * The secure context of a certificate secret and (if any) a bundle secret; an Error naming the
 * secret that is missing or of the wrong kind (the connection is refused, as Envoy refuses
 * connections on a listener whose SDS secret has not arrived).
 */
export function secureContextOf(
  secrets: SecretLookup,
  certSecret: string | undefined,
  verify: PeerVerification | undefined,
  minVersion: 'TLSv1.2' | 'TLSv1.3' | undefined,
): tls.SecureContext {
  const cert = certSecret === undefined ? undefined : secrets(certSecret);
  if (certSecret !== undefined && cert?.kind !== 'tls_certificate') {
    throw new Error(`SDS secret ${JSON.stringify(certSecret)} (tls_certificate) has not arrived`);
  }
  const bundle = verify ? secrets(verify.bundleSecret) : undefined;
  if (verify && bundle?.kind !== 'validation_context') {
    throw new Error(`SDS secret ${JSON.stringify(verify.bundleSecret)} (validation_context) has not arrived`);
  }
  const build = (): tls.SecureContext =>
    tls.createSecureContext({
      ...(cert?.kind === 'tls_certificate' ? { cert: cert.certPem, key: cert.keyPem } : {}),
      ...(bundle?.kind === 'validation_context' ? { ca: bundle.bundlePem } : {}),
      minVersion: minVersion ?? 'TLSv1.2',
    });
  if (!cert || minVersion === 'TLSv1.3') return build();
  let byBundle = contexts.get(cert);
  if (!byBundle) contexts.set(cert, (byBundle = new WeakMap()));
  const key = bundle ?? NO_BUNDLE;
  let ctx = byBundle.get(key);
  if (!ctx) byBundle.set(key, (ctx = build()));
  return ctx;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const rootsOf = new WeakMap<SecretModel, X509Certificate[]>();

/**
 * Why a client certificate does not verify against the bundle secret (undefined: it does): signed
 * by one of the bundle's roots (the mesh CA issues workload certificates from its signing root) and
 * within its validity. Node's server-side TLSSocket accepts any chain in the handshake and leaves
 * the check to its caller (its own tls.Server does it after the handshake too).
 */
export function clientCertificateProblem(
  peer: X509Certificate | undefined,
  bundle: SecretModel | undefined,
): string | undefined {
  if (!peer) return 'no client certificate presented (mTLS required)';
  if (bundle?.kind !== 'validation_context') return 'the trust bundle has not arrived';
  let roots = rootsOf.get(bundle);
  if (!roots) {
    roots = (bundle.bundlePem.match(CERT_BLOCK) ?? []).map((b) => new X509Certificate(b));
    rootsOf.set(bundle, roots);
  }
  const now = Date.now();
  if (Date.parse(peer.validFrom) > now || Date.parse(peer.validTo) < now) {
    return `client certificate is outside its validity (${peer.validFrom} – ${peer.validTo})`;
  }
  const signed = roots.some((r) => {
    try {
      return peer.checkIssued(r) && peer.verify(r.publicKey);
    } catch {
      return false;
    }
  });
  return signed
    ? undefined
    : `client certificate (issuer ${peer.issuer.replace(/\n/g, ', ')}) is not signed by the mesh trust bundle`;
}

/** A terminated inbound TLS connection and the peer it proved to be. */
export interface TerminatedTls {
  socket: tls.TLSSocket;
  /** The client's first matching URI SAN (its SPIFFE ID); undefined without a client certificate. */
  peerUri?: string;
}

/**
 * Terminates TLS on an accepted connection as a chain's DownstreamTlsContext asks: rejects (and
 * destroys the connection) on a handshake failure, a missing required client certificate, one that
 * does not chain to the bundle, or one whose URI SANs match none of the matchers.
 */
export function terminateTls(
  socket: net.Socket,
  model: DownstreamTlsModel,
  secrets: SecretLookup,
  timeoutMs: number,
): Promise<TerminatedTls> {
  return new Promise((resolve, reject) => {
    let context: tls.SecureContext;
    try {
      context = secureContextOf(secrets, model.certSecret, model.verify, model.minVersion);
    } catch (err) {
      socket.destroy();
      reject(err as Error);
      return;
    }
    // The handshake requires a client certificate (SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT); its chain
    // is checked after it (clientCertificateProblem). The parser only accepts a validation context
    // together with require_client_certificate.
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      requestCert: model.requireClientCertificate,
      rejectUnauthorized: model.requireClientCertificate,
    });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`TLS handshake timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    secure.once('error', (err: NodeJS.ErrnoException) =>
      fail(new Error(`${err.code ? `${err.code}: ` : ''}${err.message}`)),
    );
    secure.once('secure', () => {
      clearTimeout(timer);
      if (model.verify) {
        const problem = clientCertificateProblem(
          secure.getPeerX509Certificate(),
          secrets(model.verify.bundleSecret),
        );
        if (problem) {
          fail(new Error(problem));
          return;
        }
      }
      const uris = uriSans(secure.getPeerCertificate());
      if (model.verify && !sanMatches(uris, model.verify.sans)) {
        fail(
          new Error(
            `client certificate SAN ${JSON.stringify(uris)} matches none of ${describeSans(model.verify.sans)}`,
          ),
        );
        return;
      }
      const sans = model.verify?.sans ?? [];
      const peerUri = uris.find((u) => sanMatches([u], sans));
      resolve({ socket: secure, ...(peerUri ? { peerUri } : {}) });
    });
  });
}

/** checkServerIdentity of a mesh cluster: the server's URI SANs against the matchers (no hostname check). */
export function checkServerSans(
  sans: readonly SanMatcher[],
): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const uris = uriSans(cert);
    return sanMatches(uris, sans)
      ? undefined
      : new Error(`server certificate SAN ${JSON.stringify(uris)} matches none of ${describeSans(sans)}`);
  };
}
