/**
 * Issue 17 item 1: caller input never gets a 500 from the built fsm-injector. Every field position
 * of a realistic AdmissionReview (every key and index, the root, and a new key in every object)
 * is replaced by JSON nested 10,000 deep — arrays, objects and both mixed — or 80 deep (under the
 * injector's nesting limit, so it reaches the shape checks), and sent over HTTPS.
 * Each answer must be a 400 naming the problem or a 200 AdmissionReview (allowed or denied).
 */
import https from 'node:https';
import { admissionReview, realisticPod } from '../../support/injector.js';
import { httpsRequest } from '../../support/injector-client.js';
import { startInjectorBinary, type ServingInjector } from '../../support/injector-binary.js';

const DEPTH = 10_000;
/** Just under the injector's limit wherever it is put: reaches validation, not the depth check. */
const SHALLOW = 80;
const SHAPES: Record<string, string> = {
  arrays: '['.repeat(DEPTH) + ']'.repeat(DEPTH),
  objects: '{"a":'.repeat(DEPTH) + '{}' + '}'.repeat(DEPTH),
  mixed: '[{"a":'.repeat(DEPTH / 2) + '0' + '}]'.repeat(DEPTH / 2),
  [`arrays ${SHALLOW} deep`]: '['.repeat(SHALLOW) + ']'.repeat(SHALLOW),
  [`objects ${SHALLOW} deep`]: '{"a":'.repeat(SHALLOW) + '{}' + '}'.repeat(SHALLOW),
};
const MARK = '"__fsm_deep_value__"';

type Path = (string | number)[];

/** Every path of a JSON value (root first), plus a new key `zz` in every object. */
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
    out.push([...at, 'zz']);
  }
  return out;
}

/** The review's JSON text with the value at `path` replaced by `deep` (raw JSON text). */
function withDeepValue(review: unknown, path: Path, deep: string): string {
  if (path.length === 0) return deep;
  const copy = JSON.parse(JSON.stringify(review)) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = JSON.parse(MARK);
  return JSON.stringify(copy).replace(MARK, deep);
}

const show = (p: Path): string =>
  p.length ? p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('') : '(root)';

describe('fsm-injector binary: deeply nested JSON in every field position (issue 17 item 1)', () => {
  let inj: ServingInjector;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    inj = await startInjectorBinary();
  });
  afterAll(async () => {
    agent.destroy();
    await inj?.stop();
  });

  it('answers 400 or an AdmissionReview, never a 500, and keeps serving', async () => {
    const review = admissionReview(realisticPod(), { uid: 'deep-1' });
    const all = paths(review);
    const outcomes = new Map<string, number>();
    const failures: string[] = [];
    for (const [shape, deep] of Object.entries(SHAPES)) {
      for (const path of all) {
        const r = await httpsRequest({
          port: inj.port,
          ca: inj.ca,
          method: 'POST',
          path: '/mutate-pod-creation',
          headers: { 'content-type': 'application/json' },
          body: withDeepValue(review, path, deep),
          agent,
        });
        let outcome = String(r.status);
        if (r.status === 200) {
          const resp = (JSON.parse(r.body) as { response?: { allowed?: unknown } }).response;
          if (typeof resp?.allowed !== 'boolean')
            failures.push(`${shape} at ${show(path)}: 200 without a review`);
          outcome = resp?.allowed ? '200 allowed' : '200 denied';
        } else if (r.status === 400) {
          if (!/\S/.test(r.body)) failures.push(`${shape} at ${show(path)}: 400 without a reason`);
        } else {
          failures.push(`${shape} at ${show(path)}: ${r.status} ${r.body.trim().slice(0, 120)}`);
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    console.log(
      `deep nesting (${DEPTH} and ${SHALLOW} levels) at ${all.length} positions × ${Object.keys(SHAPES).length} shapes: ` +
        [...outcomes].map(([o, n]) => `${o}: ${n}`).join(', '),
    );
    expect(failures).toEqual([]);
    // Still serving, and still injecting.
    const ok = await httpsRequest({
      port: inj.port,
      ca: inj.ca,
      method: 'POST',
      path: '/mutate-pod-creation',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review),
      agent,
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).response).toMatchObject({
      uid: 'deep-1',
      allowed: true,
      patchType: 'JSONPatch',
    });
    expect(inj.bin.stdout()).not.toMatch(/admission failed/);
  }, 120_000);
});
