/** Server features outside the client's typed API: TLS trust, Table printing, the HTTP fault API, createObject. */
import https from 'node:https';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

let h: TestApiServer;

beforeAll(async () => {
  h = await startTestApiServer();
});
afterAll(async () => {
  await h.stop();
});

function request(
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; ca?: string | null } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${h.server.url}${path}`,
      {
        method,
        ...(opts.ca === null ? {} : { ca: opts.ca ?? h.server.caPem }),
        headers: {
          Authorization: `Bearer ${h.server.token}`,
          'Content-Type': 'application/json',
          ...opts.headers,
        },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, json: JSON.parse(data) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

describe('sandbox API server', () => {
  it('serves HTTPS that a client trusts only through the generated CA', async () => {
    await expect(request('GET', '/version', { ca: null })).rejects.toThrow(
      /self.signed|unable to verify|certificate/i,
    );
    expect((await request('GET', '/version')).status).toBe(200);
  });

  it('a wrong bearer token is 401', async () => {
    const r = await request('GET', '/api/v1/pods', { headers: { Authorization: 'Bearer nope' } });
    expect(r.status).toBe(401);
  });

  it('unknown paths and resources are 404 Status; bad JSON is 400; protobuf bodies are 415', async () => {
    expect((await request('GET', '/api/v1/widgets')).json).toMatchObject({ kind: 'Status', code: 404 });
    expect((await request('GET', '/apis/nope.io/v1')).status).toBe(404);
    const bad = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${h.server.url}/api/v1/namespaces`,
        {
          method: 'POST',
          ca: h.server.caPem,
          headers: { Authorization: `Bearer ${h.server.token}`, 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end('{not json');
    });
    expect(bad).toBe(400);
    const pb = await request('POST', '/api/v1/namespaces', {
      body: {},
      headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
    });
    expect(pb.status).toBe(415);
    expect(String(pb.json['message'])).toContain('does not start with the k8s protobuf magic');
    const yaml = await request('POST', '/api/v1/namespaces', {
      body: {},
      headers: { 'Content-Type': 'application/yaml' },
    });
    expect(yaml.status).toBe(415);
    expect(String(yaml.json['message'])).toContain('accepts JSON');
    expect((await request('PUT', '/api/v1/namespaces')).status).toBe(405);
    expect((await request('GET', '/api/v1/namespaces/%E0%A4%A')).status).toBe(400);
    // The server is still fine afterwards.
    expect((await request('GET', '/api/v1/namespaces')).status).toBe(200);
  });

  it('prints Tables for kubectl (Accept as=Table)', async () => {
    await h.server.createObject('pods', {
      metadata: { name: 't1', namespace: 'default' },
      spec: {
        containers: [
          { name: 'a', image: 'i' },
          { name: 'b', image: 'i' },
        ],
      },
      status: { containerStatuses: [{ name: 'a', ready: true, restartCount: 2 }] },
    });
    const r = await request('GET', '/api/v1/namespaces/default/pods', {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    expect(r.json['kind']).toBe('Table');
    const cols = (r.json['columnDefinitions'] as { name: string }[]).map((c) => c.name);
    expect(cols.slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    const row = (r.json['rows'] as { cells: unknown[]; object: { kind: string } }[])[0]!;
    expect(row.cells.slice(0, 4)).toEqual(['t1', '1/2', 'Pending', 2]);
    expect(row.object.kind).toBe('PartialObjectMetadata');
  });

  it('prints a one-row Table for a single-object GET when asked, the object otherwise', async () => {
    const accept = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
    const one = await request('GET', '/api/v1/namespaces/default/pods/t1', { headers: accept });
    expect(one.status).toBe(200);
    expect(one.json['kind']).toBe('Table');
    const rows = one.json['rows'] as { cells: unknown[] }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cells.slice(0, 4)).toEqual(['t1', '1/2', 'Pending', 2]);
    const plain = await request('GET', '/api/v1/namespaces/default/pods/t1');
    expect(plain.json['kind']).toBe('Pod');
    const missing = await request('GET', '/api/v1/namespaces/default/pods/nope', { headers: accept });
    expect(missing.status).toBe(404);
  });

  it('createObject applies the same defaults and validation as POST', async () => {
    const p = await h.server.createObject('pods', {
      metadata: { generateName: 'gen-', namespace: 'default' },
      spec: { containers: [{ name: 'a', image: 'i' }] },
    });
    expect(p.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(p['status']).toMatchObject({ phase: 'Pending' });
    await expect(
      h.server.createObject('pods', { metadata: { name: 'x', namespace: 'default' }, spec: {} }),
    ).rejects.toThrow(/spec.containers: Required value/);
    await expect(h.server.createObject('pods', { metadata: { name: 'x' } })).rejects.toThrow(
      /metadata.namespace is required/,
    );
    await expect(h.server.createObject('gadgets', {})).rejects.toThrow(/not found/);
  });

  it('the HTTP fault API arms failures and drops watches for out-of-process tests', async () => {
    const core = h.kc.makeApiClient(CoreV1Api);
    expect(
      (
        await request('POST', '/fsm-sandbox/faults', {
          body: { action: 'fail', verb: 'list', resource: 'pods', code: 500 },
        })
      ).status,
    ).toBe(200);
    expect((await request('GET', '/fsm-sandbox/faults')).json['pending']).toHaveLength(1);
    await expect(core.listPodForAllNamespaces()).rejects.toMatchObject({ code: 500 });
    await core.listPodForAllNamespaces();
    const rv = (await request('POST', '/fsm-sandbox/faults', { body: { action: 'compact' } })).json[
      'resourceVersion'
    ];
    expect(rv).toBe(String(h.server.store.resourceVersion));
    expect((await request('POST', '/fsm-sandbox/faults', { body: { action: 'dropWatches' } })).json).toEqual({
      affected: 0,
    });
    const bad = await request('POST', '/fsm-sandbox/faults', {
      body: { action: 'fail', verb: 'fly', code: 500 },
    });
    expect(bad.status).toBe(400);
    expect(String(bad.json['message'])).toContain('verb must be one of');
    expect((await request('POST', '/fsm-sandbox/faults', { body: { action: 'explode' } })).status).toBe(400);
  });
});
