/**
 * The built fsm-controller for end-to-end tests: free ports (0) on 127.0.0.1, the ports it bound read
 * from its "fsm-controller started" log line.
 */
import { eventually } from './eventually.js';
import { httpRequest } from './net.js';
import { startBinary, type RunningBinary } from './process.js';

export interface StartedControllerBinary {
  bin: RunningBinary;
  adsPort: number;
  healthPort: number;
  /** http://127.0.0.1:<health port> */
  base: string;
}

export async function startControllerBinary(
  kubeconfigPath: string,
  extra: string[] = [],
): Promise<StartedControllerBinary> {
  const bin = startBinary('fsm-controller', [
    '--kubeconfig',
    kubeconfigPath,
    '--ads-port',
    '0',
    '--health-port',
    '0',
    '--bind-address',
    '127.0.0.1',
    ...extra,
  ]);
  const started = await bin.waitForLog(/fsm-controller started/);
  const healthPort = Number(started['healthPort']);
  return { bin, adsPort: Number(started['adsPort']), healthPort, base: `http://127.0.0.1:${healthPort}` };
}

/** Resolves once /health/ready answers 200. */
export function controllerReady(base: string): Promise<true> {
  return eventually('ready', async () =>
    (await httpRequest(`${base}/health/ready`)).status === 200 ? true : undefined,
  );
}
