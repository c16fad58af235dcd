/**
 * Issue 19 item 3 through the probe contract: postStart / preStop httpGet hooks are rewritten like
 * probes — to the startup listener at their own per-container path, HTTPS with TLS from the proxy —
 * recorded in the same record (its `hooks`), and compared as kubelet calls them.
 */
import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import { HOOK_TYPES, type HookType } from '../../../pkg/constants/index.js';
import {
  compareHook,
  formatOriginalProbes,
  parseOriginalProbes,
  recordProbe,
  rewriteHook,
  rewrittenHttpGet,
  type OriginalHook,
} from '../../../pkg/probes/index.js';

const PATHS: Record<HookType, string> = { postStart: '/fsm-poststart-hook', preStop: '/fsm-prestop-hook' };

const handlers: { name: string; handler: V1LifecycleHandler; kind: 'http' | 'https' }[] = [
  { name: 'http', handler: { httpGet: { port: 8080, path: '/drain' } }, kind: 'http' },
  {
    name: 'http, scheme written',
    handler: { httpGet: { port: 8080, path: '/drain', scheme: 'HTTP' } },
    kind: 'http',
  },
  {
    name: 'http with headers',
    handler: { httpGet: { port: 8080, path: '/drain', httpHeaders: [{ name: 'X-Why', value: 'stop' }] } },
    kind: 'http',
  },
  { name: 'https', handler: { httpGet: { port: 8443, path: 'quit', scheme: 'HTTPS' } }, kind: 'https' },
];

const rows = handlers.flatMap((h) => HOOK_TYPES.map((hook) => ({ title: `${h.name}, ${hook}`, h, hook })));

function container(hook: HookType, handler: V1LifecycleHandler | undefined): V1Container {
  return { name: 'app', ...(handler ? { lifecycle: { [hook]: handler } } : {}) };
}

describe('lifecycle hooks: build → record → compare agree', () => {
  it.each(rows)('$title', ({ h, hook }) => {
    const g = h.handler.httpGet!;
    const record = recordProbe(
      {
        kind: h.kind,
        port: Number(g.port),
        path: g.path ?? '',
        ...(g.httpHeaders ? { headers: g.httpHeaders } : {}),
      },
      {
        type: hook,
        container: 'app',
        perContainerPath: true,
        ...(h.kind === 'https' ? { tls: 'originate' as const } : {}),
      },
      30,
    ) as OriginalHook;
    expect(record.rewritten).toEqual({ port: 15903, path: `${PATHS[hook]}/app` });
    const live = rewriteHook(h.handler, record);
    expect(live.httpGet!.port).toBe(15903);
    expect(live.httpGet!.path).toBe(`${PATHS[hook]}/app`);
    expect(live.httpGet!.scheme ?? 'HTTP').toBe('HTTP');
    expect(live.httpGet!.httpHeaders).toEqual(g.httpHeaders);
    expect(h.handler.httpGet!.port).toBe(g.port); // the input is not modified
    expect(compareHook(container(hook, live), hook, record)).toBeUndefined();
    expect(compareHook(container(hook, h.handler), hook, record)?.kind).toBe('differs');
    expect(compareHook(container(hook, undefined), hook, record)?.kind).toBe('missing');
    expect(compareHook(container(hook, { exec: { command: ['true'] } }), hook, record)?.kind).toBe(
      'not-http-get',
    );
    const parsed = parseOriginalProbes(formatOriginalProbes({}, { app: { [hook]: record } }), 'ns/p');
    expect(parsed).toEqual({ status: 'valid', containers: {}, hooks: { app: { [hook]: record } } });
    expect(rewrittenHttpGet(record).scheme).toBe('HTTP');
  });

  it('drift messages name the lifecycle field', () => {
    const record = recordProbe(
      { kind: 'http', port: 8080, path: '/drain' },
      { type: 'preStop', container: 'app', perContainerPath: true },
      30,
    );
    expect(
      compareHook(container('preStop', { httpGet: { port: 8080, path: '/drain' } }), 'preStop', record)
        ?.message,
    ).toBe(
      'container app lifecycle.preStop targets httpGet port 8080 path "/drain", but the annotation records its rewrite to httpGet port 15903 path /fsm-prestop-hook/app',
    );
  });

  it('a record without hooks writes none (seed readers still read it)', () => {
    expect(formatOriginalProbes({})).toBe('{"v":1,"containers":{}}');
  });
});

describe('the decoder checks hooks', () => {
  const base = (): any => ({
    v: 1,
    containers: {},
    hooks: {
      app: {
        preStop: {
          kind: 'http',
          scheme: 'HTTP',
          port: 8080,
          path: '/drain',
          timeoutSeconds: 30,
          rewritten: { port: 15903, path: '/fsm-prestop-hook/app' },
        },
      },
    },
  });
  const H = 'hooks["app"].preStop';

  it('the base record is valid', () => {
    expect(parseOriginalProbes(JSON.stringify(base()), 'ns/p').status).toBe('valid');
  });

  it.each<[string, (a: any) => void, string]>([
    [
      'unknown hook',
      (a) => (a.hooks.app.onExit = a.hooks.app.preStop),
      'hooks["app"].onExit: unknown lifecycle hook (one of postStart, preStop)',
    ],
    [
      'a probe type as a hook',
      (a) => (a.hooks.app.liveness = a.hooks.app.preStop),
      'hooks["app"].liveness: unknown lifecycle hook',
    ],
    [
      'tcp hook',
      (a) =>
        (a.hooks.app.preStop = {
          kind: 'tcp',
          port: 1,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        }),
      `${H}.kind: must be one of http, https, got "tcp"`,
    ],
    [
      'https passed through',
      (a) => Object.assign(a.hooks.app.preStop, { kind: 'https', scheme: 'HTTPS' }),
      `${H}.tls: an HTTPS lifecycle hook must be "originate"`,
    ],
    [
      "another container's path",
      (a) => (a.hooks.app.preStop.rewritten.path = '/fsm-prestop-hook/web'),
      `${H}.rewritten.path: must be /fsm-prestop-hook/app for a http hook, got "/fsm-prestop-hook/web"`,
    ],
    [
      "the other hook's path",
      (a) => (a.hooks.app.preStop.rewritten.path = '/fsm-poststart-hook/app'),
      `${H}.rewritten.path: must be /fsm-prestop-hook/app`,
    ],
    [
      'a probe port',
      (a) => (a.hooks.app.preStop.rewritten.port = 15901),
      `${H}.rewritten.port: must be 15903 for a http preStop hook, got 15901`,
    ],
    [
      'hooks not an object',
      (a) => (a.hooks = []),
      'hooks: must be an object keyed by container name, got an array',
    ],
    [
      'container not a DNS label',
      (a) => (a.hooks.App = {}),
      'hooks["App"]: container name must be a DNS-1123 label',
    ],
  ])('%s', (_name, mutate, want) => {
    const a = base();
    mutate(a);
    const r = parseOriginalProbes(JSON.stringify(a), 'ns/p');
    expect(r.status).toBe('invalid');
    if (r.status === 'invalid') expect(r.error).toContain(want);
  });
});
