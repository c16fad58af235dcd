/**
 * envoy.config.listener.v3.Listener → ListenerModel: a TCP socket address on the pod's wildcard or
 * loopback address, an optional TLS inspector, and filter chains (matched on transport protocol
 * only) each running exactly one network filter of NETWORK_FILTERS. Listeners that only receive
 * handed-off connections (bind_to_port false, use_original_dst) are accepted without binding.
 */
import { messageNameOf } from '../../../envoy/index.js';
import {
  HTTP_CONNECTION_MANAGER_FILTER,
  TCP_PROXY_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_INSPECTOR_TYPE_URL,
} from '../../../envoy/builders/index.js';
import type { FilterChainModel, ListenerModel } from '../model.js';
import { boolValue, isObj, list, obj, optObj, refuse, show, socketAddress, str, unpack } from './fields.js';
import { NETWORK_FILTERS, filterConfigPath, type NetworkHandler } from './network-filters.js';
import type { Problems } from './problems.js';
import type { ResourceType } from './resource-type.js';
import { parseDownstreamTransportSocket } from './transport-socket.js';

/** Addresses the agent binds on the pod address instead (the pod's wildcard and its loopback). */
export const POD_LOCAL_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '127.0.0.1', '::1']);

type TransportProtocol = FilterChainModel['transportProtocol'];

/** filter_chain_match: transport_protocol only. `ok` false when it is unusable (reported). */
function parseChainMatch(p: Problems, v: unknown, path: string): { ok: boolean; tp: TransportProtocol } {
  const fcm = optObj(p, v, path);
  if (!fcm) return { ok: v === undefined || v === null, tp: undefined };
  const before = p.count;
  for (const [k, val] of Object.entries(fcm)) {
    if (k === 'transport_protocol' || val === undefined || val === null) continue;
    if (Array.isArray(val) && val.length === 0) continue;
    p.add(`${path}.${k}`, `only transport_protocol matching is supported (got ${show(val)})`);
  }
  const tp = str(p, fcm.transport_protocol, `${path}.transport_protocol`, '');
  if (tp !== '' && tp !== 'tls' && tp !== 'raw_buffer') {
    p.add(`${path}.transport_protocol`, `expected tls or raw_buffer, got ${show(tp)}`);
  }
  const usable = tp === 'tls' || tp === 'raw_buffer' ? tp : undefined;
  return { ok: p.count === before, tp: usable };
}

function parseNetworkFilter(p: Problems, v: unknown, fp: string): NetworkHandler | undefined {
  const f = obj(p, v, fp);
  if (!f) return undefined;
  const fname = str(p, f.name, `${fp}.name`, '');
  const tc = optObj(p, f.typed_config, `${fp}.typed_config`);
  if (!tc) {
    if (f.typed_config === undefined || f.typed_config === null) {
      p.add(`${fp}.typed_config`, `missing (filter ${show(f.name)})`);
    }
    return undefined;
  }
  const typeUrl = str(p, tc.type_url, `${fp}.typed_config.type_url`, '');
  const parse = NETWORK_FILTERS.get(typeUrl);
  if (!parse) {
    return p.add(
      fp,
      `unknown network filter ${show(fname)} (${show(messageNameOf(typeUrl))}): only ${HTTP_CONNECTION_MANAGER_FILTER} and ${TCP_PROXY_FILTER} are supported`,
    );
  }
  const cfg = unpack(p, tc, `${fp}.typed_config`);
  return cfg && parse(p, cfg, filterConfigPath(fp, typeUrl));
}

/** A filter chain; `match` is undefined when its filter_chain_match is unusable. */
function parseFilterChain(
  p: Problems,
  v: unknown,
  path: string,
): { chain?: FilterChainModel; match?: { tp: TransportProtocol } } {
  const fc = obj(p, v, path);
  if (!fc) return {};
  const name = str(p, fc.name, `${path}.name`, '');
  refuse(p, fc, ['use_proxy_proto', 'on_demand_configuration'], path);
  const tls = parseDownstreamTransportSocket(p, fc.transport_socket, `${path}.transport_socket`);
  const m = parseChainMatch(p, fc.filter_chain_match, `${path}.filter_chain_match`);
  const match = m.ok ? { tp: m.tp } : undefined;
  const filters = list(p, fc.filters, `${path}.filters`);
  if (!filters) return { match };
  if (filters.length !== 1) {
    p.add(
      `${path}.filters`,
      `expected exactly one network filter (http_connection_manager or tcp_proxy), got ${filters.length}`,
    );
  }
  const handlers = filters.map((f, i) => parseNetworkFilter(p, f, `${path}.filters[${i}]`));
  const handler = handlers[0];
  return { chain: handler && { name, transportProtocol: m.tp, ...(tls ? { tls } : {}), handler }, match };
}

