/**
 * What is wrong with a configuration, all of it at once: the resource parsers report every problem
 * they find to a collector (field path + message) instead of stopping at the first one, and a
 * refused response is NACKed with all of them listed — bounded, so a huge bad configuration cannot
 * produce a huge NACK.
 */

/** One thing the agent cannot serve: where (resource and field path) and why. */
export interface Problem {
  /** Resource and field, e.g. `Listener "l".filter_chains[0].filters[0]`. */
  path: string;
  /** What is wrong, naming the value. */
  message: string;
}

/** `<path>: <message>`, the form a problem has in a NACK and in logs. */
export function problemText(p: Problem): string {
  return p.path === '' ? p.message : `${p.path}: ${p.message}`;
}

/** Collects problems in the order they are found. */
export class Problems {
  private readonly items: Problem[] = [];

  /** Records a problem. Returns undefined so a parser can `return problems.add(...)`. */
  add(path: string, message: string): undefined {
    this.items.push({ path, message });
    return undefined;
  }

  /** Problems recorded so far (compare two counts to see whether a part of a parse added any). */
  get count(): number {
    return this.items.length;
  }

  list(): Problem[] {
    return this.items.map((p) => ({ ...p }));
  }
}

export interface DetailLimits {
  /** At most this many problems are listed. */
  maxProblems: number;
  /** The whole text, the line naming what was left out included, is at most this long. */
  maxChars: number;
  /** A longer problem line is cut (it may quote a large value). */
  maxProblemChars: number;
}

/** Bounds of a NACK's error_detail message. */
export const NACK_DETAIL_LIMITS: Readonly<DetailLimits> = {
  maxProblems: 20,
  maxChars: 4096,
  maxProblemChars: 512,
};

/** Room kept for the last line: `… and N more problems not listed (M in all)`. */
const OMITTED_LINE_RESERVE = 64;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Problems as one text, one per line in the order found: a single problem reads exactly as
 * `<path>: <message>`. Past the limits, a last line says how many were left out.
 */
export function formatProblems(
  problems: readonly Problem[],
  limits: DetailLimits = NACK_DETAIL_LIMITS,
): string {
  const budget = Math.max(1, limits.maxChars - OMITTED_LINE_RESERVE);
  const lineMax = Math.max(1, Math.min(limits.maxProblemChars, budget));
  const lines: string[] = [];
  let used = 0;
  for (const p of problems) {
    if (lines.length >= limits.maxProblems) break;
    const line = cut(problemText(p), lineMax);
    const cost = line.length + (lines.length > 0 ? 1 : 0);
    if (lines.length > 0 && used + cost > budget) break;
    lines.push(line);
    used += cost;
  }
  const omitted = problems.length - lines.length;
  if (omitted > 0) {
    const s = omitted === 1 ? '' : 's';
    lines.push(`… and ${omitted} more problem${s} not listed (${problems.length} in all)`);
  }
  return cut(lines.join('\n'), limits.maxChars);
}

/** A configuration the agent refuses; `message` lists the problems (bounded), `problems` has them all. */
export class ConfigError extends Error {
  readonly problems: readonly Problem[];

  constructor(message: string, problems?: readonly Problem[]) {
    super(message);
    this.problems = problems ?? [{ path: '', message }];
  }

  /** The error for a non-empty list of problems. */
  static of(problems: readonly Problem[]): ConfigError {
    return new ConfigError(formatProblems(problems), problems);
  }
}
