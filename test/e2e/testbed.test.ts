// The pure parts of the e2e testbed: what it programs into iptables, the env it gives the
// probers, the queries it sends to Prometheus, and its preflight. Fast, no root needed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRules } from './testbed/cluster.ts';
import { dashboardQueries, ruleExpressions } from './testbed/grafana.ts';
import { PROJECT_ROOT } from './testbed/helpers.ts';
import { renderNginxConf } from './testbed/ingress.ts';
import {
  endpointChain,
  endpointProbability,
  renderKubeProxyRules,
  serviceChain,
} from './testbed/kubeproxy-rules.ts';
import { containerEnv, readDaemonSet, serviceLinkEnv } from './testbed/pod-env.ts';
import type { DaemonSetContainer, PodFacts } from './testbed/pod-env.ts';
import { podResolvConf } from './testbed/dns.ts';
import { preflightProblems } from './testbed/preflight.ts';
import { KUBENURSE_SERVICE, KUBERNETES_SERVICE, clusterServices } from './testbed/topology.ts';

describe('kube-proxy emulation', () => {
  const [kubernetes, dns, dnsTcp, kubenurse] = clusterServices([
    '198.18.1.1',
    '198.18.1.2',
    '198.18.1.3',
  ]);

  it("names chains with kube-proxy's hash (the well-known names of every cluster)", () => {
    expect(serviceChain(kubernetes!)).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(serviceChain(dns!)).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(serviceChain(dnsTcp!)).toBe('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(endpointChain(kubenurse!, { ip: '198.18.1.1', port: 8080 })).toMatch(
      /^KUBE-SEP-[A-Z2-7]{16}$/,
    );
  });

  it('gives each of n endpoints 1/n: probability 1/remaining, the last one unconditional', () => {
    expect([0, 1, 2].map((index) => endpointProbability(index, 3))).toEqual([
      '0.3333333333',
      '0.5000000000',
      undefined,
    ]);
  });

  it('DNATs through KUBE-SVC → KUBE-SEP, REJECTs a Service without endpoints, deletes stale chains', () => {
    const empty = { ...kubenurse!, endpoints: [] };
    const rules = renderKubeProxyRules(
      [kubernetes!, empty],
      ['KUBE-SVC-OLDOLDOLDOLDOLD1', 'KUBE-SERVICES'],
    );
    const [nat, filter] = rules.split('*filter');
    expect(nat).toContain(
      `-A KUBE-SERVICES -d 198.19.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y`,
    );
    expect(nat).toMatch(/-A KUBE-SEP-\w+ .* -j DNAT --to-destination 198\.18\.0\.2:6443/);
    expect(nat).toContain('-X KUBE-SVC-OLDOLDOLDOLDOLD1');
    expect(nat).not.toContain('198.19.0.20');
    expect(filter).toContain(
      '-A KUBE-SERVICES -d 198.19.0.20/32 -p tcp -m comment --comment "kube-nurse/kubenurse:http has no endpoints" -m tcp --dport 8080 -j REJECT',
    );
  });

  it('spreads over every endpoint with statistic rules', () => {
    const rules = renderKubeProxyRules([kubenurse!]);
    expect(rules.match(/-m statistic --mode random --probability/g)).toHaveLength(2);
    expect(rules.match(/-j DNAT --to-destination 198\.18\.1\.\d:8080/g)).toHaveLength(3);
  });
});

