/**
 * SotW protocol rules of pkg/ads as table rows, run on the engine in memory (no ports, no
 * polling): see test/support/ads-memory-script.ts for the steps and the response summaries.
 * The shared stream rules (node id, unknown node, slow reader, cancel, drain) are in
 * stream-rules.test.ts, for both protocols.
 */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../../pkg/logger/index.js';
import type { SotwStream } from '../../../pkg/ads/index.js';
import type { SotwResponse } from '../../support/ads-client.js';
import { runRow, type Row } from '../../support/ads-memory-script.js';
import {
  BARRIER_ROUTES,
  CDS,
  EDS,
  LDS,
  RDS,
  baseSnapshot,
  cla,
  cluster,
  listener,
  route,
} from '../../support/ads-resources.js';

const N1 = { id: 'n1', cluster: 'test' };
const ALL_ROUTES = ['r1', 'r2', ...BARRIER_ROUTES.map((b) => b.name)];
/** Summary of a response of `type` with these names (sorted, as summaries are). */
const of = (type: string, names: string[]): string => [type, [...names].sort().join(',')].join(' ');

/** A JSON logger whose lines the test reads. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => any[] } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (b: Buffer) => chunks.push(b.toString()));
  return {
    logger: createLogger({ stream: out, json: true }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

const nackLog = capturedLogger();

const responses: Row[] = [
  {
    rule: 'a first request gets the full set, a version_info, a nonce and the control plane id',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      {
        check: (c) => {
          const r = c.last<SotwResponse>('CDS');
          expect(r.version_info).toBe(c.h.cache.getSnapshot('n1')!.types.get(CDS)!.version);
          expect(r.nonce).not.toBe('');
          expect(r.control_plane?.identifier).toBe('fsm-controller');
          expect(
            r.decoded.find((x: any) => x.name === 'c1').load_assignment.endpoints[0].lb_endpoints[0].endpoint
              .address.socket_address.port_value,
          ).toBe(8081);
        },
      },
    ],
  },
  {
    rule: 'the control plane identifier is configurable, and omitted when empty',
    options: { controlPlaneIdentifier: '' },
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { check: (c) => expect(c.last<SotwResponse>('CDS').control_plane).toBeUndefined() },
    ],
  },
  {
    rule: 'gives every response a fresh nonce, across types and pushes',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { ack: 'CDS' },
      { send: { type_url: LDS } },
      { expect: ['CDS c1,c2', 'LDS l1'] },
      { ack: 'LDS' },
      ...[0, 1, 2].flatMap((i) => [
        { set: baseSnapshot({ [CDS]: [cluster('c1', 7000 + i), cluster('c2', 8082)] }) },
        { expect: ['CDS c1,c2'] },
        { ack: 'CDS' },
      ]),
      { expect: [] },
      { check: (c) => expect(new Set(c.seen().map((r) => r.nonce)).size).toBe(5) },
    ],
  },
];

const ackNack: Row[] = [
  {
    rule: 'an ACK is counted and causes no resend',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' },
      { expect: [] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(1);
          expect(c.server<SotwStream>().types.get(CDS)!.ackedVersion).toBe(
            c.last<SotwResponse>('CDS').version_info,
          );
        },
      },
    ],
  },
  {
    rule: 'a NACK (error_detail) is logged with node, type, version and message, counted, and the version is never resent',
    options: { logger: nackLog.logger },
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 8082)] }) },
      { expect: ['CDS c1,c2'] },
      {
        check: (c) => {
          const [good, bad] = c.seen() as SotwResponse[];
          expect(bad!.version_info).not.toBe(good!.version_info);
        },
      },
      // The NACK names the version the client keeps running: version is NOT what decides ACK vs NACK.
      { nack: 'CDS', message: 'cluster c1: port 1 refused' },
      { expect: [] },
      // Setting the same (rejected) content again changes nothing.
      { set: baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 8082)] }) },
      { expect: [] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_nacks_total', { type: 'CDS' })).toBe(1);
          expect(await c.h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(1);
          const nack = nackLog.lines().find((l) => l.message === 'NACK');
          expect(nack).toMatchObject({
            node: 'n1',
            type: 'CDS',
            version: c.last<SotwResponse>('CDS').version_info,
            error: 'cluster c1: port 1 refused',
          });
          expect(c.server<SotwStream>().types.get(CDS)!.nacked).toEqual({
            version: c.last<SotwResponse>('CDS').version_info,
            message: 'cluster c1: port 1 refused',
          });
        },
      },
    ],
  },
  {
    rule: 'a NACK whose version_info equals the pushed one is still a NACK (error_detail decides)',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      {
        send: (c) => {
          const r = c.last<SotwResponse>('CDS');
          const error_detail = { code: 3, message: 'rejected' };
          return { type_url: CDS, version_info: r.version_info, response_nonce: r.nonce, error_detail };
        },
      },
      { expect: [] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_nacks_total', { type: 'CDS' })).toBe(1);
          expect(await c.h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(0);
        },
      },
    ],
  },
  {
    rule: 'recovers after a NACK: the next changed snapshot is pushed and ACKed',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 8082)] }) },
      { expect: ['CDS c1,c2'] },
      { nack: 'CDS', message: 'bad port' },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 8181), cluster('c2', 8082)] }) },
      { expect: ['CDS c1,c2'] },
      {
        check: (c) => {
          const [, bad, fixed] = c.seen() as SotwResponse[];
          expect(fixed!.nonce).not.toBe(bad!.nonce);
          expect(fixed!.version_info).not.toBe(bad!.version_info);
        },
      },
      { ack: 'CDS' },
      { expect: [] },
      {
        check: (c) =>
          expect(c.server<SotwStream>().types.get(CDS)!.ackedVersion).toBe(
            c.last<SotwResponse>('CDS').version_info,
          ),
      },
    ],
  },
  {
    rule: 'a stale nonce still updates the subscription but is neither ACK nor NACK',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { send: { type_url: RDS, resource_names: ['r1'] } },
      { expect: ['CDS c1,c2', 'RDS r1'] },
      {
        set: baseSnapshot({
          [RDS]: [route('r1', 'c2', '/one'), route('r2', 'c2', '/two'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['RDS r1'] },
      // Answers the OLD nonce with a new subscription and an error: stale, so no NACK is counted.
      {
        send: (c) => {
          const old = c.seen().find((r) => r.type_url === RDS) as SotwResponse;
          return {
            type_url: RDS,
            response_nonce: old.nonce,
            version_info: old.version_info,
            resource_names: ['r1', 'r2'],
            error_detail: { code: 3, message: 'late' },
          };
        },
      },
      { expect: ['RDS r2'] },
      { check: (c) => expect(c.seen()[3]!.nonce).not.toBe(c.seen()[2]!.nonce) },
      { ack: 'CDS' },
      { expect: [] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_nacks_total')).toBe(0);
          expect(await c.h.metric('fsm_ads_acks_total', { type: 'RDS' })).toBe(0);
        },
      },
    ],
  },
  {
    rule: 'a nonce from a previous stream on the first request of a type is neither ACK nor NACK',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS, version_info: 'v-old', response_nonce: '1' } },
      { expect: ['CDS c1,c2'] },
      { check: async (c) => expect(await c.h.metric('fsm_ads_acks_total')).toBe(0) },
    ],
  },
];

const subscriptions: Row[] = [
  {
    rule: 'explicit wildcard "*" gets every resource of the type',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS, resource_names: ['*'] } },
      { expect: [of('RDS', ALL_ROUTES)] },
    ],
  },
  {
    rule: 'legacy wildcard: empty names on the first request, kept while later requests stay empty',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' }, // empty names again: still wildcard, no resend
      { expect: [] },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 8081), cluster('c2', 8082), cluster('c3', 8083)] }) },
      { expect: ['CDS c1,c2,c3'] },
      { check: (c) => expect(c.server<SotwStream>().types.get(CDS)!.legacyWildcard).toBe(true) },
    ],
  },
  {
    rule: 'legacy wildcard ends when names are sent; an empty list after names means nothing',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS', names: ['c2'] },
      { expect: ['CDS c2'] },
      { ack: 'CDS', names: [] },
      { expect: ['CDS'] }, // a response with no resources
      { ack: 'CDS', names: [] },
      // Changes to clusters no longer subscribed are not pushed.
      { set: baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 2)] }) },
      { expect: [] },
      {
        check: (c) => {
          const st = c.server<SotwStream>().types.get(CDS)!;
          expect({ wildcard: st.wildcard, legacy: st.legacyWildcard, names: [...st.names] }).toEqual({
            wildcard: false,
            legacy: false,
            names: [],
          });
        },
      },
    ],
  },
  {
    rule: 'the xDS spec example: [] → "*" ; ["*","A"] → "*" and A ; ["A"] → A ; [] → nothing',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS } },
      { expect: [of('RDS', ALL_ROUTES)] },
      { ack: 'RDS', names: ['*', 'r1'] }, // still every route: nothing the client lacks
      { expect: [] },
      { ack: 'RDS', names: ['r1'] },
      { expect: [] }, // RDS sends only what changed; r1 is held
      {
        set: baseSnapshot({
          [RDS]: [route('r1', 'c2', '/uno'), route('r2', 'c2', '/dos'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['RDS r1'] }, // r2 changed too, but is no longer subscribed
      { ack: 'RDS', names: [] },
      { set: baseSnapshot({ [RDS]: [route('r1', 'c1', '/eins'), ...BARRIER_ROUTES] }) },
      { expect: [] },
      {
        check: (c) => {
          const st = c.server<SotwStream>().types.get(RDS)!;
          expect({ wildcard: st.wildcard, legacy: st.legacyWildcard, names: [...st.names] }).toEqual({
            wildcard: false,
            legacy: false,
            names: [],
          });
        },
      },
    ],
  },
  {
    rule: 'named subscriptions receive only the named resources; a new name triggers a push',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS, resource_names: ['c1'] } },
      { expect: ['CDS c1'] },
      { ack: 'CDS', names: ['c1', 'c2'] },
      { expect: ['CDS c1,c2'] },
    ],
  },
  {
    rule: 'a name unsubscribed and subscribed again is resent, though unchanged',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS, resource_names: ['r1', 'r2'] } },
      { expect: ['RDS r1,r2'] },
      { ack: 'RDS', names: ['r1'] },
      { expect: [] },
      { ack: 'RDS', names: ['r1', 'r2'] },
      { expect: ['RDS r2'] },
    ],
  },
  {
    rule: 'an unsubscribed Cluster is dropped at once, not kept like a removed one that may still be in use',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS, resource_names: ['c1', 'c2'] } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS', names: ['c1'] },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 9), cluster('c2', 8082)] }) },
      { expect: ['CDS c1'] },
    ],
  },
  {
    rule: 'a named resource missing from the snapshot is sent once it appears',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: EDS, resource_names: ['e1', 'e9'] } },
      { expect: ['EDS e1'] },
      { ack: 'EDS', names: ['e1', 'e9'] },
      { set: baseSnapshot({ [EDS]: [cla('e1', 9001), cla('e9', 9009)] }) },
      { expect: ['EDS e9'] },
    ],
  },
];

const content: Row[] = [
  {
    rule: 'Listener and Cluster responses always carry the full subscribed set',
    steps: [
      { set: baseSnapshot({ [LDS]: [listener('l1', 10001, 'c1'), listener('l2', 10002, 'c2')] }) },
      { send: { node: N1, type_url: CDS } },
      { send: { type_url: LDS } },
      { expect: ['CDS c1,c2', 'LDS l1,l2'] },
      { ack: 'CDS' },
      { ack: 'LDS' },
      { expect: [] },
      {
        set: baseSnapshot({
          [CDS]: [cluster('c1', 8081), cluster('c2', 9999)],
          [LDS]: [listener('l1', 10001, 'c1'), listener('l2', 10003, 'c2')],
        }),
      },
      { expect: ['CDS c1,c2', 'LDS l1,l2'] },
    ],
  },
  {
    rule: 'RouteConfiguration and ClusterLoadAssignment responses carry only what changed',
    steps: [
      { set: baseSnapshot({ [EDS]: [cla('e1', 9001), cla('e2', 9002)] }) },
      { send: { node: N1, type_url: EDS, resource_names: ['e1', 'e2'] } },
      { send: { type_url: RDS, resource_names: ['r1', 'r2'] } },
      { expect: ['EDS e1,e2', 'RDS r1,r2'] },
      { ack: 'EDS', names: ['e1', 'e2'] },
      { ack: 'RDS', names: ['r1', 'r2'] },
      { expect: [] },
      {
        set: baseSnapshot({
          [EDS]: [cla('e1', 9001), cla('e2', 9102)],
          [RDS]: [route('r1', 'c1', '/uno'), route('r2', 'c2', '/two'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['EDS e2', 'RDS r1'] },
    ],
  },
  {
    rule: "setting identical content pushes nothing; another node's change never reaches this stream",
    steps: [
      { set: baseSnapshot() },
      { set: baseSnapshot(), node: 'n2' },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' },
      { check: (c) => expect(c.h.cache.setSnapshot('n1', baseSnapshot()).changed).toBe(false) },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 1)] }), node: 'n2' },
      { expect: [] },
      { send: { type_url: RDS, resource_names: ['barrier-0'] } },
      { expect: ['RDS barrier-0'] },
      { check: (c) => expect(c.server<SotwStream>().responsesSent).toBe(2) },
    ],
  },
  {
    rule: 'a cleared snapshot pushes nothing; the next one is diffed against what was sent',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' },
      { clear: 'n1' },
      { expect: [] },
      { set: baseSnapshot() },
      { expect: [] },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 8081)] }) },
      { expect: ['CDS c1'] },
      { status: undefined },
    ],
  },
];

const order: Row[] = [
  {
    rule: 'additions go CDS → EDS → LDS → RDS',
    steps: [
      // Subscribe in the "wrong" order on purpose, before the node has a snapshot.
      { send: { node: N1, type_url: RDS, resource_names: ['r1'] } },
      { send: { type_url: LDS } },
      { send: { type_url: EDS, resource_names: ['e1'] } },
      { send: { type_url: CDS } },
      { expect: [] },
      { set: baseSnapshot() },
      { expect: ['CDS c1,c2', 'EDS e1', 'LDS l1', 'RDS r1'] },
      { ack: 'CDS' },
      { ack: 'EDS', names: ['e1'] },
      { ack: 'LDS' },
      { ack: 'RDS', names: ['r1'] },
      {
        set: baseSnapshot({
          [CDS]: [cluster('c1', 8081), cluster('c2', 8082), cluster('c3', 8083)],
          [EDS]: [cla('e1', 9011)],
          [LDS]: [listener('l1', 10001, 'c3')],
          [RDS]: [route('r1', 'c3', '/one'), route('r2', 'c2'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['CDS c1,c2,c3', 'EDS e1', 'LDS l1', 'RDS r1'] },
    ],
  },
  {
    rule: 'removals come after additions, in reverse order: a replaced cluster disappears after the listener moved',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { send: { type_url: LDS } },
      { expect: ['CDS c1,c2', 'LDS l1'] },
      { ack: 'CDS' },
      { ack: 'LDS' },
      // l1 → c1 is replaced by l9 → c9: c1 and l1 go away.
      {
        set: baseSnapshot({
          [CDS]: [cluster('c2', 8082), cluster('c9', 8089)],
          [LDS]: [listener('l9', 10009, 'c9')],
        }),
      },
      {
        expect: [
          'CDS c1,c2,c9', // new cluster added, old one kept while still referenced
          'LDS l1,l9',
          'LDS l9', // removals: listeners first ...
          'CDS c2,c9', // ... then clusters
        ],
      },
    ],
  },
  {
    rule: 'a type outside the four xDS types follows them, in the order first asked for',
    steps: [
      { send: { node: N1, type_url: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig' } },
      { send: { type_url: CDS } },
      {
        set: {
          ...baseSnapshot(),
          'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig': [
            { name: 'x1', resource: { name: 'x1' } },
          ],
        },
      },
      { expect: ['CDS c1,c2', 'envoy.config.core.v3.TypedExtensionConfig x1'] },
    ],
  },
];

const reconnect: Row[] = [
  {
    rule: 'a reconnect carrying an old version_info and nonce gets the current state',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { peer: 'cancel' },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 1234)] }) },
      { open: 'b' },
      {
        on: 'b',
        send: (c) => {
          const old = c.last<SotwResponse>('CDS', 'a');
          return { node: N1, type_url: CDS, version_info: old.version_info, response_nonce: old.nonce };
        },
      },
      { on: 'b', expect: ['CDS c1'] },
      {
        check: (c) =>
          expect(c.last<SotwResponse>('CDS', 'b').version_info).not.toBe(
            c.last<SotwResponse>('CDS', 'a').version_info,
          ),
      },
    ],
  },
];

describe.each([
  ['responses', responses],
  ['ACK and NACK', ackNack],
  ['subscriptions', subscriptions],
  ['full state vs changed only', content],
  ['push order', order],
  ['reconnects', reconnect],
])('SotW in memory: %s', (_group, rows) => {
  it.each(rows.map((r) => [r.rule, r] as const))('%s', async (_rule, row) => {
    await runRow('sotw', row);
  });
});
