/**
 * Init containers. Loopback mode has no network namespace to set iptables rules in: fsm-init's
 * script is not run; its log says so and lists what it would run (its own script, line by line),
 * and it completes. Namespace mode runs fsm-init for real: its command and args as the injector
 * rendered them, inside the pod's network namespace, with the capabilities its securityContext
 * leaves it (NET_ADMIN, NET_RAW) and no new privileges — so the real iptables-restore installs the
 * real rules; its output is its log, its exit code its result. Any other init container completes
 * at once with a log line saying the sandbox has no container runtime to run its image.
 */
import { spawn } from 'node:child_process';
import type { V1Container } from '@kubernetes/client-node';
import { INIT_CONTAINER_NAME } from '../../constants/index.js';
import { capabilitiesOf, podCommand } from '../netns/index.js';
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

/** True for the init containers namespace mode runs for real (fsm-init). */
export function runsInNamespace(c: V1Container): boolean {
  return c.name === INIT_CONTAINER_NAME;
}

/**
 * Runs an init container's command inside the pod's network namespace; resolves with its exit code
 * (its output goes to its log, which ends with it).
 */
export function runInitInNamespace(
  c: V1Container,
  namespace: string,
  cwd: string,
  log: ContainerLog,
): Promise<number> {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (argv.length === 0) {
    log.write('stderr', `init container ${c.name} has no command to run\n`);
    void log.end();
    return Promise.resolve(128);
  }
  const sc = c.securityContext;
  const caps = capabilitiesOf(sc);
  const [file, ...args] = podCommand(
    {
      namespace,
      ...(sc?.runAsUser !== undefined && sc.runAsUser !== 0 ? { uid: sc.runAsUser } : {}),
      ...(caps ? { capabilities: caps } : {}),
      noNewPrivs: sc?.allowPrivilegeEscalation === false,
    },
    argv,
  );
  return new Promise((resolve) => {
    const child = spawn(file!, args, {
      cwd,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log.stream('stdout'), { end: false });
    child.stderr.pipe(log.stream('stderr'), { end: false });
    child.once('error', (e) => {
      log.write('stderr', `${e.message}\n`);
      void log.end();
      resolve(128);
    });
    child.once('close', (code, signal) => {
      void log.end();
      resolve(code ?? (signal === 'SIGKILL' ? 137 : 128));
    });
  });
}
