/** Options shared by several command groups, with the validating parsers of pkg/binary. */
import { InvalidArgumentError as InvalidUrl, Option } from 'commander';
import { parseDnsLabel } from '../binary/index.js';
import { DEFAULT_FSM_NAMESPACE, DEFAULT_MESH_NAME } from '../constants/index.js';

/** `--mesh-name <name>` (default fsm); `{ optional: true }`: no default, the command means "every mesh". */
export function meshNameOption(opts: { optional?: boolean } = {}): Option {
  const o = new Option('--mesh-name <name>', 'name of the mesh').argParser(parseDnsLabel);
  return opts.optional ? o : o.default(DEFAULT_MESH_NAME);
}

/** `--fsm-namespace <namespace>`: where the mesh's control plane runs. */
export function fsmNamespaceOption(): Option {
  return new Option('--fsm-namespace <namespace>', 'namespace of the mesh control plane')
    .argParser(parseDnsLabel)
    .default(DEFAULT_FSM_NAMESPACE);
}

/** `-n, --namespace <namespace>` of a pod. */
export function podNamespaceOption(): Option {
  return new Option('-n, --namespace <namespace>', 'namespace of the pod')
    .argParser(parseDnsLabel)
    .default('default');
}

/** `--controller-url <url>`: reach the controller's :9091 directly instead of through the API server. */
export function controllerUrlOption(): Option {
  return new Option(
    '--controller-url <url>',
    "the controller's health/debug address, e.g. http://127.0.0.1:9091 (default: through the API server's service proxy)",
  ).argParser(parseControllerUrl);
}

export function parseControllerUrl(value: string): string {
  let url: URL;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    throw new InvalidUrl('must be an absolute http:// or https:// URL.');
  try {
    url = new URL(value);
  } catch {
    throw new InvalidUrl('must be an absolute http:// or https:// URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidUrl(`must use http or https, not ${url.protocol.replace(/:$/, '')}.`);
  }
  if (url.search !== '' || url.hash !== '') throw new InvalidUrl('must not have a query or fragment.');
  return url.toString().replace(/\/+$/, '');
}
