/** The push order shared by SotW and Delta (pkg/ads/push-order.ts). */
import { inPushOrder, nextInPushOrder, type PushSteps } from '../../../pkg/ads/push-order.js';
import { CDS, EDS, LDS, RDS } from '../../support/ads-resources.js';

const OTHER = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
const OTHER2 = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';
const typesOf = (...urls: string[]) => new Map(urls.map((typeUrl) => [typeUrl, { typeUrl }]));

describe('inPushOrder', () => {
  it.each<[string, string[], string[]]>([
    ['the four xDS types, asked in reverse', [RDS, LDS, EDS, CDS], [CDS, EDS, LDS, RDS]],
    ['a subset', [LDS, CDS], [CDS, LDS]],
    [
      'other types follow, in the order first asked for',
      [OTHER2, RDS, OTHER, CDS],
      [CDS, RDS, OTHER2, OTHER],
    ],
    ['nothing asked', [], []],
  ])('%s', (_case, asked, want) => {
    expect(inPushOrder(typesOf(...asked)).map((t) => t.typeUrl)).toEqual(want);
  });
});

describe('nextInPushOrder', () => {
  /** Steps owing additions for `adds` and removals for `removes`; records what was asked. */
  function steps(adds: string[], removes: string[], asked: string[]): PushSteps<{ typeUrl: string }, string> {
    return {
      additionOf: (t) => (
        asked.push(`+${t.typeUrl}`),
        adds.includes(t.typeUrl) ? `add ${t.typeUrl}` : undefined
      ),
      removalOf: (t) => (
        asked.push(`-${t.typeUrl}`),
        removes.includes(t.typeUrl) ? `remove ${t.typeUrl}` : undefined
      ),
    };
  }
  const ordered = inPushOrder(typesOf(CDS, EDS, LDS, RDS));

  it.each<[string, string[], string[], string | undefined, string[]]>([
    ['the first addition in order wins', [LDS, EDS], [CDS], `add ${EDS}`, [`+${CDS}`, `+${EDS}`]],
    [
      'removals only when no addition is owed, last type first',
      [],
      [CDS, LDS],
      `remove ${LDS}`,
      [`+${CDS}`, `+${EDS}`, `+${LDS}`, `+${RDS}`, `-${RDS}`, `-${LDS}`],
    ],
    [
      'nothing owed',
      [],
      [],
      undefined,
      [`+${CDS}`, `+${EDS}`, `+${LDS}`, `+${RDS}`, `-${RDS}`, `-${LDS}`, `-${EDS}`, `-${CDS}`],
    ],
  ])('%s', (_case, adds, removes, want, wantAsked) => {
    const asked: string[] = [];
    expect(nextInPushOrder(ordered, steps(adds, removes, asked))).toBe(want);
    expect(asked).toEqual(wantAsked);
  });
});
