/**
 * `fsm mesh ca rotate --phase stage|activate|retire` and `fsm mesh ca status`: the operator's side
 * of the mesh CA (pkg/identity). Each phase is one guarded update of the CA Secret (the Secret's
 * resourceVersion: a concurrent edit makes it fail, never lose a root). `status` says what the
 * controllers have propagated so far, i.e. when the next phase is safe.
 */
import { X509Certificate } from 'node:crypto';
import { Command, Option } from 'commander';
import type { V1Secret } from '@kubernetes/client-node';
import { MESH_CA_SECRET_NAME } from '../constants/index.js';
import {
  ROTATION_PHASES,
  bootstrapSecretSelector,
  decodeSecretData,
  encodeSecretData,
  newRoot,
  readBootstrapSecret,
  readMeshCa,
  rotateMeshCa,
  type RotationPhase,
} from '../identity/index.js';
import { CliError, type CliContext } from './context.js';
import { fsmNamespaceOption, meshNameOption } from './flags.js';
import { apiErrorMessage } from './kube-errors.js';

interface CaOptions {
  meshName: string;
  fsmNamespace: string;
}

const NEXT_STEP: Record<RotationPhase, string> = {
  stage:
    'Next: wait until `fsm mesh ca status` shows every bootstrap credential with the new bundle (the controllers ' +
    're-write them within a sweep, kubelet refreshes the volumes within about a minute; proxies get the bundle over ' +
    'SDS at once), then run --phase activate.',
  activate:
    'Next: wait until `fsm mesh ca status` shows every bootstrap credential signed by the new root (the controllers ' +
    're-issue workload certificates at once and bootstrap credentials within a sweep), then run --phase retire.',
  retire: 'Done: the old root is no longer trusted. Proxies receive the one-root bundle over SDS at once.',
};

async function readCa(ctx: CliContext, o: CaOptions): Promise<V1Secret> {
  try {
    return await ctx
      .clients()
      .core.readNamespacedSecret({ name: MESH_CA_SECRET_NAME, namespace: o.fsmNamespace });
  } catch (e) {
    throw new CliError(
      `cannot read the mesh CA Secret ${o.fsmNamespace}/${MESH_CA_SECRET_NAME}: ${apiErrorMessage(e)}`,
    );
  }
}

function subject(pem: string): string {
  return new X509Certificate(pem).subject.replace(/\n/g, ', ');
}

export function meshCaCommand(ctx: CliContext): Command {
  const ca = new Command('ca').description('the mesh CA: rotation and status');
  ca.command('rotate')
    .description(
      'one phase of a root rotation: stage (trust a new root), activate (sign with it), retire (drop the old)',
    )
    .addOption(
      new Option('--phase <phase>', 'stage | activate | retire')
        .choices([...ROTATION_PHASES])
        .makeOptionMandatory(),
    )
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .action(async (o: CaOptions & { phase: RotationPhase }) => {
      const where = `Secret ${o.fsmNamespace}/${MESH_CA_SECRET_NAME}`;
      const secret = await readCa(ctx, o);
      const data = decodeSecretData(secret.data);
      const root = o.phase === 'stage' ? await newRoot(o.meshName) : undefined;
      const r = rotateMeshCa(data, o.phase, where, root, ctx.now().getTime());
      if (!r.ok) throw new CliError(r.error);
      try {
        await ctx.clients().core.replaceNamespacedSecret({
          name: MESH_CA_SECRET_NAME,
          namespace: o.fsmNamespace,
          body: { ...secret, data: encodeSecretData(r.data) },
        });
      } catch (e) {
        const conflict = (e as { code?: number }).code === 409;
        throw new CliError(
          conflict
            ? `${where} changed while rotating (another rotation?): nothing was written; check \`fsm mesh ca status\` and run again`
            : `cannot write ${where}: ${apiErrorMessage(e)}`,
        );
      }
      ctx.io.out(`${o.phase}: ${r.summary}\n${NEXT_STEP[o.phase]}\n`);
    });
  ca.command('status')
    .description('the roots of the mesh CA and how far the bootstrap credentials have caught up')
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .action(async (o: CaOptions) => {
      const where = `Secret ${o.fsmNamespace}/${MESH_CA_SECRET_NAME}`;
      const check = readMeshCa(decodeSecretData((await readCa(ctx, o)).data), where, ctx.now().getTime());
      if (!check.ok) throw new CliError(`the mesh CA is not usable: ${check.problem}`);
      const m = check.material;
      const lines = [
        `signing root: ${subject(m.signing.certPem)} (expires ${m.signingCert.validTo})`,
        ...(m.next ? [`staged root:  ${subject(m.next.certPem)}`] : []),
        `trusted roots: ${m.roots.length}`,
        ...m.roots.map((r) => `  - ${r.subject.replace(/\n/g, ', ')} (expires ${r.validTo})`),
      ];
      let secrets: V1Secret[];
      try {
        secrets = (
          await ctx
            .clients()
            .core.listSecretForAllNamespaces({ labelSelector: bootstrapSecretSelector(o.meshName) })
        ).items;
      } catch (e) {
        throw new CliError(
          `cannot list the bootstrap credentials of mesh [${o.meshName}]: ${apiErrorMessage(e)}`,
        );
      }
      const views = secrets.map((s) => readBootstrapSecret(s, m.roots));
      const bundled = views.filter((v) => v.bundlePem === m.bundlePem).length;
      const signed = views.filter((v) => v.signedBy?.fingerprint256 === m.signingCert.fingerprint256).length;
      lines.push(
        `bootstrap credentials: ${views.length}`,
        `  with the current trust bundle: ${bundled}/${views.length}`,
        `  signed by the signing root:    ${signed}/${views.length}`,
      );
      ctx.io.out(lines.join('\n') + '\n');
    });
  return ca;
}
