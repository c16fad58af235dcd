/**
 * A killed sandbox leaves its namespaces (and the veths in them) behind; the next start from the
 * same state directory removes them, `fsm sandbox cleanup` removes those of any sandbox that is gone,
 * and a sandbox stopped with SIGTERM leaves nothing. The machine's own interfaces never change.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../support/eventually.js';
import { closedPort } from '../../../support/net.js';
import { namespaceModeUnavailable, netnsList, rootLinks } from '../../../support/netns.js';
import { runBinaryToExit, startBinary, type RunningBinary } from '../../../support/process.js';

const unavailable = await namespaceModeUnavailable();
const suite = unavailable ? describe.skip : describe;

const REGISTRY = '/run/fsm-sandbox';

suite(`a killed sandbox's namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let dir: string;
  let links: string[];
  const running: RunningBinary[] = [];

  /** The pods' veth ends on the node's bridge. */
  function veths(id: string): string[] {
    try {
      return execFileSync('ip', ['-n', `fsm-${id}-node`, '-o', 'link'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .split('\n')
        .map((l) => /^\d+:\s+(v\d+)@/.exec(l)?.[1])
        .filter((n): n is string => !!n);
    } catch {
      return [];
    }
  }

  /** `fsm sandbox run` in namespace mode; its id once its network exists, and once its pods have namespaces. */
  async function start(stateDir = dir): Promise<{ sb: RunningBinary; id: string; namespaces: string[] }> {
    const sb = startBinary('fsm', [
      'sandbox',
      'run',
      '--dir',
      stateDir,
      '--no-demo',
      '--network',
      'namespaces',
      '--api-port',
      String(await closedPort()),
    ]);
    running.push(sb);
    const id = await eventually(
      'the sandbox to say its mode',
      () => {
        return /network: namespace mode \(a network namespace per pod, sandbox ([0-9a-f]{6})\)/.exec(
          sb.stdout(),
        )?.[1];
      },
      60_000,
    );
    // The node's namespace and the control plane's two pods.
    const namespaces = await eventually(
      'the pods of the control plane to have namespaces',
      () => {
        const mine = netnsList().filter((n) => n.startsWith(`fsm-${id}-`));
        // A pod's namespace exists a moment before its veth: wait for both.
        return mine.length >= 3 && veths(id).length >= 2 ? mine : undefined;
      },
      60_000,
    );
    return { sb, id, namespaces };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsm-netns-cleanup-'));
    links = rootLinks();
  });

  afterAll(async () => {
    for (const b of running) b.kill('SIGKILL');
    await runBinaryToExit('fsm', ['sandbox', 'cleanup']).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the next start removes what a kill -9 left; SIGTERM leaves nothing; the root namespace is untouched', async () => {
    const first = await start();
    expect(veths(first.id).length).toBeGreaterThanOrEqual(2);
    first.sb.kill('SIGKILL');
    await first.sb.exited;
    // Killed: nothing removed its namespaces (its processes died with it: setpriv's pdeathsig).
    expect(netnsList().filter((n) => n.startsWith(`fsm-${first.id}-`)).length).toBeGreaterThanOrEqual(3);

    const second = await start();
    expect(second.id).not.toBe(first.id);
    expect(netnsList().filter((n) => n.startsWith(`fsm-${first.id}-`))).toEqual([]);
    expect(existsSync(join(REGISTRY, `${first.id}.json`))).toBe(false);
    second.sb.kill('SIGTERM');
    expect(await second.sb.exited).toBe(0);
    expect(netnsList().filter((n) => n.startsWith(`fsm-${second.id}-`))).toEqual([]);
    expect(existsSync(join(REGISTRY, `${second.id}.json`))).toBe(false);
    expect(existsSync(join(REGISTRY, second.id))).toBe(false);
    expect(rootLinks()).toEqual(links);
  }, 180_000);

  it('fsm sandbox cleanup removes the namespaces of a killed sandbox, and leaves a running one alone', async () => {
    const own = await mkdtemp(join(tmpdir(), 'fsm-netns-cleanup-'));
    const killed = await start(own);
    killed.sb.kill('SIGKILL');
    await killed.sb.exited;
    const other = await mkdtemp(join(tmpdir(), 'fsm-netns-cleanup-'));
    const live = startBinary('fsm', [
      'sandbox',
      'run',
      '--dir',
      other,
      '--no-demo',
      '--network',
      'namespaces',
      '--api-port',
      String(await closedPort()),
    ]);
    running.push(live);
    try {
      const liveId = await eventually(
        'the live sandbox to say its mode',
        () => {
          return /sandbox ([0-9a-f]{6})\)/.exec(live.stdout())?.[1];
        },
        60_000,
      );
      const r = await runBinaryToExit('fsm', ['sandbox', 'cleanup']);
      expect(r.stdout).toMatch(new RegExp(`^removed \\d+ namespaces: .*fsm-${killed.id}-node`));
      expect(netnsList().filter((n) => n.startsWith(`fsm-${killed.id}-`))).toEqual([]);
      expect(netnsList()).toContain(`fsm-${liveId}-node`);
      live.kill('SIGTERM');
      expect(await live.exited).toBe(0);
      expect(netnsList().filter((n) => n.startsWith(`fsm-${liveId}-`))).toEqual([]);
    } finally {
      await rm(other, { recursive: true, force: true });
      await rm(own, { recursive: true, force: true });
    }
    expect(rootLinks()).toEqual(links);
  }, 180_000);
});
