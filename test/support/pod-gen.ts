/**
 * Seeded generator of pods for property tests (valid, odd and malformed shapes): the injector's
 * property test (test/unit/injector/fuzz.test.ts) and the patch builder's (patch.test.ts).
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { PROBE_TYPE_INFO, PROBE_TYPES } from '../../pkg/constants/index.js';

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly r: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  port(names: string[]): unknown {
    return this.pick<() => unknown>([
      () => this.int(1, 65535),
      () => this.pick([80, 8080, 443, 9000]),
      () => (names.length ? this.pick(names) : 'http'),
      () => 'nope',
      () => String(this.int(1, 70000)),
      () => 0,
      () => 70000,
      () => (this.chance(0.5) ? -1 : 1.5),
      () => (this.chance(0.1) ? true : 8080), // rarely malformed
    ])();
  }
  probe(names: string[]): V1Probe | null | undefined {
    const common = (): Partial<V1Probe> => ({
      ...(this.chance(0.5) ? { periodSeconds: this.int(1, 30) } : {}),
      ...(this.chance(0.5) ? { timeoutSeconds: this.int(0, 5) } : {}),
      ...(this.chance(0.3) ? { failureThreshold: this.int(1, 10) } : {}),
    });
    return this.pick<() => V1Probe | null | undefined>([
      () => undefined,
      () => undefined,
      () => null,
      () => ({}),
      () => ({
        ...common(),
        httpGet: {
          port: this.port(names) as number,
          ...(this.chance(0.7)
            ? { path: this.pick(['/', '/healthz', 'ready', '/a/b?x=1', '', '/x\ny']) }
            : {}),
          ...(this.chance(0.5) ? { scheme: this.pick(['HTTP', 'HTTPS', 'HTTPS', 'http', '']) } : {}),
          ...(this.chance(0.3)
            ? {
                httpHeaders: [
                  { name: this.pick(['X-A', 'X-A', 'Host', 'X B']), value: this.pick(['1', 'a b', 'c\r']) },
                ],
              }
            : {}),
          ...(this.chance(0.05) ? { host: '10.1.2.3' } : {}),
        },
      }),
      () => ({ ...common(), tcpSocket: { port: this.port(names) as number } }),
      () => ({
        ...common(),
        grpc: {
          port: this.int(0, 66000),
          ...(this.chance(0.5) ? { service: this.pick(['', 'a.B', 'x\ty']) } : {}),
        },
      }),
      () => ({ ...common(), exec: { command: ['true'] } }),
      () => ({ httpGet: { port: 80 }, tcpSocket: { port: 81 } }),
    ])();
  }
  container(name: string): V1Container {
    const ports = Array.from({ length: this.int(0, 3) }, (_, i) => ({
      ...(this.chance(0.7) ? { name: this.pick(['http', 'grpc', 'admin', 'metrics']) + i } : {}),
      containerPort: this.chance(0.9) ? this.int(1, 65535) : 0,
    }));
    const names = ports.flatMap((p) => (p.name ? [p.name] : []));
    const c: V1Container = { name, image: 'img', ...(ports.length || this.chance(0.5) ? { ports } : {}) };
    for (const t of PROBE_TYPES) {
      const p = this.probe(names);
      if (p !== undefined) (c as unknown as Record<string, unknown>)[PROBE_TYPE_INFO[t].field] = p;
    }
    return c;
  }
  pod(): unknown {
    const n = this.int(1, 4);
    const containers: unknown[] = Array.from({ length: n }, (_, i) =>
      this.container(this.chance(0.01) ? `C_${i}` : `c${i}`),
    );
    if (this.chance(0.02)) containers.push(this.pick([null, 'x', { name: '' }, { name: 'c0' }]));
    const annotations: Record<string, unknown> = {};
    if (this.chance(0.2))
      annotations['flomesh.io/sidecar-injection'] = this.pick(['enabled', 'no', 'TRUE', 'bogus']);
    if (this.chance(0.2)) annotations['flomesh.io/probe-rewrite'] = this.pick(['disabled', 'enabled', 'x']);
    if (this.chance(0.01)) annotations['bad'] = 1;
    const pod: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(this.chance(0.8) ? { name: `p${this.int(0, 999)}` } : { generateName: 'gen-' }),
        ...(this.chance(0.7) ? { labels: { app: 'x' } } : {}),
        ...(Object.keys(annotations).length || this.chance(0.3) ? { annotations } : {}),
      },
      spec: {
        containers,
        ...(this.chance(0.2) ? { initContainers: [{ name: 'setup', image: 'i' }] } : {}),
        ...(this.chance(0.05) ? { hostNetwork: this.pick([true, false]) } : {}),
      },
    };
    if (this.chance(0.01)) return this.pick([null, 'pod', 42, [], { metadata: 'x', spec: {} }]);
    return pod;
  }
}
