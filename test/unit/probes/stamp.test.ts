/**
 * Issue 19 item 6 through the probe contract: the injection stamp says which injector rewrote a pod
 * and in which formats; pods older than the running control plane are flagged (not refused).
 */
import { INJECTION_FORMAT, SIDECAR_BOOTSTRAP_FORMAT } from '../../../pkg/constants/index.js';
import {
  CURRENT_FORMAT,
  formatInjectionStamp,
  injectionInfo,
  injectionStamp,
  parseInjectionStamp,
} from '../../../pkg/probes/index.js';

const POD = 'shop/web-1';

describe('the stamp', () => {
  it('is written in the running formats and reads back', () => {
    const stamp = injectionStamp('0.1.0');
    expect(stamp).toEqual({
      injector: '0.1.0',
      format: INJECTION_FORMAT,
      bootstrap: SIDECAR_BOOTSTRAP_FORMAT,
    });
    expect(formatInjectionStamp(stamp)).toBe(
      `{"injector":"0.1.0","format":${INJECTION_FORMAT},"bootstrap":${SIDECAR_BOOTSTRAP_FORMAT}}`,
    );
    expect(parseInjectionStamp(formatInjectionStamp(stamp), POD)).toEqual({ status: 'valid', stamp });
  });

  it('a newer injector may say more: unknown fields are read past', () => {
    const raw = JSON.stringify({ injector: '9.0.0', format: 7, bootstrap: 3, mtls: 'strict' });
    expect(parseInjectionStamp(raw, POD)).toEqual({
      status: 'valid',
      stamp: { injector: '9.0.0', format: 7, bootstrap: 3 },
    });
  });

  it.each<[string, string, string]>([
    ['not JSON', 'fsm 0.1.0', 'not valid JSON'],
    ['an array', '[]', 'must be a JSON object {injector, format, bootstrap}'],
    ['no injector', '{"format":2,"bootstrap":1}', 'injector must be a version string, got nothing'],
    ['format 0', '{"injector":"x","format":0,"bootstrap":1}', 'format must be a positive integer, got 0'],
    [
      'bootstrap as a string',
      '{"injector":"x","format":2,"bootstrap":"1"}',
      'bootstrap must be a positive integer, got "1"',
    ],
  ])('invalid: %s', (_n, raw, want) => {
    const r = parseInjectionStamp(raw, POD);
    expect(r.status).toBe('invalid');
    if (r.status === 'invalid')
      expect(r.error).toContain(`pod ${POD}: annotation flomesh.io/injected-by: ${want}`);
  });
});

describe('injectionInfo: what predates the running control plane', () => {
  const current = { format: 3, bootstrap: 2 };
  it.each<[string, string | undefined, string[]]>([
    ['current', '{"injector":"1.0","format":3,"bootstrap":2}', []],
    ['newer than this control plane', '{"injector":"2.0","format":4,"bootstrap":3}', []],
    [
      'no stamp: the seed',
      undefined,
      [
        'probes rewritten in format 1 by an injector that wrote no stamp (the seed); the control plane now writes format 3',
        'sidecar bootstrap format 1 (by an injector that wrote no stamp (the seed)); the control plane now injects bootstrap format 2',
      ],
    ],
    [
      'an older rewrite',
      '{"injector":"0.9","format":2,"bootstrap":2}',
      ['probes rewritten in format 2 by fsm-injector 0.9; the control plane now writes format 3'],
    ],
    [
      'an older bootstrap',
      '{"injector":"0.9","format":3,"bootstrap":1}',
      ['sidecar bootstrap format 1 (by fsm-injector 0.9); the control plane now injects bootstrap format 2'],
    ],
  ])('%s', (_n, raw, outdated) => {
    expect(injectionInfo(raw, POD, current).outdated).toEqual(outdated);
  });

  it('an unreadable stamp counts as the seed format and says why', () => {
    const info = injectionInfo('{', POD, current);
    expect(info.format).toBe(1);
    expect(info.problem).toContain('not valid JSON');
  });

  it('defaults to this build', () => {
    expect(CURRENT_FORMAT).toEqual({ format: INJECTION_FORMAT, bootstrap: SIDECAR_BOOTSTRAP_FORMAT });
    expect(injectionInfo(formatInjectionStamp(injectionStamp('t')), POD).outdated).toEqual([]);
  });
});
