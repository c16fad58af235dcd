/**
 * Init containers in loopback mode: there is no network namespace to set iptables rules in, so
 * fsm-init's script is not run; its log says so and lists what it would run (its own script, line
 * by line), and it completes. Any other init container completes at once with a log line saying
 * the sandbox has no container runtime to run it in.
 */
import type { V1Container } from '@kubernetes/client-node';
import { INIT_CONTAINER_NAME } from '../../constants/index.js';
import type { ContainerLog } from './logs.js';

export function runInitContainer(c: V1Container, log: ContainerLog): void {
  if (c.name === INIT_CONTAINER_NAME) {
    log.write(
      'stdout',
      'fsm-init: loopback mode (each pod is a 127.0.x.y address, no network namespace): the traffic rules are not applied; they would be:\n',
    );
    const script = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    const lines = (c.args?.at(-1) ?? script).split('\n').filter((l) => l.trim() !== '');
    for (const l of lines) log.write('stdout', `  ${l.trim()}\n`);
  } else {
    log.write(
      'stdout',
      `sandbox: init container ${c.name} (${c.image ?? ''}) completed: no container runtime runs its command\n`,
    );
  }
  void log.end();
}
