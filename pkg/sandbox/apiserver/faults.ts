/**
 * Fault injection for tests: failures armed here are consumed by the next matching requests.
 * The server also exposes these over HTTP (POST /fsm-sandbox/faults) for out-of-process tests.
 */

export type FaultVerb = 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete';

export interface ArmedFault {
  verb: FaultVerb;
  /** Store key (`pods`, `apps/deployments`); undefined = any resource. */
  resource?: string;
  code: number;
  message?: string;
  /** How many requests still fail. */
  remaining: number;
}

export class Faults {
  private armed: ArmedFault[] = [];

  /** The next `count` (default 1) matching requests answer `code` with a Status body. */
  fail(f: { verb: FaultVerb; resource?: string; code: number; message?: string; count?: number }): void {
    this.armed.push({
      verb: f.verb,
      resource: f.resource,
      code: f.code,
      message: f.message,
      remaining: f.count ?? 1,
    });
  }

  /** Consumes one matching fault, if armed. */
  take(verb: FaultVerb, resource: string): ArmedFault | undefined {
    const f = this.armed.find(
      (x) => x.verb === verb && (x.resource === undefined || x.resource === resource),
    );
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) this.armed = this.armed.filter((x) => x !== f);
    return f;
  }

  pending(): readonly ArmedFault[] {
    return this.armed.map((x) => ({ ...x }));
  }

  clear(): void {
    this.armed = [];
  }
}
