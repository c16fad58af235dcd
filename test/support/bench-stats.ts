/** Latency recording and the one output format of every benchmark: ours, bare baseline, ratio. */

export class Latencies {
  private buf = new Float64Array(1 << 16);
  private n = 0;
  add(ms: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = ms;
  }
  get count(): number {
    return this.n;
  }
  /** p in [0, 100]; nearest-rank on a sorted copy. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const sorted = this.buf.slice(0, this.n).sort();
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return sorted[rank]!;
  }
}

export interface Figure {
  label: string;
  value: number;
  unit: string;
  /** true when a larger value is better (throughput), false for latency/memory. */
  higherIsBetter: boolean;
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** A goal a figure is held to: its wording (e.g. `≤ 3`) and whether this run met it. */
export interface Goal {
  text: string;
  met: boolean;
}

export function goal(text: string, met: boolean): Goal {
  return { text, met };
}

/**
 * Prints one row: our figure, the bare baseline measured in the same run, the ratio ours/bare and,
 * when the figure has one, its goal and whether it was met.
 */
export function printComparison(
  label: string,
  ours: number,
  bare: number,
  unit: string,
  digits = 2,
  target?: Goal,
): void {
  const ratio = bare === 0 ? NaN : ours / bare;
  const g = target ? `  goal ${target.text}: ${target.met ? 'met' : 'MISSED'}` : '';
  console.log(
    `${label.padEnd(34)} ours ${fmt(ours, digits).padStart(10)} ${unit.padEnd(6)} bare ${fmt(bare, digits).padStart(10)} ${unit.padEnd(6)} ratio ${fmt(ratio, 3)}${g}`,
  );
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

/** Anonymous resident memory of a process in MiB (RssAnon: heap and other private pages; file-backed
 * pages such as the node binary's text, which processes of one image share, are not counted). */
export async function rssAnonMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
