/** The program builder: command groups, lazy clients, exit codes and where output goes. */
import { Command } from 'commander';
import { KubeConfig } from '@kubernetes/client-node';
import { COMMAND_GROUPS, buildProgram } from '../../../pkg/cli/program.js';
import { CliError, type CliContext } from '../../../pkg/cli/context.js';
import { OPERATOR_COMMAND_GROUPS, runCli, type CliDeps } from '../../../pkg/cli/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';

function io(): { out: string[]; err: string[]; io: NonNullable<CliDeps['io']> } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t) => void out.push(t), err: (t) => void err.push(t) } };
}

/** A group as a later issue would add one (e.g. `sandbox`). */
function demoGroup(ctx: CliContext): Command {
  const demo = new Command('demo').description('demo group');
  demo
    .command('ok')
    .option('--times <n>', 'repeat', '1')
    .action((opts: { times: string }) => ctx.io.out(`ok x${opts.times}\n`));
  demo.command('fail').action(() => {
    throw new CliError('demo failed for namespace ns1');
  });
  demo.command('bug').action(() => {
    throw new TypeError('unexpected');
  });
  demo.command('server').action(() => ctx.io.out(`${ctx.clients().kc.getCurrentCluster()?.server}\n`));
  return demo;
}

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('buildProgram', () => {
  it('has the four operator groups, in order, first', () => {
    const program = buildProgram({ io: io().io, groups: OPERATOR_COMMAND_GROUPS });
    expect(program.commands.map((c) => c.name())).toEqual(['mesh', 'namespace', 'proxy', 'check']);
    expect(COMMAND_GROUPS.slice(0, 4)).toEqual(OPERATOR_COMMAND_GROUPS);
  });

  it('adds a group with one entry in `groups`, with the same usage handling as the others', async () => {
    const o = io();
    const deps = { io: o.io, logger: silentLogger(), groups: [...OPERATOR_COMMAND_GROUPS, demoGroup] };
    expect(buildProgram(deps).commands.map((c) => c.name())).toContain('demo');
    expect(await runCli(['node', 'fsm', 'demo', 'ok', '--times', '3'], deps)).toBe(0);
    expect(o.out).toEqual(['ok x3\n']);
    expect(await runCli(['node', 'fsm', 'demo', 'ok', '--nope'], deps)).toBe(2);
    expect(o.err.join('')).toContain("error: unknown option '--nope'");
    expect(await runCli(['node', 'fsm', 'demo', 'ok', 'extra'], deps)).toBe(2);
  });
});

describe('runCli exit codes', () => {
  const base = (o: ReturnType<typeof io>, loads: string[]): CliDeps => ({
    io: o.io,
    logger: silentLogger(),
    groups: [demoGroup],
    kubeConfig: (g) => {
      loads.push(JSON.stringify(g));
      return kubeConfig();
    },
  });

  it('--help and --version: 0 on stdout, and no kubeconfig is loaded', async () => {
    const o = io();
    const loads: string[] = [];
    expect(await runCli(['node', 'fsm', '--help'], base(o, loads))).toBe(0);
    expect(o.out.join('')).toContain('Usage: fsm [options] [command]');
    expect(await runCli(['node', 'fsm', '--version'], base(o, loads))).toBe(0);
    expect(await runCli(['node', 'fsm', 'demo', 'ok', '--help'], base(o, loads))).toBe(0);
    expect(loads).toEqual([]);
    expect(o.err).toEqual([]);
  });

  it('a CliError prints `Error: <message>` on stderr and exits 1', async () => {
    const o = io();
    expect(await runCli(['node', 'fsm', 'demo', 'fail'], base(o, []))).toBe(1);
    expect(o.err).toEqual(['Error: demo failed for namespace ns1\n']);
    expect(o.out).toEqual([]);
  });

  it('any other error also exits 1 with its message', async () => {
    const o = io();
    expect(await runCli(['node', 'fsm', 'demo', 'bug'], base(o, []))).toBe(1);
    expect(o.err).toEqual(['Error: unexpected\n']);
  });

  it('no command, an unknown command or a bad global flag: 2', async () => {
    const o = io();
    expect(await runCli(['node', 'fsm'], base(o, []))).toBe(2);
    expect(await runCli(['node', 'fsm', 'nope'], base(o, []))).toBe(2);
    expect(await runCli(['node', 'fsm', '--verbosity', 'loud', 'demo', 'ok'], base(o, []))).toBe(2);
    expect(o.err.join('')).toContain("argument 'loud' is invalid");
  });

  it('passes --kubeconfig and --context (before or after the command) to the loader, once', async () => {
    const o = io();
    const loads: string[] = [];
    expect(
      await runCli(['node', 'fsm', '--context', 'x', 'demo', 'server', '--kubeconfig', '/k'], base(o, loads)),
    ).toBe(0);
    expect(loads).toEqual([JSON.stringify({ kubeconfig: '/k', context: 'x' })]);
    expect(o.out).toEqual(['https://127.0.0.1:1\n']);
  });

  it('a loader failure exits 1 with its message', async () => {
    const o = io();
    const deps: CliDeps = {
      ...base(o, []),
      kubeConfig: () => {
        throw new Error('--kubeconfig /k: file not found');
      },
    };
    expect(await runCli(['node', 'fsm', 'demo', 'server'], deps)).toBe(1);
    expect(o.err).toEqual(['Error: --kubeconfig /k: file not found\n']);
  });
});
