/**
 * `fsm mesh list`: meshes are found by their controller Deployments (label app=fsm-controller, in
 * any namespace); a mesh's namespaces are those labelled flomesh.io/monitored-by=<mesh>.
 */
import { Command } from 'commander';
import {
  APP_LABEL,
  APP_VERSION_LABEL,
  CONTROLLER_APP,
  MESH_NAME_LABEL,
  MONITORED_BY_LABEL,
} from '../constants/index.js';
import { CliError, type CliContext, type KubeClients } from './context.js';
import { apiErrorMessage } from './kube-errors.js';
import { meshCaCommand } from './mesh-ca.js';
import { OUTPUT_FORMATS, outputOption, render, renderTable, type OutputFormat } from './output.js';

export interface MeshInfo {
  name: string;
  namespace: string;
  version: string;
  namespaces: string[];
}

export const UNKNOWN_VERSION = 'Unknown';
export const NO_MESHES_MESSAGE = 'No fsm mesh control planes found';

type Clients = Pick<KubeClients, 'core' | 'apps'>;

/** The controller Deployments of every mesh (or of `mesh` only), sorted by mesh then namespace. */
export async function findControllers(
  clients: Clients,
  mesh?: string,
): Promise<{ mesh: string; namespace: string; version: string }[]> {
  const selector =
    `${APP_LABEL}=${CONTROLLER_APP}` + (mesh !== undefined ? `,${MESH_NAME_LABEL}=${mesh}` : '');
  let items;
  try {
    items = (await clients.apps.listDeploymentForAllNamespaces({ labelSelector: selector })).items;
  } catch (e) {
    throw new CliError(`cannot list Deployments labelled ${selector}: ${apiErrorMessage(e)}`);
  }
  const seen = new Set<string>();
  const out: { mesh: string; namespace: string; version: string }[] = [];
  for (const d of items) {
    const labels = d.metadata?.labels ?? {};
    const name = labels[MESH_NAME_LABEL];
    const namespace = d.metadata?.namespace;
    if (!name || !namespace) continue;
    const key = `${name}\u0000${namespace}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ mesh: name, namespace, version: labels[APP_VERSION_LABEL] || UNKNOWN_VERSION });
  }
  return out.sort((a, b) => compare(a.mesh, b.mesh) || compare(a.namespace, b.namespace));
}

/** Names of the namespaces labelled monitored-by=<mesh>, sorted. */
export async function meshNamespaces(clients: Pick<KubeClients, 'core'>, mesh: string): Promise<string[]> {
  const selector = `${MONITORED_BY_LABEL}=${mesh}`;
  try {
    const list = await clients.core.listNamespace({ labelSelector: selector });
    return list.items
      .map((n) => n.metadata?.name ?? '')
      .filter((n) => n !== '')
      .sort(compare);
  } catch (e) {
    throw new CliError(`cannot list namespaces of mesh [${mesh}] (${selector}): ${apiErrorMessage(e)}`);
  }
}

export async function listMeshes(clients: Clients): Promise<MeshInfo[]> {
  const controllers = await findControllers(clients);
  const byMesh = new Map<string, string[]>();
  const out: MeshInfo[] = [];
  for (const c of controllers) {
    let namespaces = byMesh.get(c.mesh);
    if (namespaces === undefined) {
      namespaces = await meshNamespaces(clients, c.mesh);
      byMesh.set(c.mesh, namespaces);
    }
    out.push({ name: c.mesh, namespace: c.namespace, version: c.version, namespaces: [...namespaces] });
  }
  return out;
}

export function meshListText(meshes: readonly MeshInfo[]): string {
  if (meshes.length === 0) return NO_MESHES_MESSAGE + '\n';
  const table = renderTable(
    ['MESH NAME', 'MESH NAMESPACE', 'VERSION', 'ADDED NAMESPACES'],
    meshes.map((m) => [m.name, m.namespace, m.version, m.namespaces.join(',')]),
  );
  return (
    table +
    '\nTo see the controller pods of a mesh, run (with the mesh namespace from above):\n' +
    `  kubectl get pods -n <mesh-namespace> -l ${APP_LABEL}=${CONTROLLER_APP}\n`
  );
}

export function meshCommand(ctx: CliContext): Command {
  const mesh = new Command('mesh').description('fsm meshes installed in the cluster');
  mesh
    .command('list')
    .description('list the meshes (controller Deployments labelled app=fsm-controller) and their namespaces')
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .action(async (opts: { output: OutputFormat }) => {
      const meshes = await listMeshes(ctx.clients());
      ctx.io.out(render(opts.output, meshes, () => meshListText(meshes)));
    });
  mesh.addCommand(meshCaCommand(ctx));
  return mesh;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
