/**
 * `fsm namespace list|add|remove` (alias `ns`): mesh membership is the namespace label
 * flomesh.io/monitored-by=<mesh>; sidecar injection is the flomesh.io/sidecar-injection annotation;
 * flomesh.io/ignore takes a namespace out of every mesh.
 */
import { Command, Option } from 'commander';
import { PatchStrategy, setHeaderOptions, type V1Namespace } from '@kubernetes/client-node';
import {
  IGNORE_LABEL,
  MONITORED_BY_LABEL,
  SIDECAR_INJECTION_ANNOTATION,
  SYSTEM_NAMESPACES,
} from '../constants/index.js';
import { CliError, type CliContext, type KubeClients } from './context.js';
import { fsmNamespaceOption, meshNameOption } from './flags.js';
import { apiErrorMessage, isNotFound } from './kube-errors.js';
import { findControllers } from './mesh.js';
import { OUTPUT_FORMATS, outputOption, render, renderTable, type OutputFormat } from './output.js';

type Clients = Pick<KubeClients, 'core' | 'apps'>;

export interface NamespaceInfo {
  name: string;
  mesh: string;
  /** The annotation value, `-` when unset, `disabled (ignored)` when the ignore label is set. */
  sidecarInjection: string;
}

export const IGNORED_INJECTION = 'disabled (ignored)';

export function noNamespacesMessage(mesh?: string): string {
  return mesh === undefined ? 'No namespaces in any mesh' : `No namespaces in mesh [${mesh}]`;
}

