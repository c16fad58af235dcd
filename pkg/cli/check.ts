/**
 * `fsm check probes <pod>`: the probe troubleshooting list, automated. Each check passes (✓), fails
 * (✗, with the fix) or does not apply (-). One file per check under check/ (listed in check/checks.ts);
 * gathering (API server, controller: check/gather.ts) is separate from judging (pure, table-tested)
 * and from printing (check/render.ts).
 */
import { Command, Option } from 'commander';
import { parseDuration } from '../binary/index.js';
import { DEFAULT_EVENTS_SINCE, checkProbes } from './check/gather.js';
import { probeCheckText } from './check/render.js';
import { CliError, type CliContext } from './context.js';
import { controllerAtUrl } from './controller.js';
import { controllerUrlOption, fsmNamespaceOption, meshNameOption, podNamespaceOption } from './flags.js';
import { outputOption, render } from './output.js';
import type { OutputFormat } from './output.js';

export function checkCommand(ctx: CliContext): Command {
  const check = new Command('check').description('diagnose a pod in the mesh');
  check
    .command('probes')
    .description("check a pod's probes: rewrite, proxy listeners, fsm-healthcheck, events, control plane")
    .argument('<pod>', 'pod name')
    .addOption(podNamespaceOption())
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .addOption(controllerUrlOption())
    .addOption(
      new Option('--events-since <duration>', 'how far back events count as recent (e.g. 30m, 2h)')
        .argParser((v: string) => {
          parseDuration(v);
          return v;
        })
        .default(DEFAULT_EVENTS_SINCE),
    )
    .addOption(outputOption(['table', 'json', 'yaml'], 'table'))
    .action(
      async (
        pod: string,
        opts: {
          namespace: string;
          meshName: string;
          fsmNamespace: string;
          controllerUrl?: string;
          eventsSince: string;
          output: OutputFormat;
        },
      ) => {
        const report = await checkProbes(ctx.clients(), {
          namespace: opts.namespace,
          pod,
          mesh: opts.meshName,
          fsmNamespace: opts.fsmNamespace,
          ...(opts.controllerUrl ? { controller: controllerAtUrl(opts.controllerUrl) } : {}),
          eventsSince: opts.eventsSince,
          now: ctx.now(),
        });
        ctx.io.out(render(opts.output, report, () => probeCheckText(report)));
        if (report.failed > 0) throw new CliError('', 1);
      },
    );
  return check;
}
