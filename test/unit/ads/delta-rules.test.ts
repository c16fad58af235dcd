/**
 * DeltaAggregatedResources rules of pkg/ads as table rows, run on the engine in memory (see
 * test/support/ads-memory-script.ts). Summaries list resources sent and `-name` for
 * removed_resources.
 */
import type { DeltaStream } from '../../../pkg/ads/index.js';
import type { DeltaResponse } from '../../support/ads-client.js';
import { runRow, type Row } from '../../support/ads-memory-script.js';
import {
  BARRIER_ROUTES,
  CDS,
  LDS,
  RDS,
  baseSnapshot,
  cluster,
  listener,
  route,
} from '../../support/ads-resources.js';

const N1 = { id: 'n1', cluster: 'test' };
const rdsState = (c: { server<S>(): S }) => c.server<DeltaStream>().types.get(RDS)!;

const rows: Row[] = [
  {
    rule: 'wildcard first request: every resource with its own content-hash version, a nonce, a system version',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      {
        check: (c) => {
          const r = c.last<DeltaResponse>('CDS');
          const snap = c.h.cache.getSnapshot('n1')!.types.get(CDS)!;
          for (const res of r.resources) expect(res.version).toBe(snap.resources.get(res.name)!.version);
          expect(r.nonce).not.toBe('');
          expect(r.system_version_info).toBe(snap.version);
        },
      },
    ],
  },
  {
    rule: 'named subscribe / unsubscribe; only changed resources are sent; removal is signalled',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS, resource_names_subscribe: ['r1'] } },
      { expect: ['RDS r1'] },
      { ack: 'RDS' },
      { send: { type_url: RDS, resource_names_subscribe: ['r2'] } },
      { expect: ['RDS r2'] },
      { check: (c) => expect(c.seen()[1]!.nonce).not.toBe(c.seen()[0]!.nonce) },
      { ack: 'RDS' },
      // Change r2 only: only r2 comes.
      {
        set: baseSnapshot({
          [RDS]: [route('r1', 'c1', '/one'), route('r2', 'c1', '/deux'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['RDS r2'] },
      { ack: 'RDS' },
      // Unsubscribe r2, then change it: nothing for r2.
      { send: { type_url: RDS, resource_names_unsubscribe: ['r2'] } },
      { check: (c) => expect(rdsState(c).names.has('r2')).toBe(false) },
      {
        set: baseSnapshot({
          [RDS]: [route('r1', 'c1', '/one'), route('r2', 'c2', '/zwei'), ...BARRIER_ROUTES],
        }),
      },
      { expect: [] },
      // Remove r1 from the snapshot: removed_resources names it.
      { set: baseSnapshot({ [RDS]: [route('r2', 'c2', '/zwei'), ...BARRIER_ROUTES] }) },
      { expect: ['RDS -r1'] },
    ],
  },
  {
    rule: 'initial_resource_versions: after a reconnect, resources the client holds at the current version are not resent',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { peer: 'cancel' },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 8081), cluster('c2', 9999), cluster('c3', 8083)] }) },
      { open: 'b' },
      {
        on: 'b',
        send: (c) => {
          const first = c.last<DeltaResponse>('CDS', 'a');
          const held = Object.fromEntries(first.resources.map((r) => [r.name, r.version]));
          return { node: N1, type_url: CDS, initial_resource_versions: { ...held, gone: 'v0' } };
        },
      },
      // c1 unchanged; "gone" is held but not in the snapshot: removed, after the additions.
      { on: 'b', expect: ['CDS c2,c3', 'CDS -gone'] },
    ],
  },
  {
    rule: 'a NACK is counted and the rejected content is not resent; a later change is',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: LDS } },
      { expect: ['LDS l1'] },
      { ack: 'LDS' },
      { set: baseSnapshot({ [LDS]: [listener('l1', 1, 'c1')] }) },
      { expect: ['LDS l1'] },
      { nack: 'LDS', message: 'port 1' },
      { expect: [] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_nacks_total', { type: 'LDS', protocol: 'delta' })).toBe(1);
          const st = c.server<DeltaStream>().types.get(LDS)!;
          expect(st.nacked).toEqual({
            version: c.last<DeltaResponse>('LDS').system_version_info,
            message: 'port 1',
          });
        },
      },
      { set: baseSnapshot({ [LDS]: [listener('l1', 10011, 'c1')] }) },
      { expect: ['LDS l1'] },
    ],
  },
  {
    rule: 'an ACK is counted per type and protocol, and causes no resend',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { expect: ['CDS c1,c2'] },
      { ack: 'CDS' },
      { expect: [] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_acks_total', { type: 'CDS', protocol: 'delta' })).toBe(1);
          expect(c.server<DeltaStream>().types.get(CDS)!.ackedVersion).toBe(
            c.last<DeltaResponse>('CDS').system_version_info,
          );
        },
      },
    ],
  },
  {
    rule: 'a stale nonce still changes the subscription but is neither ACK nor NACK',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS, resource_names_subscribe: ['r1'] } },
      { expect: ['RDS r1'] },
      {
        set: baseSnapshot({
          [RDS]: [route('r1', 'c2', '/one'), route('r2', 'c2', '/two'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['RDS r1'] },
      {
        send: (c) => ({
          type_url: RDS,
          response_nonce: c.seen()[0]!.nonce,
          resource_names_subscribe: ['r2'],
          error_detail: { code: 3, message: 'late' },
        }),
      },
      { expect: ['RDS r2'] },
      {
        check: async (c) => {
          expect(await c.h.metric('fsm_ads_nacks_total')).toBe(0);
          expect(await c.h.metric('fsm_ads_acks_total')).toBe(0);
        },
      },
    ],
  },
  {
    rule: 'removals go after additions, in reverse type order',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS } },
      { send: { type_url: LDS } },
      { expect: ['CDS c1,c2', 'LDS l1'] },
      { ack: 'CDS' },
      { ack: 'LDS' },
      {
        set: baseSnapshot({
          [CDS]: [cluster('c2', 8082), cluster('c9', 8089)],
          [LDS]: [listener('l9', 10009, 'c9')],
        }),
      },
      { expect: ['CDS c9', 'LDS l9', 'LDS -l1', 'CDS -c1'] },
    ],
  },
  {
    rule: 'additions go CDS → EDS → LDS → RDS whatever the subscription order',
    steps: [
      { send: { node: N1, type_url: RDS, resource_names_subscribe: ['r1'] } },
      { send: { type_url: LDS } },
      { send: { type_url: CDS } },
      { expect: [] },
      { set: baseSnapshot() },
      { expect: ['CDS c1,c2', 'LDS l1', 'RDS r1'] },
    ],
  },
  {
    rule: 'the xDS spec example: {} → "*" ; +A → "*" and A ; -"*" → A ; -A → nothing',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS } },
      { expect: [['RDS', ['r1', 'r2', ...BARRIER_ROUTES.map((b) => b.name)].sort().join(',')].join(' ')] },
      { check: (c) => expect(rdsState(c).legacyWildcard).toBe(true) },
      { send: { type_url: RDS, resource_names_subscribe: ['r1'] } },
      { expect: [] }, // still every route: r1 is held at its version
      {
        check: (c) =>
          expect({ wildcard: rdsState(c).wildcard, legacy: rdsState(c).legacyWildcard }).toEqual({
            wildcard: true,
            legacy: false,
          }),
      },
      { send: { type_url: RDS, resource_names_unsubscribe: ['*'] } },
      {
        set: baseSnapshot({
          [RDS]: [route('r1', 'c2', '/uno'), route('r2', 'c2', '/dos'), ...BARRIER_ROUTES],
        }),
      },
      { expect: ['RDS r1'] }, // r2 changed too, but is no longer subscribed
      { send: { type_url: RDS, resource_names_unsubscribe: ['r1'] } },
      { set: baseSnapshot({ [RDS]: [route('r1', 'c1', '/eins'), ...BARRIER_ROUTES] }) },
      { expect: [] },
      {
        check: (c) =>
          expect({
            wildcard: rdsState(c).wildcard,
            names: [...rdsState(c).names],
            known: rdsState(c).known.size,
          }).toEqual({ wildcard: false, names: [], known: 0 }),
      },
    ],
  },
  {
    rule: 'subscribing "*" after names adds every resource the client lacks; unsubscribing it forgets them',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: CDS, resource_names_subscribe: ['c1'] } },
      { expect: ['CDS c1'] },
      { send: { type_url: CDS, resource_names_subscribe: ['*'] } },
      { expect: ['CDS c2'] },
      { send: { type_url: CDS, resource_names_unsubscribe: ['*'] } },
      { set: baseSnapshot({ [CDS]: [cluster('c1', 8081), cluster('c2', 9999)] }) },
      { expect: [] },
      { check: (c) => expect([...c.server<DeltaStream>().types.get(CDS)!.known.keys()]).toEqual(['c1']) },
      // Subscribing c2 again sends it: the client is no longer known to hold it.
      { send: { type_url: CDS, resource_names_subscribe: ['c2'] } },
      { expect: ['CDS c2'] },
    ],
  },
  {
    rule: 'the first response of a type is sent even when the subscribed resources do not exist',
    steps: [
      { set: baseSnapshot() },
      { send: { node: N1, type_url: RDS, resource_names_subscribe: ['nope'] } },
      { expect: ['RDS'] },
      { set: baseSnapshot({ [RDS]: [route('nope', 'c1'), ...BARRIER_ROUTES] }) },
      { expect: ['RDS nope'] },
    ],
  },
];

describe('Delta in memory', () => {
  it.each(rows.map((r) => [r.rule, r] as const))('%s', async (_rule, row) => {
    await runRow('delta', row);
  });
});
