/** The node agent's stand-ins as tables: images → binaries, env, volume paths, freezing, log instances. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { binaryForImage, containerEnv } from '../../../../pkg/sandbox/kubelet/processes.js';
import { containerMounts, rewritePaths } from '../../../../pkg/sandbox/kubelet/volumes.js';
import { frozenContainers } from '../../../../pkg/sandbox/kubelet/freeze.js';
import { NodeLogs } from '../../../../pkg/sandbox/kubelet/logs.js';

describe('images that are fsm binaries', () => {
  it.each([
    ['flomesh/fsm-controller:v0.1.0', 'fsm-controller'],
    ['registry.local:5000/team/fsm-injector:v2', 'fsm-injector'],
    ['fsm-healthcheck@sha256:' + 'a'.repeat(64), 'fsm-healthcheck'],
    ['flomesh/fsm-controller-extra:v1', undefined],
    ['fsm-sandbox/http-app:v1', undefined],
    [undefined, undefined],
  ])('%s → %s', (image, binary) => {
    expect(binaryForImage(image)).toBe(binary);
  });
});

describe('container env', () => {
  it('values and the downward-API fields a node fills in', () => {
    const c: V1Container = {
      name: 'c',
      env: [
        { name: 'A', value: '1' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
    };
    const pod: V1Pod = { metadata: { name: 'p', namespace: 'n' } };
    expect(containerEnv(c, pod, '127.0.1.9')).toEqual({ A: '1', POD: 'p', NS: 'n', IP: '127.0.1.9' });
  });
});

describe('volume paths', () => {
  const mounts = containerMounts(
    {
      name: 'c',
      volumeMounts: [
        { name: 'tls', mountPath: '/etc/fsm/tls' },
        { name: 'etc', mountPath: '/etc/fsm/' },
        { name: 'gone', mountPath: '/nowhere' },
      ],
    },
    new Map([
      ['tls', '/pods/p/volumes/tls'],
      ['etc', '/pods/p/volumes/etc'],
    ]),
  );
  it.each([
    ['--tls-cert-file=/etc/fsm/tls/tls.crt', '--tls-cert-file=/pods/p/volumes/tls/tls.crt'],
    ['/etc/fsm/config.yaml', '/pods/p/volumes/etc/config.yaml'],
    ['--dir=/etc/fsm', '--dir=/pods/p/volumes/etc'],
    ['/etc/fsmx/other', '/etc/fsmx/other'],
    ['--port=9090', '--port=9090'],
  ])('%s → %s', (arg, want) => {
    expect(rewritePaths(arg, mounts)).toBe(want);
  });
  it('only mounted volumes, the nested mount first', () => {
    expect(mounts.map((m) => m.mountPath)).toEqual(['/etc/fsm/tls', '/etc/fsm']);
  });
});

describe('the freeze annotation', () => {
  it.each([
    [undefined, []],
    ['*', ['a', 'b']],
    ['b, x', ['b']],
  ])('%s freezes %j', (value, want) => {
    expect([...frozenContainers(value, ['a', 'b'])]).toEqual(want);
  });
});

describe('container log instances', () => {
  it('current and previous, as kubelet picks them (also while the container waits to start again)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fsm-logs-'));
    try {
      const logs = new NodeLogs(dir);
      const first = logs.begin('n', 'p', 'u', 'c');
      first.write('stdout', 'one\ntw');
      expect(logs.containerLog('n', 'p', 'u', 'c', true)).toBeUndefined();
      await first.end();
      // Terminated, not started again yet: both current and previous are the first instance.
      expect(logs.containerLog('n', 'p', 'u', 'c', false)?.path).toBe(first.path);
      expect(logs.containerLog('n', 'p', 'u', 'c', true)?.path).toBe(first.path);
      const second = logs.begin('n', 'p', 'u', 'c');
      expect(logs.containerLog('n', 'p', 'u', 'c', false)).toMatchObject({ path: second.path, live: true });
      expect(logs.containerLog('n', 'p', 'u', 'c', true)?.path).toBe(first.path);
      const lines = (await readFile(first.path, 'utf8')).trim().split('\n');
      expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['stdout F one', 'stdout F tw']);
      await logs.forget('n', 'p', 'u');
      expect(logs.containerLog('n', 'p', 'u', 'c', false)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
