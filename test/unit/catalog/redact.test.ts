/**
 * The debug view never hands out a probe's header values: an `Authorization: Bearer …` or a Host
 * of an HTTP probe is redacted in the routes and in the Probes view, names kept; fsm's own
 * port headers of tcp/grpc probes stay (they are derived from ports, and `fsm check` shows them).
 */
import { desiredProxy } from '../../../pkg/catalog/index.js';
import { redactProxy } from '../../../pkg/catalog/redact.js';
import { http, injectedPod, tcp } from '../../support/pods.js';

const SECRET = 'Bearer s3cr3t-token';

function proxyWithSecrets() {
  const pod = injectedPod({
    name: 'web',
    namespace: 'shop',
    containers: [
      {
        name: 'app',
        ports: [8080, 9000],
        liveness: http(8080, '/healthz', {
          headers: [
            { name: 'Authorization', value: SECRET },
            { name: 'Host', value: 'internal.example' },
          ],
        }),
        readiness: tcp(9000),
      },
    ],
  });
  const d = desiredProxy(pod);
  if (!d.isProxy) throw new Error(d.reason);
  return d;
}

it('the unredacted config carries the secret (the fixture is meaningful)', () => {
  const text = JSON.stringify(proxyWithSecrets());
  expect(text).toContain(SECRET);
  expect(text).toContain('internal.example');
});

it('redacted: no header value of the probe anywhere, header names kept', () => {
  const r = redactProxy(proxyWithSecrets());
  const text = JSON.stringify(r);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain('s3cr3t');
  expect(text).not.toContain('internal.example');
  const live = r.probes.LivenessProbes[0]!;
  expect(live.httpGet.httpHeaders).toEqual([
    { name: 'Authorization', value: '<redacted>' },
    { name: 'Host', value: '<redacted>' },
  ]);
  expect(live.original.httpGet!.httpHeaders!.map((h) => h.name)).toEqual(['Authorization', 'Host']);
  const route = JSON.stringify(r.resources.listeners.find((l) => l.name === 'liveness_listener'));
  expect(route).toContain('"key":"Authorization","value":"<redacted>"');
  expect(route).toContain('"host_rewrite_literal":"<redacted>"');
});

it('fsm’s own port headers stay; nothing else changes', () => {
  const d = proxyWithSecrets();
  const r = redactProxy(d);
  expect(r.probes.ReadinessProbes).toEqual(d.probes.ReadinessProbes);
  expect(r.probes.ReadinessProbes[0]!.httpGet.httpHeaders).toEqual([
    { name: 'Original-Tcp-Port', value: '9000' },
  ]);
  expect(r.resources.clusters).toEqual(d.resources.clusters);
  expect(r.proxy).toEqual(d.proxy);
  // the input is not modified
  expect(JSON.stringify(d)).toContain(SECRET);
});
