// End-to-end: the shipped prober (dist/main.js) on an emulated cluster network — network
// namespaces as nodes, iptables kube-proxy rules, dnsmasq as cluster DNS, nginx as ingress,
// the fake apiserver and kube-proxies, a real Prometheus with the example rules. Each scenario
// injects one fault and checks that the right counter moves on the right nodes, in time, and
// that everything recovers. Needs root and the Debian packages of docs/e2e.md; fails (never
// skips) without them. Run alone: npm exec -- vitest run test/e2e
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPreflight } from './testbed/preflight.ts';
import { ensureBuilt } from './testbed/build.ts';
import { Cluster } from './testbed/cluster.ts';
import type { ClusterNode } from './testbed/cluster.ts';
import { deleteServiceRules, partition, slowNode } from './testbed/faults.ts';
import { dashboardQueries, ruleExpressions } from './testbed/grafana.ts';
import {
  everyNode,
  runFaultScenario,
  snapshots,
  waitHealthy,
  waitRounds,
} from './testbed/scenario.ts';
import { waitFor } from './testbed/wait.ts';
import { run } from './testbed/shell.ts';
import { PROBER_PORT } from './testbed/topology.ts';
import { parseGoDuration } from '../../src/duration.ts';
import { UPSTREAM_EXAMPLE_ENV, UPSTREAM_HELM_ENV } from '../conformance/upstream-env.ts';

const NODE_COUNT = 4;
const SCENARIO_TIMEOUT_MS = 90_000;

