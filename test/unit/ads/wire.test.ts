import {
  controlPlaneField,
  decodeDeltaDiscoveryRequest,
  deltaResourceChunk,
  encodeDeltaDiscoveryResponse,
  varintSize,
} from '../../../pkg/ads/wire.js';
import {
  decodeDiscoveryRequest,
  encodeDiscoveryResponse,
  lengthDelimited,
  sotwResourceChunk,
} from '../../../pkg/ads/index.js';
import { decodeMessage, encodeMessage } from '../../../pkg/envoy/index.js';
import { CDS, cluster } from '../../support/ads-resources.js';

const RESP = 'envoy.service.discovery.v3.DiscoveryResponse';
const DRESP = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';

describe('hand-written response framing equals protobufjs decoding', () => {
  const c1 = encodeMessage(CDS, cluster('c1').resource as Record<string, unknown>);
  const big = Buffer.alloc(300_000, 7); // multi-byte varint lengths

  it.each([
    ['one resource', '1', [c1], 'n1', 'fsm'],
    ['no resources, empty version', '', [], 'n2', ''],
    ['unicode version, two resources', 'vé-✓', [c1, c1], 'abc', 'cp'],
    ['a large resource', 'v', [big], 'z', 'fsm'],
  ])('DiscoveryResponse: %s', (_label, version, values, nonce, cp) => {
    const chunks = values.map((v) => sotwResourceChunk(CDS, v));
    const bytes = encodeDiscoveryResponse(version, chunks, CDS, nonce, controlPlaneField(6, cp));
    const m = decodeMessage<any>(RESP, bytes);
    expect(m.version_info ?? '').toBe(version);
    expect(m.type_url).toBe(CDS);
    expect(m.nonce).toBe(nonce);
    expect((m.resources ?? []).length).toBe(values.length);
    (m.resources ?? []).forEach((r: any, i: number) => {
      expect(r.type_url).toBe(CDS);
      expect(Buffer.from(r.value).equals(values[i]!)).toBe(true);
    });
    expect(m.control_plane?.identifier ?? '').toBe(cp);
  });

  it('DeltaDiscoveryResponse with resources and removals', () => {
    const chunks = [deltaResourceChunk('c1', 'h1', CDS, c1), deltaResourceChunk('big', 'h2', CDS, big)];
    const bytes = encodeDeltaDiscoveryResponse(
      'sys',
      chunks,
      CDS,
      ['gone', 'also'],
      'n9',
      controlPlaneField(7, 'fsm'),
    );
    const m = decodeMessage<any>(DRESP, bytes);
    expect(m.system_version_info).toBe('sys');
    expect(m.nonce).toBe('n9');
    expect(m.removed_resources).toEqual(['gone', 'also']);
    expect(m.resources.map((r: any) => [r.name, r.version, r.resource.type_url])).toEqual([
      ['c1', 'h1', CDS],
      ['big', 'h2', CDS],
    ]);
    expect(Buffer.from(m.resources[1].resource.value).equals(big)).toBe(true);
    expect(m.control_plane.identifier).toBe('fsm');
  });

  it.each([
    [0, 1],
    [127, 1],
    [128, 2],
    [16383, 2],
    [16384, 3],
    [2 ** 21, 4],
    [2 ** 28, 5],
  ])('varintSize(%d) = %d', (v, n) => {
    expect(varintSize(v)).toBe(n);
    expect(lengthDelimited(1, Buffer.alloc(0)).length).toBe(2);
  });
});

describe('request decoding', () => {
  it('reads node, names, nonce and error_detail of a DiscoveryRequest', () => {
    const bytes = encodeMessage('envoy.service.discovery.v3.DiscoveryRequest', {
      version_info: 'v1',
      node: { id: 'pod.ns', cluster: 'c', locality: { zone: 'z' } },
      resource_names: ['a', 'b'],
      type_url: CDS,
      response_nonce: '7',
      error_detail: { code: 3, message: 'bad' },
    });
    expect(decodeDiscoveryRequest(bytes)).toMatchObject({
      version_info: 'v1',
      node: { id: 'pod.ns', cluster: 'c' },
      resource_names: ['a', 'b'],
      type_url: CDS,
      response_nonce: '7',
      error_detail: { code: 3, message: 'bad' },
    });
    const empty = decodeDiscoveryRequest(Buffer.alloc(0));
    expect(empty).toMatchObject({ version_info: '', resource_names: [], type_url: '', response_nonce: '' });
    expect(empty.node).toBeUndefined();
    expect(empty.error_detail).toBeUndefined();
  });

  it('reads a DeltaDiscoveryRequest', () => {
    const bytes = encodeMessage('envoy.service.discovery.v3.DeltaDiscoveryRequest', {
      node: { id: 'n' },
      type_url: CDS,
      resource_names_subscribe: ['a'],
      resource_names_unsubscribe: ['b'],
      initial_resource_versions: { a: 'h' },
      response_nonce: '3',
    });
    expect(decodeDeltaDiscoveryRequest(bytes)).toMatchObject({
      node: { id: 'n' },
      resource_names_subscribe: ['a'],
      resource_names_unsubscribe: ['b'],
      initial_resource_versions: { a: 'h' },
      response_nonce: '3',
    });
  });

  it('malformed bytes throw (gRPC then fails only that call)', () => {
    expect(() => decodeDiscoveryRequest(Buffer.from([0x0a, 0xff, 0xff]))).toThrow();
  });
});
