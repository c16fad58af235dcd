/**
 * Kubeconfig loading in the usual order: --kubeconfig, then $KUBECONFIG (merged, missing files
 * skipped), then ~/.kube/config, then the in-cluster service account. Unlike the client's
 * loadFromDefault (which silently falls back to http://localhost:8080), nothing found is an error
 * that says what was tried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  KUBECONFIG_ENV,
  SERVICEACCOUNT_CA_FILE,
  SERVICEACCOUNT_DIR,
  SERVICEACCOUNT_NAMESPACE_FILE,
  SERVICEACCOUNT_TOKEN_FILE,
} from '../constants/index.js';
import { errorMessage } from '../logger/index.js';

export interface LoadKubeConfigOptions {
  /** --kubeconfig: a path that must exist. */
  kubeconfig?: string;
  /** --context: must name a context of the loaded config. */
  context?: string;
  /** Defaults to process.env (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** Defaults to os.homedir(). */
  home?: string;
  /** Directory of the in-cluster service account files (default the standard mount). */
  serviceAccountDir?: string;
}

export class KubeConfigError extends Error {}

/** Where the configuration came from (for logs and error messages). */
export type KubeConfigSource = 'flag' | 'env' | 'home' | 'in-cluster';

export interface LoadedKubeConfig {
  kc: KubeConfig;
  source: KubeConfigSource;
  /** Files read (empty for in-cluster). */
  files: string[];
}

function loadFile(kc: KubeConfig, path: string, what: string): void {
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new KubeConfigError(`${what} ${path}: cannot load: ${errorMessage(e)}`);
  }
}

/** Loads the configuration and reports where it came from. */
export function resolveKubeConfig(opts: LoadKubeConfigOptions = {}): LoadedKubeConfig {
  const env = opts.env ?? process.env;
  const tried: string[] = [];
  let loaded: LoadedKubeConfig | undefined;
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== '') {
    if (!existsSync(opts.kubeconfig)) {
      throw new KubeConfigError(`--kubeconfig ${opts.kubeconfig}: file not found`);
    }
    const kc = new KubeConfig();
    loadFile(kc, opts.kubeconfig, '--kubeconfig');
    loaded = { kc, source: 'flag', files: [opts.kubeconfig] };
  }
  if (!loaded) {
    const envValue = env[KUBECONFIG_ENV];
    if (envValue) {
      const files = envValue.split(delimiter).filter((f) => f !== '');
      const present = files.filter((f) => existsSync(f));
      if (present.length) {
        const kc = new KubeConfig();
        loadFile(kc, present[0]!, `$${KUBECONFIG_ENV}`);
        for (const f of present.slice(1)) {
          const other = new KubeConfig();
          loadFile(other, f, `$${KUBECONFIG_ENV}`);
          // The first file wins for current-context, as kubectl does.
          try {
            kc.mergeConfig(other, true);
          } catch (e) {
            throw new KubeConfigError(`$${KUBECONFIG_ENV} ${f}: cannot merge: ${errorMessage(e)}`);
          }
        }
        loaded = { kc, source: 'env', files: present };
      } else tried.push(`$${KUBECONFIG_ENV}=${envValue} (no such file)`);
    } else tried.push(`$${KUBECONFIG_ENV} (not set)`);
  }
  if (!loaded) {
    const home = opts.home ?? homedir();
    const path = join(home, '.kube', 'config');
    if (existsSync(path)) {
      const kc = new KubeConfig();
      loadFile(kc, path, 'kubeconfig');
      loaded = { kc, source: 'home', files: [path] };
    } else tried.push(`${path} (no such file)`);
  }
  if (!loaded) {
    const dir = opts.serviceAccountDir ?? SERVICEACCOUNT_DIR;
    const host = env['KUBERNETES_SERVICE_HOST'];
    const port = env['KUBERNETES_SERVICE_PORT'];
    const tokenFile = join(dir, SERVICEACCOUNT_TOKEN_FILE);
    if (host && port && existsSync(tokenFile)) {
      const kc = new KubeConfig();
      const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
      const nsFile = join(dir, SERVICEACCOUNT_NAMESPACE_FILE);
      kc.loadFromOptions({
        clusters: [
          { name: 'in-cluster', server, caFile: join(dir, SERVICEACCOUNT_CA_FILE), skipTLSVerify: false },
        ],
        users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
        contexts: [
          {
            name: 'in-cluster',
            cluster: 'in-cluster',
            user: 'in-cluster',
            namespace: existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined,
          },
        ],
        currentContext: 'in-cluster',
      });
      loaded = { kc, source: 'in-cluster', files: [] };
    } else if (!host || !port) {
      tried.push('in-cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT not set)');
    } else tried.push(`in-cluster (${tokenFile}: no such file)`);
  }
  if (!loaded) {
    throw new KubeConfigError(
      `no Kubernetes configuration found; tried --kubeconfig (not set), ${tried.join(', ')}. ` +
        'Pass --kubeconfig <file> or set $KUBECONFIG.',
    );
  }
  const { kc } = loaded;
  if (opts.context !== undefined && opts.context !== '') {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context)) {
      throw new KubeConfigError(
        `--context ${opts.context}: no such context in ${describeSource(loaded)} (contexts: ${names.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const current = kc.getCurrentContext();
  if (!current || !kc.getContextObject(current)) {
    throw new KubeConfigError(
      `${describeSource(loaded)}: no current context (set current-context or pass --context)`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) {
    throw new KubeConfigError(
      `${describeSource(loaded)}: context "${current}" has no cluster with a server URL`,
    );
  }
  return loaded;
}

function describeSource(l: LoadedKubeConfig): string {
  switch (l.source) {
    case 'flag':
      return `--kubeconfig ${l.files[0]}`;
    case 'env':
      return `$${KUBECONFIG_ENV} (${l.files.join(delimiter)})`;
    case 'home':
      return l.files[0]!;
    case 'in-cluster':
      return 'the in-cluster configuration';
  }
}

/** The KubeConfig to use, in the usual order; throws KubeConfigError saying what was tried. */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  return resolveKubeConfig(opts).kc;
}