/** Namespaces in `mesh`, or in any mesh; sorted by name. */
export async function listNamespaces(
  clients: Pick<KubeClients, 'core'>,
  mesh?: string,
): Promise<NamespaceInfo[]> {
  const selector = mesh === undefined ? MONITORED_BY_LABEL : `${MONITORED_BY_LABEL}=${mesh}`;
  let items: V1Namespace[];
  try {
    items = (await clients.core.listNamespace({ labelSelector: selector })).items;
  } catch (e) {
    throw new CliError(`cannot list namespaces labelled ${selector}: ${apiErrorMessage(e)}`);
  }
  return items
    .map((ns) => {
      const labels = ns.metadata?.labels ?? {};
      const annotation = ns.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
      return {
        name: ns.metadata?.name ?? '',
        mesh: labels[MONITORED_BY_LABEL] ?? '',
        sidecarInjection: labels[IGNORE_LABEL] !== undefined ? IGNORED_INJECTION : annotation || '-',
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function namespaceListText(namespaces: readonly NamespaceInfo[], mesh?: string): string {
  if (namespaces.length === 0) return noNamespacesMessage(mesh) + '\n';
  return renderTable(
    ['NAMESPACE', 'MESH', 'SIDECAR-INJECTION'],
    namespaces.map((n) => [n.name, n.mesh, n.sidecarInjection]),
  );
}

/** One namespace's outcome: `ok` lines go to stdout, the others to stderr as errors. */
export interface NamespaceResult {
  namespace: string;
  ok: boolean;
  message: string;
}

export interface AddNamespaceOptions {
  mesh: string;
  fsmNamespace: string;
  disableSidecarInjection?: boolean;
  /** Move a namespace that is in another mesh. */
  force?: boolean;
}

async function readNamespace(
  clients: Pick<KubeClients, 'core'>,
  name: string,
): Promise<V1Namespace | undefined> {
  try {
    return await clients.core.readNamespace({ name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw new CliError(`cannot read namespace ${name}: ${apiErrorMessage(e)}`);
  }
}

async function patchNamespace(
  clients: Pick<KubeClients, 'core'>,
  name: string,
  metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
): Promise<void> {
  try {
    await clients.core.patchNamespace(
      { name, body: { metadata } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (e) {
    throw new CliError(`cannot patch namespace ${name}: ${apiErrorMessage(e)}`);
  }
}

/**
 * Adds each namespace to the mesh. The mesh must exist (its controller Deployment is found);
 * refused: the control-plane namespaces, ignored namespaces, namespaces of another mesh (unless
 * `force`). Each namespace is handled on its own: one refusal does not stop the others.
 */
export async function addNamespaces(
  clients: Clients,
  namespaces: readonly string[],
  opts: AddNamespaceOptions,
): Promise<NamespaceResult[]> {
  const controllers = await findControllers(clients);
  if (!controllers.some((c) => c.mesh === opts.mesh)) {
    throw new CliError(
      `mesh [${opts.mesh}] not found: no Deployment labelled app=fsm-controller,meshName=${opts.mesh} ` +
        "in any namespace (run 'fsm mesh list' to see the meshes)",
    );
  }
  const injection = opts.disableSidecarInjection ? 'disabled' : 'enabled';
  const results: NamespaceResult[] = [];
  for (const name of [...new Set(namespaces)]) {
    const fail = (message: string): void => void results.push({ namespace: name, ok: false, message });
    const done = (message: string): void => void results.push({ namespace: name, ok: true, message });
    const ns = await readNamespace(clients, name);
    if (ns === undefined) {
      fail(`namespace ${name} not found`);
      continue;
    }
    const runs = controllers.filter((c) => c.namespace === name).map((c) => `[${c.mesh}]`);
    if (runs.length > 0) {
      fail(
        `namespace ${name} runs the control plane of mesh ${runs.join(', ')}; ` +
          'a control-plane namespace cannot be added to a mesh',
      );
      continue;
    }
    if (name === opts.fsmNamespace) {
      fail(
        `namespace ${name} is the control-plane namespace (--fsm-namespace); ` +
          'a control-plane namespace cannot be added to a mesh',
      );
      continue;
    }
    if (SYSTEM_NAMESPACES.includes(name)) {
      fail(
        `namespace ${name} is a Kubernetes system namespace; fsm never injects it, so it cannot be added to a mesh`,
      );
      continue;
    }
    const labels = ns.metadata?.labels ?? {};
    if (labels[IGNORE_LABEL] !== undefined) {
      fail(
        `namespace ${name} is ignored by every mesh (label ${IGNORE_LABEL}=${labels[IGNORE_LABEL]}); ` +
          `remove the label first: kubectl label namespace ${name} ${IGNORE_LABEL}-`,
      );
      continue;
    }
    const current = labels[MONITORED_BY_LABEL];
    const currentInjection = ns.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
    if (current === opts.mesh) {
      if (currentInjection === injection || (currentInjection === undefined && injection === 'enabled')) {
        done(`Namespace [${name}] is already in mesh [${opts.mesh}]`);
      } else {
        await patchNamespace(clients, name, { annotations: { [SIDECAR_INJECTION_ANNOTATION]: injection } });
        done(`Namespace [${name}] is already in mesh [${opts.mesh}]: sidecar injection set to ${injection}`);
      }
      continue;
    }
    if (current !== undefined && !opts.force) {
      fail(
        `namespace ${name} is already in mesh [${current}]; pass --force to move it from mesh [${current}] ` +
          `to mesh [${opts.mesh}]`,
      );
      continue;
    }
    await patchNamespace(clients, name, {
      labels: { [MONITORED_BY_LABEL]: opts.mesh },
      annotations: { [SIDECAR_INJECTION_ANNOTATION]: injection },
    });
    const suffix = injection === 'disabled' ? ' with sidecar injection disabled' : '';
    done(
      current !== undefined
        ? `Namespace [${name}] moved from mesh [${current}] to mesh [${opts.mesh}]${suffix}`
        : `Namespace [${name}] successfully added to mesh [${opts.mesh}]${suffix}`,
    );
  }
  return results;
}

/**
 * Takes the namespace out of the mesh: removes the monitored-by and ignore labels and the
 * sidecar-injection annotation. A namespace of another mesh is an error naming both meshes; a
 * namespace in no mesh is a note (success).
 */
export async function removeNamespace(
  clients: Pick<KubeClients, 'core'>,
  name: string,
  opts: { mesh: string },
): Promise<NamespaceResult> {
  const ns = await readNamespace(clients, name);
  if (ns === undefined) throw new CliError(`namespace ${name} not found`);
  const current = ns.metadata?.labels?.[MONITORED_BY_LABEL];
  if (current === undefined) {
    return {
      namespace: name,
      ok: true,
      message: `Namespace [${name}] is not in any mesh: nothing to remove`,
    };
  }
  if (current !== opts.mesh) {
    throw new CliError(
      `namespace ${name} is in mesh [${current}], not in mesh [${opts.mesh}]; to take it out of mesh ` +
        `[${current}], run: fsm namespace remove ${name} --mesh-name ${current}`,
    );
  }
  await patchNamespace(clients, name, {
    labels: { [MONITORED_BY_LABEL]: null, [IGNORE_LABEL]: null },
    annotations: { [SIDECAR_INJECTION_ANNOTATION]: null },
  });
  return {
    namespace: name,
    ok: true,
    message: `Namespace [${name}] successfully removed from mesh [${opts.mesh}]`,
  };
}

export function namespaceCommand(ctx: CliContext): Command {
  const ns = new Command('namespace')
    .alias('ns')
    .description('add namespaces to a mesh, remove them, list them');
  ns.command('list')
    .description('list the namespaces of a mesh (all meshes without --mesh-name)')
    .addOption(meshNameOption({ optional: true }))
    .addOption(fsmNamespaceOption())
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .action(async (opts: { meshName?: string; output: OutputFormat }) => {
      const list = await listNamespaces(ctx.clients(), opts.meshName);
      ctx.io.out(render(opts.output, list, () => namespaceListText(list, opts.meshName)));
    });
  ns.command('add')
    .description('add namespaces to a mesh: label them and enable (or disable) sidecar injection')
    .argument('<namespace...>', 'namespaces to add')
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .addOption(new Option('--disable-sidecar-injection', 'add with sidecar injection disabled'))
    .addOption(new Option('--force', 'move namespaces that are in another mesh'))
    .action(
      async (
        names: string[],
        opts: { meshName: string; fsmNamespace: string; disableSidecarInjection?: boolean; force?: boolean },
      ) => {
        const results = await addNamespaces(ctx.clients(), names, {
          mesh: opts.meshName,
          fsmNamespace: opts.fsmNamespace,
          disableSidecarInjection: opts.disableSidecarInjection === true,
          force: opts.force === true,
        });
        printResults(ctx, results);
      },
    );
  ns.command('remove')
    .description('remove a namespace from a mesh (labels and annotations)')
    .argument('<namespace>', 'namespace to remove')
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .action(async (name: string, opts: { meshName: string }) => {
      printResults(ctx, [await removeNamespace(ctx.clients(), name, { mesh: opts.meshName })]);
    });
  return ns;
}

/** Successes to stdout, refusals to stderr; any refusal makes the command exit 1. */
function printResults(ctx: CliContext, results: readonly NamespaceResult[]): void {
  for (const r of results) {
    if (r.ok) ctx.io.out(r.message + '\n');
    else ctx.io.err(`Error: ${r.message}\n`);
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) throw new CliError('', 1);
}
