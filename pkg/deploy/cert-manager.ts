/**
 * Webhook TLS from cert-manager (`fsm install --cert-manager`). cert-manager writes the serving
 * certificate into Secret INJECTOR_TLS_SECRET_NAME (tls.crt, tls.key, ca.crt), the injector mounts it
 * and reloads it when it changes, and cert-manager's CA injector copies ca.crt into the webhook
 * configuration's caBundle, found through the cert-manager.io/inject-ca-from annotation.
 *
 * Without an issuer of the user's, a self-signed bootstrap Issuer signs a CA Certificate and an
 * Issuer of that CA signs the serving Certificate: the caBundle then only changes when the CA does
 * (every 5 years), not at each serving-certificate renewal. With `certManagerIssuer`, the serving
 * Certificate names that Issuer or ClusterIssuer and no bootstrap objects are rendered.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  CERT_MANAGER_API_VERSION,
  CERT_MANAGER_GROUP,
  INJECTOR_APP,
  INJECTOR_CA_NAME,
  INJECTOR_CA_RENEW_BEFORE_DAYS,
  INJECTOR_CA_VALIDITY_DAYS,
  INJECTOR_CERT_RENEW_BEFORE_MS,
  INJECTOR_CERT_VALIDITY_DAYS,
  INJECTOR_SELF_SIGNED_ISSUER_NAME,
  INJECTOR_SERVING_CERTIFICATE_NAME,
  INJECTOR_TLS_SECRET_NAME,
} from '../constants/index.js';
import { commonLabels, type InstallParams, type IssuerRef } from './params.js';
import { injectorDnsNames } from './tls.js';

/** A Go duration in whole hours, as cert-manager's duration fields take it. */
function hours(ms: number): string {
  return `${Math.round(ms / 3_600_000)}h`;
}
const DAY_MS = 24 * 3_600_000;

/** `<namespace>/<serving Certificate>`: the value of cert-manager.io/inject-ca-from. */
export function injectCaFrom(p: InstallParams): string {
  return `${p.fsmNamespace}/${INJECTOR_SERVING_CERTIFICATE_NAME}`;
}

/** The issuer that signs the serving certificate: the user's, or the bootstrap CA Issuer. */
export function servingIssuer(p: InstallParams): IssuerRef {
  return p.certManagerIssuer ?? { kind: 'Issuer', name: INJECTOR_CA_NAME };
}

function meta(p: InstallParams, name: string): KubernetesObject['metadata'] {
  return { name, namespace: p.fsmNamespace, labels: commonLabels(p, INJECTOR_APP) };
}

/** Self-signed Issuer → CA Certificate (Secret INJECTOR_CA_NAME) → CA Issuer. */
export function renderCertManagerBootstrap(p: InstallParams): KubernetesObject[] {
  return [
    {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Issuer',
      metadata: meta(p, INJECTOR_SELF_SIGNED_ISSUER_NAME),
      spec: { selfSigned: {} },
    } as KubernetesObject,
    {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Certificate',
      metadata: meta(p, INJECTOR_CA_NAME),
      spec: {
        isCA: true,
        commonName: `fsm-injector CA (mesh ${p.meshName})`,
        secretName: INJECTOR_CA_NAME,
        secretTemplate: { labels: commonLabels(p, INJECTOR_APP) },
        duration: hours(INJECTOR_CA_VALIDITY_DAYS * DAY_MS),
        renewBefore: hours(INJECTOR_CA_RENEW_BEFORE_DAYS * DAY_MS),
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { group: CERT_MANAGER_GROUP, kind: 'Issuer', name: INJECTOR_SELF_SIGNED_ISSUER_NAME },
      },
    } as KubernetesObject,
    {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Issuer',
      metadata: meta(p, INJECTOR_CA_NAME),
      spec: { ca: { secretName: INJECTOR_CA_NAME } },
    } as KubernetesObject,
  ];
}

/** The serving Certificate: SANs of the injector Service, written to the Secret the injector mounts. */
export function renderServingCertificate(p: InstallParams): KubernetesObject {
  const names = injectorDnsNames(p);
  const issuer = servingIssuer(p);
  return {
    apiVersion: CERT_MANAGER_API_VERSION,
    kind: 'Certificate',
    metadata: meta(p, INJECTOR_SERVING_CERTIFICATE_NAME),
    spec: {
      secretName: INJECTOR_TLS_SECRET_NAME,
      secretTemplate: { labels: commonLabels(p, INJECTOR_APP) },
      commonName: names[2],
      dnsNames: names,
      usages: ['server auth', 'digital signature', 'key encipherment'],
      duration: hours(INJECTOR_CERT_VALIDITY_DAYS * DAY_MS),
      renewBefore: hours(INJECTOR_CERT_RENEW_BEFORE_MS),
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      issuerRef: { group: CERT_MANAGER_GROUP, kind: issuer.kind, name: issuer.name },
    },
  } as KubernetesObject;
}

/** Everything cert-manager needs from the install, in apply order (issuers before what they sign). */
export function renderCertManagerObjects(p: InstallParams): KubernetesObject[] {
  return [...(p.certManagerIssuer ? [] : renderCertManagerBootstrap(p)), renderServingCertificate(p)];
}
