/**
 * fsm-healthcheck runs in every pod with a TCP or gRPC probe: what it loads is paid per pod. The
 * built binary, preloaded with test/fixtures/module-audit.mjs, reports at exit the CommonJS modules
 * and Node built-ins it loaded: a TCP check must not have loaded winston (the lean logger writes
 * its lines), the gRPC stack (loaded on the first gRPC check), or Node's bundled undici (an ESM
 * import of node:http loads it; see pkg/binary/http-server.ts).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { httpRequest, startTcpListener } from '../../support/net.js';
import { repoRoot, startBinary, type RunningBinary } from '../../support/process.js';

const AUDIT = path.join(repoRoot(), 'test', 'fixtures', 'module-audit.mjs');

interface Audit {
  cjs: string[];
  builtins: string[];
}

async function run(check: (base: string) => Promise<void>): Promise<Audit> {
  const bin: RunningBinary = startBinary('fsm-healthcheck', ['--port', '0', '--allow-any-port'], {
    NODE_OPTIONS: `--import ${AUDIT}`,
  });
  try {
    const line = await bin.waitForLog(/fsm-healthcheck listening/);
    const port = String(line['address']).split(':').pop();
    await check(`http://127.0.0.1:${port}/fsm-healthcheck`);
  } finally {
    bin.kill('SIGTERM');
  }
  expect(await bin.exited).toBe(0);
  const m = /^MODULE-AUDIT (.*)$/m.exec(bin.stderr());
  if (!m) throw new Error(`no MODULE-AUDIT line in stderr:\n${bin.stderr()}`);
  return JSON.parse(m[1]!) as Audit;
}

const loaded = (a: Audit, pkg: string): string[] =>
  a.cjs.filter((f) => f.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`));

describe('fsm-healthcheck footprint', () => {
  it('a TCP check loads neither winston, nor the gRPC stack, nor undici', async () => {
    const target = await startTcpListener();
    try {
      const audit = await run(async (base) => {
        const r = await httpRequest(base, { headers: { 'Original-Tcp-Port': String(target.port) } });
        expect(r.status).toBe(200);
      });
      // The audit sees what it should: commander is CommonJS and is always loaded.
      expect(loaded(audit, 'commander').length).toBeGreaterThan(0);
      expect(loaded(audit, 'winston')).toEqual([]);
      expect(loaded(audit, '@grpc')).toEqual([]);
      expect(audit.builtins).toContain('NativeModule http');
      expect(audit.builtins.filter((b) => b.includes('undici'))).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it('the first gRPC check loads the gRPC stack (and answers)', async () => {
    const server = new grpc.Server();
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    try {
      const audit = await run(async (base) => {
        const r = await httpRequest(base, { headers: { 'Original-Grpc-Port': String(port) } });
        expect(r.status).toBe(200);
        expect(r.body).toContain('SERVING');
      });
      expect(loaded(audit, '@grpc').length).toBeGreaterThan(0);
      expect(loaded(audit, 'winston')).toEqual([]);
    } finally {
      server.forceShutdown();
    }
  });
});
