/**
 * A Service of the mesh as the outbound side sees it: its ClusterIP and TCP ports, and per port the
 * ready endpoints of meshed pods (EndpointSlices, discovery.k8s.io/v1), with the SPIFFE IDs a server
 * must present (the service accounts of its meshed endpoint pods). Pure.
 *
 * What is not meshed passes through, unencrypted, as without the mesh (the safe default: a client
 * that reached it before still does):
 * - a headless Service (clusterIP None): clients dial pod IPs directly, never a ClusterIP;
 * - an ExternalName Service, or one without a ClusterIP yet;
 * - a Service whose endpoints are all pods without a sidecar (or not pods at all): they could not
 *   answer mTLS. A Service with some meshed endpoints sends to those only; one with no endpoint at all
 *   stays meshed (an empty load assignment: nothing to connect to, as without the mesh).
 */
import { spiffeId } from '../identity/index.js';

/** The parts of a Service the outbound side reads (structural: client-node's V1Service fits). */
export interface ServiceLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly type?: string;
    readonly clusterIP?: string;
    readonly ports?: readonly {
      readonly name?: string;
      readonly port: number;
      readonly protocol?: string;
    }[];
  };
}

/** The parts of an EndpointSlice the outbound side reads. */
export interface EndpointSliceLike {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly addressType?: string;
  readonly ports?:
    readonly { readonly name?: string; readonly port?: number; readonly protocol?: string }[] | null;
  readonly endpoints?:
    | readonly {
        readonly addresses?: readonly string[];
        readonly conditions?: { readonly ready?: boolean | null } | null;
        readonly targetRef?: {
          readonly kind?: string;
          readonly name?: string;
          readonly namespace?: string;
        } | null;
      }[]
    | null;
}

/** What the outbound side needs to know of an endpoint's pod. */
export interface EndpointPod {
  /** The pod runs fsm's sidecar in a namespace of the mesh. */
  meshed: boolean;
  serviceAccount: string;
}

/** One endpoint as `fsm proxy get config` shows it. */
export interface PeerView {
  address: string;
  /** `<pod>` (the endpoint's targetRef), or absent when the endpoint is not a pod. */
  pod?: string;
  ready: boolean;
  /** SPIFFE ID of a meshed endpoint; absent for an excluded one. */
  identity?: string;
  /** Why an endpoint gets no traffic from the mesh (not a meshed pod). */
  excluded?: string;
}

export interface MeshServicePortView {
  port: number;
  name?: string;
  /** The cluster (and load assignment) name. */
  cluster: string;
  /** Ready endpoints of meshed pods: address and resolved targetPort. */
  endpoints: { address: string; port: number }[];
}

export type MeshServiceView =
  | {
      kind: 'mesh';
      namespace: string;
      name: string;
      clusterIP: string;
      ports: MeshServicePortView[];
      /** SPIFFE IDs the server must present (sorted; empty: no meshed endpoint known yet). */
      identities: string[];
      peers: PeerView[];
    }
  | { kind: 'passthrough'; namespace: string; name: string; reason: string };

export interface MeshServiceOptions {
  trustDomain: string;
  /** The endpoint's pod, or undefined when it is not known (never seen, or gone). */
  pod: (namespace: string, name: string) => EndpointPod | undefined;
  /** The cluster name of a Service port. */
  clusterName: (namespace: string, service: string, port: number) => string;
}

function isTcp(protocol: string | undefined): boolean {
  return (protocol ?? 'TCP') === 'TCP';
}

/** `spiffe://<trust-domain>/ns/<namespace>/sa/`: every identity of a namespace starts with it. */
export function namespaceIdentityPrefix(trustDomain: string, namespace: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/`;
}

export function meshService(
  svc: ServiceLike,
  slices: readonly EndpointSliceLike[],
  o: MeshServiceOptions,
): MeshServiceView {
  const namespace = svc.metadata?.namespace ?? '';
  const name = svc.metadata?.name ?? '';
  const pass = (reason: string): MeshServiceView => ({ kind: 'passthrough', namespace, name, reason });
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return pass('ExternalName Service: a DNS name, no ClusterIP to route');
  const clusterIP = spec.clusterIP ?? '';
  if (clusterIP === 'None') return pass('headless Service: clients dial pod addresses, which pass through');
  if (clusterIP === '') return pass('no ClusterIP');
  const tcpPorts = (spec.ports ?? []).filter((p) => isTcp(p.protocol) && Number.isInteger(p.port));
  if (tcpPorts.length === 0) return pass('no TCP port');

  const peers: PeerView[] = [];
  const identities = new Set<string>();
  let meshedCount = 0;
  /** Per slice: its meshed ready endpoint addresses. */
  const ready: { slice: EndpointSliceLike; addresses: string[] }[] = [];
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const addresses: string[] = [];
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (!address) continue;
      const isReady = ep.conditions?.ready !== false; // unknown (nil) counts as ready, as kube-proxy does
      const ref = ep.targetRef;
      const podName = ref?.kind === 'Pod' ? ref.name : undefined;
      const pod = podName ? o.pod(ref?.namespace || namespace, podName) : undefined;
      const peer: PeerView = { address, ...(podName ? { pod: podName } : {}), ready: isReady };
      if (!podName) peer.excluded = 'not a pod';
      else if (!pod) peer.excluded = 'pod not known to the controller';
      else if (!pod.meshed) peer.excluded = 'pod without an fsm sidecar in the mesh';
      else {
        meshedCount++;
        peer.identity = spiffeId({
          trustDomain: o.trustDomain,
          namespace,
          serviceAccount: pod.serviceAccount,
        });
        identities.add(peer.identity);
        if (isReady) addresses.push(address);
      }
      peers.push(peer);
    }
    ready.push({ slice, addresses });
  }
  if (peers.length > 0 && meshedCount === 0) {
    return pass('no endpoint is a meshed pod (no sidecar to answer mTLS)');
  }
  const ports: MeshServicePortView[] = tcpPorts.map((sp) => {
    const endpoints: { address: string; port: number }[] = [];
    for (const { slice, addresses } of ready) {
      // The slice port of this Service port: same name ('' for a single unnamed port), TCP.
      const target = (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && isTcp(p.protocol));
      if (target?.port === undefined) continue;
      for (const address of addresses) endpoints.push({ address, port: target.port });
    }
    return {
      port: sp.port,
      ...(sp.name ? { name: sp.name } : {}),
      cluster: o.clusterName(namespace, name, sp.port),
      endpoints,
    };
  });
  peers.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { kind: 'mesh', namespace, name, clusterIP, ports, identities: [...identities].sort(), peers };
}
