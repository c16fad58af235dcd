import { parseCheckRequest, parsePortValue, type DistinctHeaders } from '../../../pkg/healthcheck/request.js';

/** The allow-list of `--allow-any-port` (these tests are about the headers, not the list). */
const none = 'any' as const;
const tcp = (v: string | string[]): DistinctHeaders => ({ 'original-tcp-port': Array.isArray(v) ? v : [v] });

describe('parsePortValue', () => {
  it.each([
    ['1', 1],
    ['80', 80],
    ['8080', 8080],
    ['65535', 65535],
  ])('accepts %j', (v, port) => {
    expect(parsePortValue('Original-Tcp-Port', v)).toEqual({ port });
  });

  it.each([
    ['', /is empty/],
    ['0', /not a port number 1-65535/],
    ['65536', /not a port/],
    ['99999', /not a port/],
    ['123456', /not a port/],
    ['-1', /not a port/],
    ['+80', /not a port/],
    ['0x50', /not a port/],
    ['080', /not a port/],
    [' 80 ', /not a port/],
    ['80 ', /not a port/],
    ['8 0', /not a port/],
    ['80@10.0.0.1', /not a port/],
    ['10.0.0.1:80', /not a port/],
    ['localhost:80', /not a port/],
    ['80,81', /not a port/],
    ['8e1', /not a port/],
    ['80.0', /not a port/],
    ['abc', /not a port/],
    ['٨٠', /not a port/], // Arabic-Indic digits are not decimal ASCII
  ])('rejects %j', (v, msg) => {
    const r = parsePortValue('Original-Tcp-Port', v);
    expect('error' in r && r.error).toMatch(msg);
    if ('error' in r && v !== '') expect(r.error).toContain(JSON.stringify(v));
  });
});

describe('parseCheckRequest', () => {
  it('reads a TCP check', () => {
    expect(parseCheckRequest(tcp('8080'), none)).toEqual({ ok: true, check: { kind: 'tcp', port: 8080 } });
  });

  it('reads a gRPC check with and without service', () => {
    expect(parseCheckRequest({ 'original-grpc-port': ['9000'] }, none)).toEqual({
      ok: true,
      check: { kind: 'grpc', port: 9000, service: '' },
    });
    expect(
      parseCheckRequest({ 'original-grpc-port': ['9000'], 'original-grpc-service': ['pkg.v1.Svc'] }, none),
    ).toEqual({ ok: true, check: { kind: 'grpc', port: 9000, service: 'pkg.v1.Svc' } });
  });

  it.each<[string, DistinctHeaders, RegExp]>([
    ['missing', {}, /missing header Original-Tcp-Port/],
    ['empty list', { 'original-tcp-port': [] }, /missing header/],
    ['empty', tcp(''), /Original-Tcp-Port is empty/],
    ['repeated', tcp(['80', '81']), /must appear once, got 2/],
    ['repeated same', tcp(['80', '80']), /must appear once/],
    ['not decimal', tcp('0x50'), /"0x50" is not a port/],
    ['host smuggling', tcp('80@10.0.0.1'), /not a port/],
    ['both kinds', { 'original-tcp-port': ['80'], 'original-grpc-port': ['81'] }, /mutually exclusive/],
    ['grpc repeated', { 'original-grpc-port': ['1', '2'] }, /Original-Grpc-Port must appear once/],
    ['grpc bad port', { 'original-grpc-port': ['70000'] }, /Original-Grpc-Port value "70000"/],
    ['service without grpc', { 'original-tcp-port': ['80'], 'original-grpc-service': ['x'] }, /only applies/],
    [
      'service repeated',
      { 'original-grpc-port': ['80'], 'original-grpc-service': ['a', 'b'] },
      /Original-Grpc-Service must appear once/,
    ],
    [
      'service invalid',
      { 'original-grpc-port': ['80'], 'original-grpc-service': ['a b'] },
      /not a gRPC service/,
    ],
  ])('400 when %s', (_name, headers, msg) => {
    const r = parseCheckRequest(headers, none);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(400);
      expect(r.message).toMatch(msg);
    }
  });

  it('applies the allow-list to TCP and gRPC ports', () => {
    const allowed = new Set([8080, 9000]);
    expect(parseCheckRequest(tcp('8080'), allowed).ok).toBe(true);
    expect(parseCheckRequest(tcp('22'), allowed)).toEqual({
      ok: false,
      status: 403,
      message: 'port 22 is not in the allowed probe ports',
    });
    expect(parseCheckRequest({ 'original-grpc-port': ['9001'] }, allowed)).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('an empty allow-list allows no port: "any" has to be said', () => {
    expect(parseCheckRequest(tcp('8080'), new Set())).toMatchObject({ ok: false, status: 403 });
    expect(parseCheckRequest(tcp('8080'), 'any')).toMatchObject({ ok: true });
  });

  it('rejects a malformed header before the allow-list is consulted', () => {
    expect(parseCheckRequest(tcp('x'), new Set([1]))).toMatchObject({ ok: false, status: 400 });
  });
});