describe('the env the kubelet gives the DaemonSet container', () => {
  const pod: PodFacts = {
    podName: 'kubenurse-abcde',
    namespace: 'kube-nurse',
    nodeName: 'node-1',
    hostIp: '198.18.1.1',
    podIp: '198.18.1.1',
    serviceAccountName: 'kubenurse',
  };

  it('docker-link variables of a Service, as kubelet writes them', () => {
    expect(serviceLinkEnv(KUBENURSE_SERVICE)).toEqual({
      KUBENURSE_SERVICE_HOST: '198.19.0.20',
      KUBENURSE_SERVICE_PORT: '8080',
      KUBENURSE_SERVICE_PORT_HTTP: '8080',
      KUBENURSE_PORT: 'tcp://198.19.0.20:8080',
      KUBENURSE_PORT_8080_TCP: 'tcp://198.19.0.20:8080',
      KUBENURSE_PORT_8080_TCP_PROTO: 'tcp',
      KUBENURSE_PORT_8080_TCP_PORT: '8080',
      KUBENURSE_PORT_8080_TCP_ADDR: '198.19.0.20',
    });
  });

  it('resolves the downward API; explicit env wins over service links; KUBERNETES_SERVICE_* always set', () => {
    const container: DaemonSetContainer = {
      env: [
        { name: 'KUBENURSE_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'KUBENURSE_HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'KUBENURSE_SERVICE_PORT', value: '9999' },
        { name: 'GREETING', value: 'on $(KUBENURSE_POD_NAME)' },
      ],
      enableServiceLinks: true,
      serviceAccountName: 'kubenurse',
      podLabels: {},
      dnsOptions: [],
      containerPort: 8080,
    };
    const env = containerEnv(container, pod, KUBERNETES_SERVICE, [KUBENURSE_SERVICE]);
    expect(env).toMatchObject({
      KUBENURSE_POD_NAME: 'kubenurse-abcde',
      KUBENURSE_HOST_IP: '198.18.1.1',
      KUBENURSE_SERVICE_PORT: '9999',
      KUBENURSE_PORT: 'tcp://198.19.0.20:8080',
      KUBERNETES_SERVICE_HOST: '198.19.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      GREETING: 'on kubenurse-abcde',
    });
    expect(
      containerEnv({ ...container, enableServiceLinks: false }, pod, KUBERNETES_SERVICE, [
        KUBENURSE_SERVICE,
      ]).KUBENURSE_PORT,
    ).toBeUndefined();
  });

  it('refuses env sources it does not emulate instead of guessing', () => {
    const container = {
      ...readDaemonSet(join(PROJECT_ROOT, 'examples', 'daemonset.yaml')),
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    };
    expect(() => containerEnv(container, pod, KUBERNETES_SERVICE, [])).toThrow(
      /only emulates value and fieldRef/,
    );
  });

  it('reads examples/daemonset.yaml: labels, dnsConfig and every env entry resolve', () => {
    const daemonSet = readDaemonSet(join(PROJECT_ROOT, 'examples', 'daemonset.yaml'));
    expect(daemonSet.podLabels['app.kubernetes.io/name']).toBe('kubenurse');
    const env = containerEnv(daemonSet, pod, KUBERNETES_SERVICE, [KUBENURSE_SERVICE]);
    for (const entry of daemonSet.env) expect(env[entry.name], entry.name).toBeDefined();
    expect(podResolvConf('198.19.0.10', 'kube-nurse', daemonSet.dnsOptions)).toBe(
      `nameserver 198.19.0.10\nsearch kube-nurse.svc.cluster.local svc.cluster.local cluster.local\noptions ${daemonSet.dnsOptions.join(' ')}\n`,
    );
  });
});

describe('ingress and Prometheus inputs', () => {
  it('an Exact path becomes an exact nginx location; everything else is 404', () => {
    const conf = renderNginxConf('/tmp/x', {
      listen: '198.18.0.80:443',
      host: 'kubenurse.example.com',
      tls: { certPath: '/c', keyPath: '/k' },
      routes: [{ path: '/alwayshappy', pathType: 'Exact', upstream: '198.19.0.20:8080' }],
    });
    expect(conf).toContain('location = /alwayshappy {');
    expect(conf).toContain('proxy_pass http://198.19.0.20:8080;');
    expect(conf).toContain('listen 198.18.0.80:443 ssl;');
    expect(conf).toContain('location / { return 404; }');
  });

  it('every dashboard query has its Grafana variables replaced; every rule has an expression', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    // `$1` in label_replace is a regex group, not a variable.
    for (const query of queries) expect(query.expr, query.title).not.toMatch(/\$[A-Za-z_{]|\[\[/);
    expect(ruleExpressions().get('KubeProxySyncLagging')).toBeDefined();
  });

  it("an alert hold changes only the `for` of the named groups' alerts; an unknown group is refused", () => {
    type Group = { name: string; rules: Record<string, unknown>[] };
    const groups = (yaml: string) => (parse(yaml) as { groups: Group[] }).groups;
    const example = groups(readRules());
    const held = groups(readRules({ groups: ['kubenurse.layers'], for: '10s' }));
    expect(held.map((group) => group.name)).toEqual(example.map((group) => group.name));
    for (const [index, group] of held.entries()) {
      const original = example[index] as Group;
      for (const [ruleIndex, rule] of group.rules.entries()) {
        const before = original.rules[ruleIndex] as Record<string, unknown>;
        const expected =
          group.name === 'kubenurse.layers' && 'alert' in rule ? { ...before, for: '10s' } : before;
        expect(rule).toEqual(expected);
      }
    }
    expect(held.find((group) => group.name === 'kubenurse.layers')?.rules).toContainEqual(
      expect.objectContaining({ alert: 'KubenursePairBroken', for: '10s' }),
    );
    expect(() => readRules({ groups: ['no.such.group'], for: '1s' })).toThrow(/no rule group/);
  });
});

describe('preflight', () => {
  it('lists everything missing in one message', () => {
    const problems = preflightProblems({
      platform: 'linux',
      uid: 1000,
      path: '/nonexistent',
      nodeBinary: '/nonexistent/node',
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/root is required/);
    expect(problems[1]).toMatch(
      /missing tools: openssl, prometheus, ip, iptables, .*dnsmasq, nginx, unshare, hostname \(apt-get install openssl prometheus iproute2 iptables dnsmasq-base nginx util-linux hostname;/,
    );
    expect(problems[2]).toMatch(/run npm ci/);
  });

  it('finds nothing missing on this machine (the suite needs it)', () => {
    expect(preflightProblems()).toEqual([]);
  });
});