// One cluster, one scenario at a time: each restores what it broke and starts from a healthy baseline.
describe('end-to-end on an emulated cluster network', { concurrent: false }, () => {
  let cluster: Cluster;
  const node = (index: number): ClusterNode => cluster.nodes[index] as ClusterNode;

  beforeAll(async () => {
    assertPreflight();
    await ensureBuilt();
    cluster = await Cluster.start({ nodeCount: NODE_COUNT });
    await waitHealthy(cluster, { timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('the testbed: Service traffic is spread over every prober by the statistic rules, through cluster DNS', async () => {
    const seen = new Set<string>();
    await waitFor(
      'the kubenurse Service has reached every prober pod',
      20_000,
      async () => {
        const answer = await cluster.agent.get(
          `http://kubenurse.kube-nurse.svc.cluster.local:${PROBER_PORT}/alive`,
          { timeoutMs: 5000 },
        );
        seen.add((JSON.parse(answer.body) as { hostname: string }).hostname);
        return seen.size === NODE_COUNT ? true : `seen ${[...seen].join(', ')}`;
      },
      50,
    );
    expect([...seen].sort()).toEqual(cluster.nodes.map((n) => n.podName).sort());
    // And none of it is reachable from the root namespace: no address, no route of the test ranges.
    const rootAddresses = await run('ip', ['-o', 'addr', 'show']);
    const rootRoutes = await run('ip', ['route', 'show', 'table', 'all']);
    expect(`${rootAddresses}\n${rootRoutes}`).not.toMatch(/198\.1[89]\./);
  });

  it(
    'DNS down: api_server_dns fails at dns_done while api_server_direct stays ok',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      await runFaultScenario(cluster, {
        inject: async () => {
          await cluster.network.dnsmasq?.stop();
          return async () => void cluster.network.startDns();
        },
        // The Service and Ingress URLs are names too: they fail the same way, at resolution.
        must: [
          ...everyNode(cluster, 'api_server_dns', /^dns_done$/),
          ...everyNode(cluster, 'me_service', /^dns_done$/),
          ...everyNode(cluster, 'me_ingress', /^dns_done$/),
        ],
      });
    },
  );

  it(
    "the kubenurse Service's DNAT rules deleted on one node: me_service fails on that node only",
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      await runFaultScenario(cluster, {
        inject: () => deleteServiceRules(node(1), cluster.network.services, 'kubenurse'),
        must: [{ node: node(1).name, type: 'me_service' }],
      });
    },
  );

  it(
    'ingress controller down: me_ingress fails on every node, nothing else',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      await runFaultScenario(cluster, {
        inject: async () => {
          await cluster.network.nginx?.stop();
          return async () => void cluster.network.startIngress();
        },
        must: everyNode(cluster, 'me_ingress', /^connect_done$/),
      });
    },
  );

  it(
    'the kubenurse Service without endpoints (no prober pod ready): REJECTed, me_service and me_ingress fail everywhere',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      await runFaultScenario(cluster, {
        inject: async () => {
          await cluster.setProberEndpoints([]);
          return () => cluster.setProberEndpoints(cluster.nodes);
        },
        // kube-proxy's REJECT answers ICMP port unreachable: refused at once, not a timeout.
        must: [
          ...everyNode(cluster, 'me_service', /^connect_done$/),
          ...everyNode(cluster, 'me_ingress', /^status_code_502$/),
        ],
      });
    },
  );

  it(
    'partition between two nodes: exactly their path_ checks fail, on both sides',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const [a, b] = [node(0), node(1)];
      await runFaultScenario(cluster, {
        inject: () => partition(a, b),
        must: [
          { node: a.name, type: `path_${b.name}` },
          { node: b.name, type: `path_${a.name}` },
          // The example DaemonSet's node paths (docs/layers.md) cross the partition too.
          ...(a.env.KUBENURSE_CHECK_NODE_PATHS === 'true'
            ? [
                { node: a.name, type: `node_${b.name}` },
                { node: b.name, type: `node_${a.name}` },
              ]
            : []),
        ],
        // The Service load-balances over all pods: from a (b), the share of me_service probes that
        // lands on b's (a's) pod crosses the partition too. No other node, no other check.
        may: [
          { node: a.name, type: 'me_service' },
          { node: b.name, type: 'me_service' },
        ],
        // docs/layers.md: both sides blame node_network for the other, the other two checkers of
        // each see it fine, so the real Prometheus holds KubenursePairBroken for exactly this pair.
        during: async () => {
          if (a.env.KUBENURSE_CHECK_NODE_PATHS !== 'true') return;
          const want = [
            `${a.name}>${b.name}:node_network`,
            `${b.name}>${a.name}:node_network`,
          ].sort();
          await waitFor(
            'KubenursePairBroken pending for the cut pair, and only it',
            20_000,
            async () => {
              const { samples } = await cluster.prometheus.query(
                'ALERTS{alertname="KubenursePairBroken"}',
              );
              const got = samples
                .map((x) => `${x.metric.node}>${x.metric.neighbour}:${x.metric.layer}`)
                .sort();
              return JSON.stringify(got) === JSON.stringify(want)
                ? true
                : `ALERTS: [${got.join(', ')}]`;
            },
          );
          const unreachable = await cluster.prometheus.query(
            'ALERTS{alertname=~"KubenurseNode(Unreachable|PodNetworkBroken|IpFamilyBroken)"}',
          );
          expect(unreachable.samples, 'no node-wide layer alert for one pair').toEqual([]);
        },
      });
    },
  );

  it(
    'apiserver answering 500: both apiserver checks count status_code_500',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      await runFaultScenario(cluster, {
        inject: async () => {
          await cluster.apiserver.fail(500);
          return () => cluster.apiserver.heal();
        },
        must: [
          ...everyNode(cluster, 'api_server_direct', /^status_code_500$/),
          ...everyNode(cluster, 'api_server_dns', /^status_code_500$/),
        ],
      });
    },
  );

  it(
    'apiserver hanging: both apiserver checks hit the deadline',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      // Connected, TLS done, request written, no answer: the deadline fires waiting for the response.
      const deadline = /^round_trip_error$/;
      await runFaultScenario(cluster, {
        inject: async () => {
          await cluster.apiserver.hang();
          return () => cluster.apiserver.heal();
        },
        must: [
          ...everyNode(cluster, 'api_server_direct', deadline),
          ...everyNode(cluster, 'api_server_dns', deadline),
        ],
      });
    },
  );

  it(
    'slow neighbour (200 ms): its path_ latency moves up a bucket on every prober, the other paths do not',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const slow = node(2);
      const bucket = (
        snapshot: { value(name: string, labels: Record<string, string>): number },
        type: string,
        le: string,
      ) => snapshot.value('kubenurse_httpclient_request_duration_seconds_bucket', { type, le });
      const count = (
        snapshot: { value(name: string, labels: Record<string, string>): number },
        type: string,
      ) => snapshot.value('kubenurse_httpclient_request_duration_seconds_count', { type });
      let before = new Map<string, Awaited<ReturnType<Cluster['metrics']>>>();
      await runFaultScenario(cluster, {
        inject: async () => {
          const heal = await slowNode(cluster, slow, 200);
          // Probes that started before the redirect are done once a full round has passed.
          await waitRounds(cluster, await snapshots(cluster), 1);
          before = await snapshots(cluster);
          return heal;
        },
        must: [],
        // me_service and me_ingress land on the slow pod now and then: slower, not failed.
        during: async () => {
          await waitRounds(cluster, before, 3);
          const after = await snapshots(cluster);
          for (const prober of cluster.nodes.filter((n) => n !== slow)) {
            const [b, a] = [before.get(prober.name), after.get(prober.name)];
            if (!b || !a) throw new Error(`no metrics from ${prober.name}`);
            const slowType = `path_${slow.name}`;
            const observed = count(a, slowType) - count(b, slowType);
            expect(observed, `${prober.name} ${slowType} observations`).toBeGreaterThanOrEqual(2);
            // The injected delay is a lower bound, so every answer moved past the 0.1 s bucket (on an
            // idle machine into (0.1, 0.25]; a loaded one adds its own latency on top, never less).
            expect(
              bucket(a, slowType, '0.1') - bucket(b, slowType, '0.1'),
              `${prober.name} ${slowType} answers within 0.1 s`,
            ).toBe(0);
            for (const other of cluster.nodes.filter((n) => n !== slow && n !== prober)) {
              const type = `path_${other.name}`;
              const total = count(a, type) - count(b, type);
              expect(total, `${prober.name} ${type} observations`).toBeGreaterThanOrEqual(2);
              // The delay holds back every answer of the slow path, so a single answer within 0.1 s
              // proves this path is not delayed; asking for more would measure the machine's load.
              expect(
                bucket(a, type, '0.1') - bucket(b, type, '0.1'),
                `${prober.name} ${type} answers within 0.1 s`,
              ).toBeGreaterThan(0);
            }
          }
        },
      });
    },
  );

  it(
    'kube-proxy sync hung on one node: the sync lag grows there and the alert expression fires in Prometheus',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const hung = node(3);
      const lagExpr = ruleExpressions().get('KubeProxySyncLagging');
      if (lagExpr === undefined)
        throw new Error('examples/prometheusrule.yaml has no KubeProxySyncLagging alert');
      const lag = async (n: ClusterNode) =>
        (await cluster.metrics(n)).value('kubenurse_kube_proxy_sync_lag_seconds');
      await runFaultScenario(cluster, {
        inject: async () => {
          await hung.kubeProxy.call('hangSync', { stuckForSeconds: 30 });
          return async () => void (await hung.kubeProxy.call('sync'));
        },
        must: [],
        during: async () => {
          const first = await lag(hung);
          await waitFor('the sync lag grows on the hung node', 10_000, async () =>
            (await lag(hung)) > first ? true : `lag stays at ${first}`,
          );
          expect(first).toBeGreaterThan(0);
          for (const other of cluster.nodes.filter((n) => n !== hung))
            expect(await lag(other), `${other.name} lag`).toBeLessThanOrEqual(0);
          await waitFor(
            'the KubeProxySyncLagging expression returns the hung node, and only it',
            15_000,
            async () => {
              const { samples } = await cluster.prometheus.query(lagExpr);
              const nodes = samples.map((sample) => sample.metric.node).sort();
              return nodes.length === 1 && nodes[0] === hung.name
                ? true
                : `result for nodes [${nodes.join(', ')}]`;
            },
          );
        },
      });
      await waitFor('the KubeProxySyncLagging expression is empty again', 15_000, async () => {
        const { samples } = await cluster.prometheus.query(lagExpr);
        return samples.length === 0 ? true : `still ${samples.length} series`;
      });
    },
  );

  it(
    'node cordoned: its prober leaves every neighbour set, its path_ series leave Prometheus, its /ready says 503',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const cordoned = node(1);
      const type = `path_${cordoned.name}`;
      await cluster.apiserver.cordon(cordoned.name);
      try {
        await waitHealthy(cluster, { absent: [cordoned.name] });
        for (const other of cluster.nodes.filter((n) => n !== cordoned)) {
          const alive = await cluster.alive(other);
          expect(Object.keys(alive.last_check_result), `${other.name} checks`).not.toContain(type);
          expect(
            (alive.last_check_result.neighbourhood ?? []).map((entry) => entry.NodeName),
            `${other.name} neighbourhood`,
          ).not.toContain(cordoned.name);
          expect((await cluster.metrics(other)).types(), `${other.name} /metrics`).not.toContain(
            type,
          );
        }
        expect((await cluster.agent.get(cluster.proberUrl(cordoned, '/ready'))).status).toBe(503);
        await waitFor(`Prometheus' latest scrape has no ${type} series`, 15_000, async () => {
          const { samples } = await cluster.prometheus.query(
            `kubenurse_httpclient_requests_total{type="${type}"}`,
          );
          return samples.length === 0 ? true : `${samples.length} series left`;
        });
      } finally {
        await cluster.apiserver.cordon(cordoned.name, false);
      }
      await waitHealthy(cluster);
      await waitFor(`${type} is back in Prometheus`, 15_000, async () => {
        const { samples } = await cluster.prometheus.query(
          `kubenurse_httpclient_requests_total{type="${type}"}`,
        );
        return samples.length === NODE_COUNT - 1 ? true : `${samples.length} series`;
      });
      expect((await cluster.agent.get(cluster.proberUrl(cordoned, '/ready'))).status).toBe(200);
    },
  );

  it(
    'every alert and recording rule expression and every Grafana query parses in Prometheus; every panel has data',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      await waitHealthy(cluster);
      for (const [name, expr] of ruleExpressions()) {
        await cluster.prometheus.query(expr).catch((error: Error) => {
          throw new Error(`rule ${name}: ${error.message}`);
        });
      }
      const panels = dashboardQueries();
      expect(panels.length).toBeGreaterThan(0);
      const empty: string[] = [];
      for (const panel of panels) {
        const { samples } = await cluster.prometheus.query(panel.expr).catch((error: Error) => {
          throw new Error(`panel "${panel.title}": ${error.message}`);
        });
        // Error series exist from a prober's first error on (as in kubenurse): the start-up (no
        // endpoints yet) and the fault scenarios above made them, so the error panels have data too.
        if (samples.length === 0) empty.push(`${panel.title}: ${panel.expr}`);
      }
      expect(empty, 'queries without data in the healthy state').toEqual([]);
    },
  );

  it(
    'SIGTERM: /ready answers 503 for the shutdown duration while the prober still serves, then it exits 0',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const stopping = node(3);
      await waitHealthy(cluster);
      const shutdownMs = parseGoDuration(stopping.env.KUBENURSE_SHUTDOWN_DURATION ?? '5s') ?? 5000;
      const signalledAt = Date.now();
      stopping.prober.signal('SIGTERM');
      await waitFor(
        '/ready answers 503',
        3000,
        async () => {
          const answer = await cluster.agent.tryGet(cluster.proberUrl(stopping, '/ready'), 500);
          return answer?.status === 503 ? true : `status ${answer?.status ?? 'none'}`;
        },
        50,
      );
      // Still serving neighbours and the Service while it drains.
      expect((await cluster.agent.get(cluster.proberUrl(stopping, '/alwayshappy'))).status).toBe(
        200,
      );
      // From then on /ready never says 200 again: 503 until the server closes, then nothing.
      const readyAnswers = new Set<number | 'closed'>();
      const exited = stopping.prober.exited;
      let done = false;
      void exited.then(() => (done = true));
      while (!done && Date.now() - signalledAt < shutdownMs + 10_000) {
        const answer = await cluster.agent.tryGet(cluster.proberUrl(stopping, '/ready'), 500);
        readyAnswers.add(answer?.status ?? 'closed');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect([...readyAnswers].filter((status) => status !== 503 && status !== 'closed')).toEqual(
        [],
      );
      const exit = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000)),
      ]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(
        Date.now() - signalledAt,
        'exited only after the shutdown duration',
      ).toBeGreaterThanOrEqual(shutdownMs);
      // The pod is gone: the kubelet would restart it, here the suite does.
      cluster.restartProber(stopping);
      await waitHealthy(cluster, { timeoutMs: 30_000 });
    },
  );

  // Upstream's manifests, item by item: a prober of ours started with exactly the container
  // env of kubenurse 1.15.3's examples/daemonset.yaml, then of its Helm chart, takes part in
  // the cluster as upstream's would (test/conformance/upstream-env.ts has both environments).
  it.each([
    ['examples/daemonset.yaml', UPSTREAM_EXAMPLE_ENV],
    ['the Helm chart', UPSTREAM_HELM_ENV],
  ])(
    "a prober started with upstream's %s environment: every check ok, /alive and /metrics as upstream's",
    { timeout: SCENARIO_TIMEOUT_MS },
    async (_source, upstreamEnv) => {
      const migrated = node(2);
      const ownEnv = migrated.env;
      await waitHealthy(cluster);
      await migrated.prober.stop();
      migrated.env = cluster.envWith(migrated, upstreamEnv);
      try {
        // Upstream's values, except where the suite's timing overrides apply (interval).
        for (const { name, value } of upstreamEnv)
          expect(migrated.env[name], name).toBe(cluster.overrides[name] ?? value);
        cluster.restartProber(migrated);
        await waitHealthy(cluster, { timeoutMs: 30_000 });
        const alive = await cluster.alive(migrated);
        expect(Object.keys(alive)).toEqual([
          'hostname',
          'headers',
          'user_agent',
          'request_uri',
          'remote_addr',
          'last_check_result',
        ]);
        expect(alive.hostname).toBe(migrated.podName);
        expect(alive.last_check_result.neighbourhood_state).toBe('ok');
        expect(
          (alive.last_check_result.neighbourhood ?? []).map((entry) => entry.NodeName).sort(),
        ).toEqual(cluster.nodes.filter((n) => n !== migrated).map((n) => n.name));
        const types = (await cluster.metrics(migrated)).types();
        for (const type of ['api_server_direct', 'api_server_dns', 'me_ingress', 'me_service'])
          expect(types, type).toContain(type);
        expect((await cluster.agent.get(cluster.proberUrl(migrated, '/'))).status).toBe(301);
      } finally {
        await migrated.prober.stop();
        migrated.env = ownEnv;
        cluster.restartProber(migrated);
        await waitHealthy(cluster, { timeoutMs: 30_000 });
      }
    },
  );
});
