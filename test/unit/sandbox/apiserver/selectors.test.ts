import { humanDuration } from '../../../../pkg/sandbox/apiserver/table.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../../../pkg/sandbox/apiserver/selectors.js';

const labels = { app: 'web', tier: 'front', 'flomesh.io/monitored-by': 'fsm', empty: '' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app in (web, db)', true],
    ['app in (db)', false],
    ['app notin (db)', true],
    ['missing notin (db)', true],
    ['missing in (db)', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['flomesh.io/monitored-by=fsm,!flomesh.io/ignore', true],
    ['empty=', true],
    ['tier in (front,back),app', true],
  ])('%j → %p', (sel, expected) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(expected);
  });

  it.each(['app in (', 'app in ()', '=x', 'a=b=c', 'bad key!=x', 'app=not valid', '-app=x'])(
    'rejects %j',
    (sel) => {
      expect(() => parseLabelSelector(sel)).toThrow(SelectorError);
    },
  );

  it('matches objects without labels', () => {
    expect(matchesLabels(parseLabelSelector('!a'), undefined)).toBe(true);
    expect(matchesLabels(parseLabelSelector('a'), undefined)).toBe(false);
  });
});

describe('field selectors', () => {
  const ev = {
    metadata: { name: 'e1', namespace: 'ns' },
    involvedObject: { name: 'p,1', uid: 'u', kind: 'Pod' },
    count: 3,
  };
  it.each([
    ['metadata.name=e1', true],
    ['metadata.name==e1', true],
    ['metadata.name!=e1', false],
    ['metadata.namespace=ns,metadata.name=e1', true],
    ['involvedObject.name=p\\,1,involvedObject.uid=u', true],
    ['involvedObject.kind=Node', false],
    ['count=3', true],
    ['missing.field=', true],
    ['missing.field=x', false],
  ])('%j → %p', (sel, expected) => {
    expect(matchesFields(parseFieldSelector(sel), ev)).toBe(expected);
  });

  it.each(['metadata.name', 'a b=c', '=x'])('rejects %j', (sel) => {
    expect(() => parseFieldSelector(sel)).toThrow(SelectorError);
  });
});

describe('humanDuration (kubectl AGE)', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [302_000, '5m2s'],
    [11 * 60_000, '11m'],
    [3 * 3600_000 + 4 * 60_000, '3h4m'],
    [10 * 3600_000, '10h'],
    [2 * 86400_000 + 3 * 3600_000, '2d3h'],
    [30 * 86400_000, '30d'],
    [3 * 365 * 86400_000, '3y'],
    [-5, '0s'],
  ])('%p ms → %p', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});
