/**
 * The controller's stop budget is derived from its Deployment's terminationGracePeriodSeconds: the
 * rendered --shutdown-grace leaves SHUTDOWN_MARGIN_MS of the pod's grace unused, and equals the
 * binary's own default, so a controller started without the flag behaves as the installed one.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import {
  CONTROLLER_APP,
  CONTROLLER_TERMINATION_GRACE_SECONDS,
  DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS,
  SHUTDOWN_MARGIN_MS,
} from '../../../pkg/constants/index.js';
import { defaultInstallParams, renderInstall } from '../../../pkg/deploy/index.js';
import { parseDuration } from '../../../pkg/binary/index.js';

const deployment = renderInstall(defaultInstallParams({ certManager: true })).find(
  (o) => o.kind === 'Deployment' && o.metadata?.name === CONTROLLER_APP,
) as V1Deployment;
const pod = deployment.spec!.template.spec!;
const flag = pod.containers[0]!.args!.find((a) => a.startsWith('--shutdown-grace='));

test('the Deployment sets terminationGracePeriodSeconds and a --shutdown-grace inside it', () => {
  expect(pod.terminationGracePeriodSeconds).toBe(CONTROLLER_TERMINATION_GRACE_SECONDS);
  expect(flag).toBeDefined();
  const budgetMs = parseDuration(flag!.split('=')[1]!);
  expect(budgetMs).toBe(pod.terminationGracePeriodSeconds! * 1000 - SHUTDOWN_MARGIN_MS);
  expect(budgetMs).toBe(DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS);
  expect(SHUTDOWN_MARGIN_MS).toBeGreaterThanOrEqual(1000);
});
