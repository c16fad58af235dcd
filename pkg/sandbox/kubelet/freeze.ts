/**
 * Pod annotation: the containers whose process to freeze (comma list of names, or `*`): the node
 * agent sends SIGSTOP, so the process answers no probe — its liveness probe times out, kubelet kills
 * and restarts it (with `kubectl logs --previous` showing the frozen one). Applied when the
 * annotation appears or changes; a restarted container runs normally; removing it thaws (SIGCONT).
 *   kubectl annotate pod -n fsm-system <controller-pod> sandbox.flomesh.io/freeze='*'
 */
import { containersNamedBy } from '../workloads/index.js';

export const FREEZE_ANNOTATION = 'sandbox.flomesh.io/freeze';

/** Which of these containers the annotation value names. */
export function frozenContainers(value: string | undefined, containers: readonly string[]): Set<string> {
  return containersNamedBy(value, containers);
}
