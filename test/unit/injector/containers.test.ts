import { envoyBootstrap, envoyBootstrapYaml } from '../../../pkg/injector/bootstrap.js';
import { healthcheckContainer, initContainer, sidecarContainer } from '../../../pkg/injector/containers.js';
import { initScript, iptablesRules } from '../../../pkg/injector/iptables.js';
import { parse } from 'yaml';

describe('iptablesRules', () => {
  it('generates the exact rules, with RETURN for 15901-15904 and the proxy ports', () => {
    expect(iptablesRules()).toBe(
      [
        '*nat',
        ':PROXY_INBOUND - [0:0]',
        ':PROXY_IN_REDIRECT - [0:0]',
        ':PROXY_OUTPUT - [0:0]',
        ':PROXY_REDIRECT - [0:0]',
        '-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-port 15003',
        '-A PROXY_REDIRECT -p tcp -j REDIRECT --to-port 15001',
        '-A PREROUTING -p tcp -j PROXY_INBOUND',
        '-A PROXY_INBOUND -p tcp --dport 15901 -j RETURN',
        '-A PROXY_INBOUND -p tcp --dport 15902 -j RETURN',
        '-A PROXY_INBOUND -p tcp --dport 15903 -j RETURN',
        '-A PROXY_INBOUND -p tcp --dport 15904 -j RETURN',
        '-A PROXY_INBOUND -p tcp --dport 15000 -j RETURN',
        '-A PROXY_INBOUND -p tcp --dport 15010 -j RETURN',
        '-A PROXY_INBOUND -p tcp -j PROXY_IN_REDIRECT',
        '-A OUTPUT -p tcp -j PROXY_OUTPUT',
        '-A PROXY_OUTPUT -m owner --uid-owner 1500 -j RETURN',
        '-A PROXY_OUTPUT -d 127.0.0.1/32 -j RETURN',
        '-A PROXY_OUTPUT -j PROXY_REDIRECT',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('honours its options', () => {
    const r = iptablesRules({ inboundPort: 1, outboundPort: 2, proxyUid: 3, inboundBypassPorts: [7] });
    expect(r).toContain('-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-port 1\n');
    expect(r).toContain('-A PROXY_REDIRECT -p tcp -j REDIRECT --to-port 2\n');
    expect(r).toContain('--uid-owner 3 -j RETURN');
    expect(r.match(/--dport/g)).toHaveLength(1);
  });

  it('wraps the rules in a heredoc for iptables-restore --noflush', () => {
    expect(initScript('*nat\nCOMMIT\n')).toBe(
      "iptables-restore --noflush <<'FSM_RULES'\n*nat\nCOMMIT\nFSM_RULES\n",
    );
  });
});

describe('container builders', () => {
  const boot = { proxyUuid: 'u-1', namespace: 'app', serviceAccount: 'sa', fsmNamespace: 'mesh-ns' };

  it('bootstrap: node.id is the proxy UUID, ADS at fsm-controller.<fsm-namespace>.svc:15128', () => {
    const b = envoyBootstrap(boot) as {
      node: { id: string; cluster: string };
      dynamic_resources: { ads_config: { api_type: string; transport_api_version: string } };
      static_resources: { clusters: { load_assignment: unknown }[] };
    };
    expect(b.node.id).toBe('u-1');
    expect(b.node.cluster).toBe('sa.app');
    expect(b.dynamic_resources.ads_config.api_type).toBe('GRPC');
    expect(b.dynamic_resources.ads_config.transport_api_version).toBe('V3');
    expect(JSON.stringify(b.static_resources.clusters[0]!.load_assignment)).toContain(
      '{"address":"fsm-controller.mesh-ns.svc","port_value":15128}',
    );
    // --config-yaml accepts it: the JSON is valid YAML that parses back to the same object.
    expect(parse(envoyBootstrapYaml(boot))).toEqual(b);
    // The cached serialisation is exactly the object's, for every input (including a second call).
    for (const o of [
      boot,
      { ...boot, proxyUuid: 'u-2', namespace: 'n"q' },
      { ...boot, fsmNamespace: 'x', adsPort: 1 },
    ]) {
      expect(envoyBootstrapYaml(o)).toBe(JSON.stringify(envoyBootstrap(o)));
    }
  });

  it('sidecar: Envoy with the inline bootstrap and ports only for probe types in use', () => {
    const c = sidecarContainer({ ...boot, image: 'envoy:x', proxyProbeTypes: ['liveness', 'startup'] });
    expect(c.name).toBe('sidecar');
    expect(c.image).toBe('envoy:x');
    expect(c.command).toEqual(['envoy']);
    expect(c.args![0]).toBe('--config-yaml');
    expect(JSON.parse(c.args![1]!)).toEqual(envoyBootstrap(boot));
    expect(c.ports).toEqual([
      { name: 'liveness-port', containerPort: 15901, protocol: 'TCP' },
      { name: 'startup-port', containerPort: 15903, protocol: 'TCP' },
    ]);
    expect(c.securityContext).toMatchObject({ runAsUser: 1500, runAsNonRoot: true });
    expect(sidecarContainer({ ...boot, image: 'e', proxyProbeTypes: [] }).ports).toEqual([]);
  });

  it('fsm-init: runs the generated rules with NET_ADMIN', () => {
    const c = initContainer('init:1');
    expect(c.name).toBe('fsm-init');
    expect(c.command).toEqual(['/bin/sh', '-c']);
    expect(c.args).toEqual([initScript(iptablesRules())]);
    expect(c.securityContext!.capabilities!.add).toEqual(['NET_ADMIN', 'NET_RAW']);
  });

  it('fsm-healthcheck: allowed ports env, port 15904, small resources, non-root', () => {
    const c = healthcheckContainer('hc:1', [80, 5432]);
    expect(c.name).toBe('fsm-healthcheck');
    expect(c.env).toEqual([{ name: 'FSM_HEALTHCHECK_ALLOWED_PORTS', value: '80,5432' }]);
    expect(c.ports).toEqual([{ name: 'fsm-healthcheck', containerPort: 15904, protocol: 'TCP' }]);
    expect(c.resources!.limits).toEqual({ cpu: '100m', memory: '64Mi' });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      allowPrivilegeEscalation: false,
    });
  });
});
