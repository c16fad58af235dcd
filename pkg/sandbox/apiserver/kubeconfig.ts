/** A kubeconfig for the sandbox API server: inline CA, bearer token, one context. */
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import YAML from 'yaml';

export interface SandboxKubeconfigOptions {
  server: string;
  caPem: string;
  token: string;
  /** Context, cluster and user name (default fsm-sandbox). */
  name?: string;
  namespace?: string;
}

export function kubeconfigYaml(opts: SandboxKubeconfigOptions): string {
  const name = opts.name ?? 'fsm-sandbox';
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: opts.server,
          'certificate-authority-data': Buffer.from(opts.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name, user: { token: opts.token } }],
    contexts: [
      {
        name,
        context: { cluster: name, user: name, ...(opts.namespace ? { namespace: opts.namespace } : {}) },
      },
    ],
    'current-context': name,
    preferences: {},
  });
}

/** Writes the kubeconfig (mode 0600, parent directories created). */
export async function writeKubeconfig(path: string, opts: SandboxKubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kubeconfigYaml(opts), { mode: 0o600 });
}
