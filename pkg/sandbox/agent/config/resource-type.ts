/**
 * What a resource type the agent understands provides (one file per type under config/), and the
 * parse of a whole response of one type: every resource, every problem, duplicate names included.
 */
import { Problems, type Problem } from './problems.js';

export interface ResourceType<M extends { name: string }> {
  /** The resource kind as problem paths name it: 'Listener', 'Cluster', ... */
  readonly kind: string;
  /**
   * One decoded resource → the agent's model. Every problem found goes to `problems`; the model
   * returned (possibly partial, possibly undefined) is only used when the parse added none.
   */
  parse(message: unknown, problems: Problems): M | undefined;
}

/** A parsed response: the models, valid only when `problems` is empty (a response is all or nothing). */
export interface ParsedConfig<M> {
  /** Models of the resources parsed without a problem, in response order. */
  config: M[];
  /** Every problem of every resource, in the order found. */
  problems: Problem[];
}

/** Parses every resource of a response, then checks that names are unique. */
export function parseResources<M extends { name: string }>(
  type: ResourceType<M>,
  messages: readonly unknown[],
): ParsedConfig<M> {
  const problems = new Problems();
  const config: M[] = [];
  const seen = new Set<string>();
  for (const message of messages) {
    const before = problems.count;
    const model = type.parse(message, problems);
    if (!model) continue;
    if (problems.count === before) config.push(model);
    if (seen.has(model.name)) problems.add(`${type.kind} ${JSON.stringify(model.name)}`, 'duplicate name');
    seen.add(model.name);
  }
  return { config, problems: problems.list() };
}
