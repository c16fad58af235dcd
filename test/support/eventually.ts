/**
 * Polls until `fn` returns something other than undefined, for end-to-end tests whose subject
 * converges asynchronously (informers, pushes, probes). Errors thrown by `fn` count as "not yet"
 * and the last one is reported on timeout. The bound is a test timeout, not a performance claim.
 */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = `: last error: ${String(e)}`;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
