/**
 * envoy.extensions.transport_sockets.tls.v3.Secret → SecretModel, checked as Envoy would before
 * using it: a tls_certificate's chain parses and its private key matches; a validation_context's
 * trusted_ca parses as one or more CA certificates. Inline PEM only (what fsm pushes over SDS);
 * file and environment data sources are refused.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { SecretModel } from '../model.js';
import { obj, refuse, show, str } from './fields.js';
import type { Problems } from './problems.js';
import type { ResourceType } from './resource-type.js';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function inline(p: Problems, v: unknown, path: string): string | undefined {
  const ds = obj(p, v, path);
  if (!ds) return undefined;
  refuse(p, ds, ['filename', 'environment_variable', 'inline_bytes'], path);
  const s = str(p, ds.inline_string, `${path}.inline_string`);
  if (s === undefined || s === '') return p.add(`${path}.inline_string`, 'missing (inline PEM expected)');
  return s;
}

function parseSecret(p: Problems, v: unknown): SecretModel | undefined {
  const s = obj(p, v, 'Secret');
  if (!s) return undefined;
  const name = str(p, s.name, 'Secret.name', '');
  if (!name) return p.add('Secret.name', 'must not be empty');
  const path = `Secret ${show(name)}`;
  refuse(p, s, ['session_ticket_keys', 'generic_secret'], path);
  if (s.tls_certificate) {
    const tc = obj(p, s.tls_certificate, `${path}.tls_certificate`);
    if (!tc) return undefined;
    const certPem = inline(p, tc.certificate_chain, `${path}.tls_certificate.certificate_chain`);
    const keyPem = inline(p, tc.private_key, `${path}.tls_certificate.private_key`);
    if (certPem === undefined || keyPem === undefined) return undefined;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      return p.add(`${path}.tls_certificate.certificate_chain`, `does not parse: ${(err as Error).message}`);
    }
    try {
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
        return p.add(`${path}.tls_certificate.private_key`, 'does not match the certificate');
      }
    } catch (err) {
      return p.add(`${path}.tls_certificate.private_key`, `not a PEM private key: ${(err as Error).message}`);
    }
    return {
      name,
      kind: 'tls_certificate',
      certPem,
      keyPem,
      notAfter: Date.parse(cert.validTo),
      serial: cert.serialNumber,
      uris: (cert.subjectAltName ?? '')
        .split(', ')
        .filter((x) => x.startsWith('URI:'))
        .map((x) => x.slice(4)),
    };
  }
  if (s.validation_context) {
    const vc = obj(p, s.validation_context, `${path}.validation_context`);
    if (!vc) return undefined;
    const bundlePem = inline(p, vc.trusted_ca, `${path}.validation_context.trusted_ca`);
    if (bundlePem === undefined) return undefined;
    const blocks = bundlePem.match(CERT_BLOCK) ?? [];
    if (blocks.length === 0)
      return p.add(`${path}.validation_context.trusted_ca`, 'holds no PEM certificate');
    for (const [i, b] of blocks.entries()) {
      try {
        if (!new X509Certificate(b).ca)
          p.add(`${path}.validation_context.trusted_ca[${i}]`, 'is not a CA certificate');
      } catch (err) {
        p.add(`${path}.validation_context.trusted_ca[${i}]`, `does not parse: ${(err as Error).message}`);
      }
    }
    return { name, kind: 'validation_context', bundlePem, roots: blocks.length };
  }
  return p.add(path, 'neither tls_certificate nor validation_context');
}

export const SECRET_RESOURCE: ResourceType<SecretModel> = {
  kind: 'Secret',
  parse: (message, problems) => parseSecret(problems, message),
};