/** listener_filters: the TLS inspector only. True when it is configured. */
function parseListenerFilters(p: Problems, v: unknown, path: string): boolean {
  let tlsInspector = false;
  list(p, v, path)?.forEach((f, i) => {
    const fp = `${path}[${i}]`;
    const fo = obj(p, f, fp);
    if (!fo) return;
    const fname = str(p, fo.name, `${fp}.name`, '');
    const typeUrl = isObj(fo.typed_config)
      ? str(p, fo.typed_config.type_url, `${fp}.typed_config.type_url`, '')
      : '';
    if (typeUrl === TLS_INSPECTOR_TYPE_URL || (typeUrl === '' && fname === TLS_INSPECTOR_FILTER)) {
      tlsInspector = true;
      return;
    }
    p.add(
      fp,
      `unknown listener filter ${show(fname)} (${show(typeUrl || 'no typed_config')}): only the TLS inspector is supported`,
    );
  });
  return tlsInspector;
}

function parseListener(p: Problems, v: unknown): ListenerModel | undefined {
  const l = obj(p, v, 'Listener');
  if (!l) return undefined;
  const name = str(p, l.name, 'Listener.name', '');
  if (!name) p.add('Listener.name', 'must not be empty');
  const path = name ? `Listener ${show(name)}` : 'Listener';
  refuse(p, l, ['additional_addresses', 'udp_listener_config', 'api_listener', 'internal_listener'], path);
  const address = socketAddress(p, l.address, `${path}.address`, true);
  const tlsInspector = parseListenerFilters(p, l.listener_filters, `${path}.listener_filters`);
  const rawChains = list(p, l.filter_chains, `${path}.filter_chains`);
  const chains: FilterChainModel[] = [];
  const seen = new Set<TransportProtocol>();
  rawChains?.forEach((fc, i) => {
    const cp = `${path}.filter_chains[${i}]`;
    const { chain, match } = parseFilterChain(p, fc, cp);
    if (chain) chains.push(chain);
    if (!match) return;
    if (seen.has(match.tp)) {
      p.add(`${cp}.filter_chain_match`, `matches the same connections as an earlier chain`);
    }
    seen.add(match.tp);
  });
  const defaultChain = isObj(l.default_filter_chain)
    ? parseFilterChain(p, l.default_filter_chain, `${path}.default_filter_chain`).chain
    : undefined;
  if (rawChains?.length === 0 && !isObj(l.default_filter_chain)) {
    p.add(`${path}.filter_chains`, 'must not be empty');
  }
  if (!address) return undefined;
  const rdsNames = [...chains, ...(defaultChain ? [defaultChain] : [])].flatMap((c) =>
    c.handler.kind === 'http' && 'rds' in c.handler.routes ? [c.handler.routes.rds] : [],
  );
  const model: ListenerModel = {
    name,
    configuredHost: address.host,
    configuredPort: address.port,
    bind: true,
    tlsInspector,
    chains,
    defaultChain,
    rdsNames,
  };
  if (!boolValue(l.bind_to_port, true)) {
    model.bind = false;
    model.skipReason = 'bind_to_port is false (it only receives connections handed off by another listener)';
  } else if (boolValue(l.use_original_dst, false)) {
    model.bind = false;
    model.captures = true;
    model.skipReason = 'use_original_dst: bound only where the agent learns original destinations';
  } else if (!POD_LOCAL_HOSTS.has(address.host)) {
    p.add(
      `${path}.address.socket_address.address`,
      `the probe agent binds only the pod's wildcard or loopback address, got ${show(address.host)}`,
    );
  } else if (address.port === 0) {
    p.add(`${path}.address.socket_address.port_value`, 'a bound listener needs a port');
  }
  return model;
}

export const LISTENER_RESOURCE: ResourceType<ListenerModel> = {
  kind: 'Listener',
  parse: (message, problems) => parseListener(problems, message),
};
