/** Issue 19 item 2: native or classic sidecar, from the API server's version and the annotations. */
import type { V1Namespace } from '@kubernetes/client-node';
import { NATIVE_SIDECAR_ANNOTATION } from '../../../pkg/constants/index.js';
import {
  decideSidecarMode,
  parseServerVersion,
  runsNativeSidecars,
  serverSupport,
} from '../../../pkg/injector/index.js';
import { pod } from '../../support/injector.js';

describe('parseServerVersion / runsNativeSidecars', () => {
  it.each<
    [string, { major?: string; minor?: string; gitVersion?: string }, string | undefined, boolean | undefined]
  >([
    ['1.29', { major: '1', minor: '29', gitVersion: 'v1.29.4' }, 'v1.29.4', true],
    ['1.28', { major: '1', minor: '28', gitVersion: 'v1.28.9' }, 'v1.28.9', false],
    ['1.32 without gitVersion', { major: '1', minor: '32' }, 'v1.32', true],
    ['GKE/EKS minor "29+"', { major: '1', minor: '29+', gitVersion: 'v1.29.1-eks' }, 'v1.29.1-eks', true],
    ['minor "28+"', { major: '1', minor: '28+' }, 'v1.28', false],
    ['a future major', { major: '2', minor: '0' }, 'v2.0', true],
    ['no minor', { major: '1' }, undefined, undefined],
    ['garbage', { major: 'x', minor: 'y' }, undefined, undefined],
  ])('%s', (_n, info, gitVersion, native) => {
    const v = parseServerVersion(info);
    expect(v?.gitVersion).toBe(gitVersion);
    expect(v === undefined ? undefined : runsNativeSidecars(v)).toBe(native);
  });

  it('serverSupport: unknown until read', () => {
    expect(serverSupport(undefined)).toEqual({ nativeSidecars: undefined, version: 'unknown' });
    expect(serverSupport({ major: 1, minor: 30, gitVersion: 'v1.30.0' })).toEqual({
      nativeSidecars: true,
      version: 'v1.30.0',
    });
  });
});

describe('decideSidecarMode', () => {
  const v132 = serverSupport({ major: 1, minor: 32, gitVersion: 'v1.32.0' });
  const v128 = serverSupport({ major: 1, minor: 28, gitVersion: 'v1.28.0' });
  const unknown = serverSupport(undefined);
  const ns = (value?: string): V1Namespace => ({
    metadata: {
      name: 'app',
      ...(value !== undefined ? { annotations: { [NATIVE_SIDECAR_ANNOTATION]: value } } : {}),
    },
  });
  const p = (value?: string) =>
    pod(
      'p',
      [{ name: 'a' }],
      value !== undefined ? { annotations: { [NATIVE_SIDECAR_ANNOTATION]: value } } : {},
    );

  it.each<
    [string, string | undefined, string | undefined, ReturnType<typeof serverSupport>, string, boolean]
  >([
    ['1.32, no annotation: native', undefined, undefined, v132, 'native', false],
    ['1.28, no annotation: classic', undefined, undefined, v128, 'classic', false],
    ['version not known yet: classic', undefined, undefined, unknown, 'classic', false],
    ['namespace disables', undefined, 'disabled', v132, 'classic', false],
    ['pod disables', 'no', 'enabled', v132, 'classic', false],
    ['pod enables over the namespace', 'true', 'disabled', v132, 'native', false],
    ['asked for on 1.28: classic with a warning', 'enabled', undefined, v128, 'classic', true],
    [
      'asked for before the version is known: classic with a warning',
      undefined,
      'yes',
      unknown,
      'classic',
      true,
    ],
    ['values are case-insensitive', 'DISABLED', undefined, v132, 'classic', false],
  ])('%s', (_n, podValue, nsValue, server, mode, warns) => {
    const d = decideSidecarMode(p(podValue), ns(nsValue), server);
    expect('deny' in d).toBe(false);
    if ('deny' in d) return;
    expect(d.mode).toBe(mode);
    expect(d.warning !== undefined).toBe(warns);
    if (warns) expect(d.warning).toContain('Kubernetes 1.29 or later');
  });

  it.each<[string, string | undefined, string | undefined, string]>([
    ['a bad pod value', 'maybe', undefined, 'pod annotation flomesh.io/native-sidecar="maybe" is invalid'],
    [
      'a bad namespace value',
      undefined,
      'sometimes',
      'namespace annotation flomesh.io/native-sidecar="sometimes" is invalid',
    ],
  ])('denies %s, naming it', (_n, podValue, nsValue, want) => {
    const d = decideSidecarMode(p(podValue), ns(nsValue), v132);
    expect('deny' in d && d.deny).toContain(want);
  });
});
