/**
 * `fsm install` / `fsm uninstall`: the control plane rendered by pkg/deploy, applied through the
 * API (create when absent, merge patch when different, "unchanged" otherwise), or printed as YAML
 * with --dry-run (`fsm install --dry-run | kubectl apply -f -`). Kinds the API server does not serve
 * are skipped with a warning on stderr — except cert-manager's with --cert-manager: without them the
 * webhook would never get a caBundle, so the install refuses before it creates anything. Objects of
 * the other certificate mode left by an earlier install are deleted after applying. Uninstall
 * deletes the webhook configuration first, and the objects of both modes.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parsePositiveInt } from '../binary/index.js';
import {
  CERT_MANAGER_API_VERSION,
  INJECTOR_TLS_SECRET_NAME,
  LOG_LEVELS,
  type LogLevel,
} from '../constants/index.js';
import {
  defaultInstallParams,
  deleteObjects,
  injectCaFrom,
  installControlPlane,
  issueInjectorTls,
  parseIssuerRef,
  readObject,
  renderAnyMode,
  renderCertManagerObjects,
  renderInstall,
  servingIssuer,
  toYaml,
  unservedKinds,
  validateInstallParams,
  type InstallParams,
  type IssuerRef,
  type ObjectResult,
} from '../deploy/index.js';
import { errorMessage } from '../logger/index.js';
import { CliError, type CliContext } from './context.js';
import { fsmNamespaceOption, meshNameOption } from './flags.js';
import { apiErrorMessage } from './kube-errors.js';

interface InstallOptions {
  meshName: string;
  fsmNamespace: string;
  dryRun?: boolean;
  controllerImage?: string;
  injectorImage?: string;
  sidecarImage?: string;
  initImage?: string;
  healthcheckImage?: string;
  controllerReplicas?: number;
  injectorReplicas?: number;
  logLevel?: LogLevel;
  imagePullPolicy?: InstallParams['imagePullPolicy'];
  certManager?: boolean;
  certManagerIssuer?: IssuerRef;
  trustDomain?: string;
  controllerOutOfSyncThreshold?: string;
}

function paramsFrom(opts: InstallOptions): InstallParams {
  const overrides: Partial<InstallParams> = { meshName: opts.meshName, fsmNamespace: opts.fsmNamespace };
  for (const key of [
    'controllerImage',
    'injectorImage',
    'sidecarImage',
    'initImage',
    'healthcheckImage',
    'controllerReplicas',
    'injectorReplicas',
    'logLevel',
    'imagePullPolicy',
    'trustDomain',
    'controllerOutOfSyncThreshold',
  ] as const) {
    if (opts[key] !== undefined) (overrides as Record<string, unknown>)[key] = opts[key];
  }
  if (opts.certManager || opts.certManagerIssuer) overrides.certManager = true;
  if (opts.certManagerIssuer) overrides.certManagerIssuer = opts.certManagerIssuer;
  try {
    return validateInstallParams(defaultInstallParams(overrides));
  } catch (e) {
    throw new CliError(errorMessage(e), 2);
  }
}

function summary<A extends string>(results: readonly ObjectResult<A>[], order: readonly A[]): string {
  return order.map((a) => `${results.filter((r) => r.action === a).length} ${a}`).join(', ');
}

function report<A extends string>(ctx: CliContext, results: readonly ObjectResult<A>[]): void {
  for (const r of results) {
    if (r.action === 'skipped') ctx.io.err(`Warning: ${r.object} skipped: ${r.reason ?? ''}\n`);
    else ctx.io.out(`${r.object} ${r.action}${r.reason ? ` (${r.reason})` : ''}\n`);
  }
}

export function installCommand(ctx: CliContext): Command {
  return new Command('install')
    .description('install an fsm control plane (add --dry-run to print the manifests as YAML instead)')
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .addOption(new Option('--dry-run', 'print multi-document YAML on stdout; touch nothing'))
    .addOption(
      new Option(
        '--controller-image <image>',
        'fsm-controller image (default: flomesh/fsm-controller:v<version>)',
      ),
    )
    .addOption(
      new Option('--injector-image <image>', 'fsm-injector image (default: flomesh/fsm-injector:v<version>)'),
    )
    .addOption(new Option('--sidecar-image <image>', 'proxy sidecar image the injector adds'))
    .addOption(new Option('--init-image <image>', 'fsm-init image the injector adds'))
    .addOption(new Option('--healthcheck-image <image>', 'fsm-healthcheck image the injector adds'))
    .addOption(
      new Option('--controller-replicas <n>', 'fsm-controller replicas (default 1)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(
      new Option('--injector-replicas <n>', 'fsm-injector replicas (default 1)').argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--log-level <level>', 'control-plane --verbosity (default info)').choices(LOG_LEVELS),
    )
    .addOption(
      new Option(
        '--trust-domain <domain>',
        'SPIFFE trust domain of workload certificates (default cluster.local)',
      ),
    )
    .addOption(
      new Option(
        '--image-pull-policy <policy>',
        'imagePullPolicy of the control plane (default IfNotPresent)',
      ).choices(['Always', 'IfNotPresent', 'Never']),
    )
    .addOption(
      new Option(
        '--controller-out-of-sync-threshold <duration>',
        "fsm-controller's --out-of-sync-threshold: readiness fails once an informer lost its watch this long (default 30s)",
      ),
    )
    .addOption(
      new Option(
        '--cert-manager',
        'let cert-manager issue the webhook certificate (a self-signed CA chain in the fsm namespace) ' +
          'and inject the caBundle, instead of the injector managing its own',
      ),
    )
    .addOption(
      new Option(
        '--cert-manager-issuer <kind/name>',
        'sign the webhook certificate with this existing Issuer (in the fsm namespace) or ClusterIssuer; ' +
          'implies --cert-manager',
      ).argParser(issuerArg),
    )
    .action(async (opts: InstallOptions) => {
      const p = paramsFrom(opts);
      if (opts.dryRun) {
        ctx.io.out(toYaml(renderInstall(p, p.certManager ? undefined : await issueInjectorTls(p))));
        return;
      }
      const kc = ctx.clients().kc;
      const results = await step('install', async () => {
        if (p.certManager) await checkCertManager(ctx, p);
        return installControlPlane(kc, p, { now: ctx.now().getTime(), log: (m) => ctx.logger.info(m) });
      });
      report(ctx, results);
      ctx.io.out(
        `fsm mesh [${p.meshName}] in namespace [${p.fsmNamespace}]: ` +
          summary(results, ['created', 'configured', 'unchanged', 'skipped', 'deleted']) +
          '\n',
      );
      if (p.certManager) {
        const issuer = servingIssuer(p);
        ctx.io.out(
          `webhook certificate: issued by cert-manager (${issuer.kind} ${issuer.name}) into Secret ` +
            `${p.fsmNamespace}/${INJECTOR_TLS_SECRET_NAME}; caBundle injected from Certificate ` +
            `${injectCaFrom(p)}. Until then, pod creation in meshed namespaces is refused (failurePolicy Fail).\n`,
        );
      }
    });
}

export function uninstallCommand(ctx: CliContext): Command {
  return new Command('uninstall')
    .description('delete what `fsm install` created for a mesh (its webhook configuration first)')
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .action(async (opts: { meshName: string; fsmNamespace: string }) => {
      const p = paramsFrom(opts);
      const kc = ctx.clients().kc;
      const results = await step('uninstall', () => deleteObjects(kc, renderAnyMode(p)));
      report(ctx, results);
      ctx.io.out(
        `fsm mesh [${p.meshName}] in namespace [${p.fsmNamespace}]: ` +
          summary(results, ['deleted', 'not found']) +
          '\n',
      );
    });
}

function issuerArg(value: string): IssuerRef {
  try {
    return parseIssuerRef(value);
  } catch (e) {
    throw new InvalidArgumentError(errorMessage(e));
  }
}

/**
 * cert-manager must be there before anything is applied: without its CRDs (or without the issuer
 * named) nothing would ever fill the webhook's caBundle, and failurePolicy Fail would then refuse
 * every pod in meshed namespaces.
 */
