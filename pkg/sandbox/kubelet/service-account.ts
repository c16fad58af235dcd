/**
 * API access of a pod's processes: what a real node gives a container through the service-account
 * token mount and KUBERNETES_SERVICE_HOST/PORT, the sandbox gives as a per-pod kubeconfig (the
 * KUBECONFIG environment variable points at it) carrying a token the API server issued for this
 * pod and its service account. The binaries cannot be pointed at another in-cluster token
 * directory, and a kubeconfig is what they already read; the API server knows from the token which
 * pod a request comes from (so it can cut one pod off: sandbox.flomesh.io/cut-off-apiserver).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';

/** What the node agent needs from the API server to give pods API access. */
export interface ApiAccess {
  /** https://127.0.0.1:<port> */
  server: string;
  caPem: string;
  /** A bearer token bound to the pod (and its service account), revoked when the pod goes. */
  issueToken(pod: V1Pod): string;
}

/** Writes <podDir>/kubeconfig for the pod and returns its path. */
export async function writePodKubeconfig(podDir: string, pod: V1Pod, access: ApiAccess): Promise<string> {
  const sa = pod.spec?.serviceAccountName ?? 'default';
  const name = `${pod.metadata?.namespace}/${sa}`;
  const path = join(podDir, 'kubeconfig');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'sandbox',
        cluster: {
          server: access.server,
          'certificate-authority-data': Buffer.from(access.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name, user: { token: access.issueToken(pod) } }],
    contexts: [
      { name: 'in-pod', context: { cluster: 'sandbox', user: name, namespace: pod.metadata?.namespace } },
    ],
    'current-context': 'in-pod',
  };
  await writeFile(path, YAML.stringify(doc), { mode: 0o600 });
  return path;
}
