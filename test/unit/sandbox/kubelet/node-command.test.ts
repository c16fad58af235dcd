import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEALTHCHECK_NODE_FLAGS } from '../../../../pkg/constants/index.js';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { defaultInjectorConfig, mutatePod } from '../../../../pkg/injector/index.js';
import { NodeLogs } from '../../../../pkg/sandbox/kubelet/logs.js';
import { splitNodeCommand, startBinaryContainer } from '../../../../pkg/sandbox/kubelet/processes.js';
import { namespace, realisticPod, sequentialUuids } from '../../../support/injector.js';
import { binaryPath } from '../../../support/process.js';

/** The fsm-healthcheck container the injector adds to a pod with a TCP probe. */
function injectedHealthcheck(): V1Container {
  const original = realisticPod();
  const r = mutatePod({
    object: original,
    namespace: 'app',
    namespaceObject: namespace('app', { mesh: 'fsm' }),
    config: defaultInjectorConfig({
      sidecarImage: 'envoy:test',
      initImage: 'init:test',
      healthcheckImage: 'flomesh/fsm-healthcheck:v0.1.0',
    }),
    newProxyUuid: sequentialUuids(),
  });
  const wire = JSON.parse(JSON.stringify(r.patch)) as jsonpatch.Operation[];
  const out = jsonpatch.applyPatch(jsonpatch.deepClone(original), wire, true).newDocument as V1Pod;
  const hc = out.spec!.containers.find((c) => c.name === 'fsm-healthcheck');
  if (!hc) throw new Error('the realistic pod got no fsm-healthcheck container');
  return hc;
}

describe('a container command that runs node', () => {
  it.each([
    [undefined, [], []],
    [[], [], []],
    [['envoy'], [], []],
    [['/bin/sh', '-c', 'echo hi'], [], ['-c', 'echo hi']],
    [['node', '/app/entrypoint.mjs'], [], []],
    [['node', '--max-semi-space-size=1', '/app/entrypoint.mjs'], ['--max-semi-space-size=1'], []],
    [
      ['/usr/local/bin/node', '--a', '--b=1', '/app/e.mjs', '--port', '1'],
      ['--a', '--b=1'],
      ['--port', '1'],
    ],
    [['node', '--only-flags'], ['--only-flags'], []],
  ])('%j → node flags %j, args %j', (command, nodeArgs, args) => {
    expect(splitNodeCommand(command)).toEqual({ nodeArgs, args });
  });

  it("the sandbox starts the injected fsm-healthcheck with the container's Node flags", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fsm-node-command-'));
    const logs = new NodeLogs(dir);
    const log = logs.begin('ns', 'pod', 'uid', 'fsm-healthcheck');
    const container = injectedHealthcheck();
    // A loopback address of its own: the checker binds the fixed port 15904 there.
    const ip = `127.${20 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250) + 1}.9`;
    const proc = startBinaryContainer({
      pod: { metadata: { name: 'pod', namespace: 'ns', uid: 'uid' } },
      ip,
      dir,
      volumes: new Map(),
      container,
      binary: 'fsm-healthcheck',
      script: binaryPath('fsm-healthcheck'),
      log,
    });
    try {
      const cmdline = (await readFile(`/proc/${proc.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      const script = cmdline.indexOf(binaryPath('fsm-healthcheck'));
      expect(script).toBeGreaterThan(0);
      expect(HEALTHCHECK_NODE_FLAGS.length).toBeGreaterThan(0);
      expect(cmdline.slice(1, script)).toEqual([...HEALTHCHECK_NODE_FLAGS]);
      expect(cmdline.slice(script + 1)).toEqual([
        '--bind-address',
        ip,
        '--target-host',
        ip,
        '--port',
        '15904',
      ]);
    } finally {
      await proc.stop(5000);
      await log.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