async function checkCertManager(ctx: CliContext, p: InstallParams): Promise<void> {
  const kc = ctx.clients().kc;
  const issuer = servingIssuer(p);
  const wanted: KubernetesObject[] = [
    ...renderCertManagerObjects(p),
    issuerHeader(p, issuer), // a ClusterIssuer is not among the rendered objects
  ];
  const missing = await unservedKinds(kc, wanted);
  if (missing.length > 0) {
    throw new CliError(
      `cert-manager is not installed: the API server does not serve ${missing.join(', ')}. ` +
        'Install cert-manager first, or install without --cert-manager (the injector then manages its certificate).',
    );
  }
  if (p.certManagerIssuer && (await readObject(kc, issuerHeader(p, issuer))) === undefined) {
    const where = issuer.kind === 'Issuer' ? ` in namespace ${p.fsmNamespace}` : '';
    throw new CliError(`--cert-manager-issuer: ${issuer.kind} ${issuer.name} not found${where}`);
  }
}

function issuerHeader(p: InstallParams, ref: IssuerRef): KubernetesObject {
  return {
    apiVersion: CERT_MANAGER_API_VERSION,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.kind === 'Issuer' ? { namespace: p.fsmNamespace } : {}) },
  };
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof CliError || e instanceof InvalidArgumentError) throw e;
    throw new CliError(`${what} failed: ${apiErrorMessage(e)}`);
  }
}
