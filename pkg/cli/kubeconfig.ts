/**
 * The CLI's KubeConfig from --kubeconfig / --context. pkg/k8s owns kubeconfig discovery
 * (loadKubeConfig); until it lands this minimal loader keeps the same order: --kubeconfig, then
 * $KUBECONFIG, then ~/.kube/config, then the in-cluster service account. The program takes the
 * loader as a dependency, so switching is one line in program.ts.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KUBECONFIG_ENV, SERVICEACCOUNT_DIR, SERVICEACCOUNT_TOKEN_FILE } from '../constants/index.js';
import { errorMessage } from '../logger/index.js';
import { CliError, type GlobalOptions } from './context.js';

export type KubeConfigLoader = (opts: GlobalOptions) => KubeConfig;

function fromFile(path: string, what: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new CliError(`${what} ${path}: cannot load: ${errorMessage(e)}`);
  }
  return kc;
}

export function loadCliKubeConfig(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  let kc: KubeConfig | undefined;
  let source = '';
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new CliError(`--kubeconfig ${opts.kubeconfig}: file not found`);
    kc = fromFile(opts.kubeconfig, '--kubeconfig');
    source = `--kubeconfig ${opts.kubeconfig}`;
  } else {
    const files = (env[KUBECONFIG_ENV] ?? '').split(delimiter).filter((f) => f !== '' && existsSync(f));
    const home = join(homedir(), '.kube', 'config');
    if (files.length > 0) {
      kc = fromFile(files[0]!, `$${KUBECONFIG_ENV}`);
      source = `$${KUBECONFIG_ENV} ${files[0]}`;
    } else if (existsSync(home)) {
      kc = fromFile(home, 'kubeconfig');
      source = home;
    } else if (
      env['KUBERNETES_SERVICE_HOST'] &&
      existsSync(join(SERVICEACCOUNT_DIR, SERVICEACCOUNT_TOKEN_FILE))
    ) {
      kc = new KubeConfig();
      kc.loadFromCluster();
      source = 'the in-cluster service account';
    } else {
      throw new CliError(
        `no Kubernetes configuration found: --kubeconfig not set, $${KUBECONFIG_ENV} names no existing file, ` +
          `${home} does not exist and this is not a pod. Pass --kubeconfig <file> or set $${KUBECONFIG_ENV}.`,
      );
    }
  }
  if (opts.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context)) {
      throw new CliError(
        `--context ${opts.context}: no such context in ${source} (contexts: ${names.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()?.server) {
    throw new CliError(
      `${source}: the current context "${kc.getCurrentContext()}" has no cluster with a server URL`,
    );
  }
  return kc;
}
