// Which layer broke (docs/layers.md), end to end: the shipped prober (dist/main.js) on the
// emulated cluster of testbed/cluster.ts, laid out as the layers need it: every node has node
// addresses (198.18.1.N, fd00:6b6e::1:N) and its prober pod addresses of its own in separate
// ranges (198.18.2.N, fd00:6b6e:0:2::N); pods answer on the pod addresses, the fake kube-proxy's
// /healthz on the node addresses. The probers run with the example DaemonSet's env (node paths
// on) plus KUBENURSE_CHECK_ALL_IP_FAMILIES=true; Prometheus scrapes them and evaluates
// examples/prometheusrule.yaml. One fault at a time, on one layer, one family or one pair: every
// prober that checks the affected node must name the same, right layer in its verdict metric
// (its /metrics and Prometheus) and in /alive, the matching alert must fire in Prometheus and no
// other layer alert may, and all of it must be healthy again once the fault is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './testbed/build.ts';
import { Cluster, type ClusterNode } from './testbed/cluster.ts';
import {
  familyDown,
  nodeDown,
  partition,
  podNetworkDown,
  switchPortDown,
} from './testbed/faults.ts';
import { assertPreflight } from './testbed/preflight.ts';
import { run } from './testbed/shell.ts';
import { waitFor } from './testbed/wait.ts';

/**
 * Four nodes, each checked by the three others (the example's KUBENURSE_NEIGHBOUR_LIMIT is 10):
 * a node-wide alert needs at least half of a node's checkers and at least two; one broken pair
 * is one checker of three, under half.
 */
const NODE_COUNT = 4;
const LAYER_GROUP = 'kubenurse.layers';
const LAYER_ALERTS = [
  'KubenurseNodeUnreachable',
  'KubenurseNodePodNetworkBroken',
  'KubenurseNodeIpFamilyBroken',
  'KubenursePairBroken',
];
const LAYER_ALERTS_SELECTOR = `alertname=~"${LAYER_ALERTS.join('|')}"`;
/**
 * The example alerts wait `for: 5m`; here 10s. Longer than a transition between rounds (the
 * checkers of a node change their verdicts one round apart, and until the last one has, a
 * node-wide fault looks like single pairs for a round or two), so only a verdict that holds fires.
 */
const ALERT_HOLD = '10s';
/** Generous bounds of the waits below; a wait ends as soon as its condition holds. */
const VERDICT_WAIT_MS = 30_000;
const ALERT_WAIT_MS = 45_000;
const SETUP_TIMEOUT_MS = 240_000;
const CASE_TIMEOUT_MS = 180_000;

type Layer = string;
/** "checker>neighbour" → layer. */
type Blame = Map<string, Layer>;

interface FaultCase {
  /** Injects the fault, returns its undo. */
  readonly inject: () => Promise<() => Promise<void>>;
  /** What each prober names during the fault; every pair not listed names "none". */
  readonly blame: readonly (readonly [checker: ClusterNode, neighbour: ClusterNode, Layer])[];
  /**
   * Probers whose pod address the fault cuts: Prometheus cannot scrape them and the test reads
   * them at `via` (an address of their node that still answers) or not at all.
   */
  readonly cutOff?: readonly { readonly node: ClusterNode; readonly via?: string }[];
  /** The layer alerts that must fire, as alertKey() writes them; no other may. */
  readonly alerts: readonly string[];
}

function alertKey(labels: Readonly<Record<string, string | undefined>>): string {
  const parts = ['node', 'neighbour', 'layer']
    .filter((label) => labels[label] !== undefined)
    .map((label) => `${label}=${labels[label]}`);
  return `${labels.alertname}{${parts.join(',')}}`;
}

describe('which layer broke, on a dual-stack cluster with pod addresses apart from node addresses', () => {
  let cluster: Cluster;
  const node = (index: number): ClusterNode => cluster.nodes[index] as ClusterNode;
  const pair = (checker: ClusterNode, neighbour: ClusterNode) =>
    `${checker.name}>${neighbour.name}`;

  beforeAll(async () => {
    assertPreflight();
    await ensureBuilt();
    cluster = await Cluster.start({
      nodeCount: NODE_COUNT,
      addressing: { separatePodAddresses: true, dualStack: true },
      // The opt-in the example DaemonSet leaves commented out, for dual-stack clusters.
      containerEnv: [{ name: 'KUBENURSE_CHECK_ALL_IP_FAMILIES', value: 'true' }],
      alertHold: { groups: [LAYER_GROUP], for: ALERT_HOLD },
    });
    for (const n of cluster.nodes)
      if (n.env.KUBENURSE_CHECK_NODE_PATHS !== 'true')
        throw new Error(`examples/daemonset.yaml no longer turns node paths on (${n.name})`);
    await expectHealthy('every prober names no layer for any neighbour at start');
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.destroy();
  });

  /** Every pair the probers check (each checks every other node): all "none" unless blamed. */
  function expectedBlame(fault?: FaultCase): Blame {
    const blame: Blame = new Map();
    for (const checker of cluster.nodes)
      for (const neighbour of cluster.nodes)
        if (checker !== neighbour) blame.set(pair(checker, neighbour), 'none');
    for (const [checker, neighbour, layer] of fault?.blame ?? [])
      blame.set(pair(checker, neighbour), layer);
    return blame;
  }

  /** What each prober says right now, from its /alive and its /metrics; absent: unreadable. */
  async function readProber(
    checker: ClusterNode,
    via: string | undefined,
  ): Promise<{ alive: Map<string, Layer>; metrics: Map<string, Layer> }> {
    const [alive, metrics] = await Promise.all([
      cluster.alive(checker, via),
      cluster.metrics(checker, via),
    ]);
    const fromAlive = new Map<string, Layer>();
    const verdicts =
      (alive.neighbour_verdicts as Record<string, { layer: string }> | undefined) ?? {};
    for (const [neighbour, { layer }] of Object.entries(verdicts))
      fromAlive.set(`${checker.name}>${neighbour}`, layer);
    const fromMetrics = new Map<string, Layer>();
    for (const sample of metrics.samples('kubenurse_neighbour_verdict')) {
      const labels = Object.fromEntries(sample.labels);
      if (sample.value !== 1) continue;
      const key = `${checker.name}>${labels.neighbour}`;
      // Two layers at once for one neighbour would be a bug: show both.
      fromMetrics.set(
        key,
        fromMetrics.has(key) ? `${fromMetrics.get(key)}+${labels.layer}` : String(labels.layer),
      );
    }
    return { alive: fromAlive, metrics: fromMetrics };
  }

  /** Differences between what `got` says for `checkers` and what `want` expects of them. */
  function compare(
    source: string,
    want: Blame,
    got: ReadonlyMap<string, Layer>,
    checkers: readonly ClusterNode[],
  ): string[] {
    const names = new Set(checkers.map((checker) => checker.name));
    const wrong: string[] = [];
    for (const [key, layer] of want)
      if (names.has(key.split('>')[0] as string) && got.get(key) !== layer)
        wrong.push(`${source} ${key}: ${got.get(key) ?? 'absent'}, want ${layer}`);
    for (const [key, layer] of got)
      if (!want.has(key)) wrong.push(`${source} ${key}: unexpected ${layer}`);
    return wrong;
  }

  /** Until every readable prober, and Prometheus for every scraped one, says `fault`'s verdicts. */
  async function expectVerdicts(what: string, fault?: FaultCase): Promise<void> {
    const want = expectedBlame(fault);
    const cutOff = new Map((fault?.cutOff ?? []).map(({ node: n, via }) => [n, via]));
    const scraped = cluster.nodes.filter((n) => !cutOff.has(n));
    const readable = cluster.nodes.filter((n) => !cutOff.has(n) || cutOff.get(n) !== undefined);
    await waitFor(what, VERDICT_WAIT_MS, async () => {
      const wrong: string[] = [];
      for (const checker of readable) {
        const { alive, metrics } = await readProber(checker, cutOff.get(checker));
        wrong.push(...compare('/alive', want, alive, [checker]));
        wrong.push(...compare('/metrics', want, metrics, [checker]));
      }
      const { samples } = await cluster.prometheus.query('kubenurse_neighbour_verdict == 1');
      const inPrometheus = new Map<string, Layer>();
      for (const { metric } of samples)
        inPrometheus.set(`${metric.node}>${metric.neighbour}`, String(metric.layer));
      wrong.push(...compare('Prometheus', want, inPrometheus, scraped));
      return wrong.length === 0 ? true : wrong.join('; ');
    });
  }

  async function layerAlerts(state: 'firing' | 'any'): Promise<string[]> {
    const selector =
      state === 'any' ? LAYER_ALERTS_SELECTOR : `${LAYER_ALERTS_SELECTOR},alertstate="firing"`;
    const { samples } = await cluster.prometheus.query(`ALERTS{${selector}}`);
    return [...new Set(samples.map(({ metric }) => alertKey(metric)))].sort();
  }

  async function expectHealthy(what: string): Promise<void> {
    await expectVerdicts(what);
    await waitFor(`${what}: no layer alert pending or firing`, ALERT_WAIT_MS, async () => {
      const alerts = await layerAlerts('any');
      return alerts.length === 0 ? true : alerts.join(', ');
    });
  }

  /** The shape of every case: healthy → fault → verdicts → alerts → undo → healthy. */
  async function runCase(fault: FaultCase): Promise<void> {
    await expectHealthy('healthy before the fault');
    const injectedAt = Date.now();
    const undo = await fault.inject();
    try {
      await expectVerdicts('every prober that checks the affected node names the layer', fault);
      const want = [...fault.alerts].sort();
      await waitFor(`exactly ${want.join(', ')} firing`, ALERT_WAIT_MS, async () => {
        const firing = await layerAlerts('firing');
        return JSON.stringify(firing) === JSON.stringify(want)
          ? true
          : `firing: ${firing.join(', ')}`;
      });
      // Not only now: no other layer alert fired at any evaluation since the fault went in.
      const window = Math.floor((Date.now() - injectedAt) / 1000);
      const { samples } = await cluster.prometheus.query(
        `max_over_time(ALERTS{${LAYER_ALERTS_SELECTOR},alertstate="firing"}[${window}s])`,
      );
      const everFiring = [...new Set(samples.map(({ metric }) => alertKey(metric)))].sort();
      expect(everFiring, 'layer alerts that fired during the fault').toEqual(want);
    } finally {
      await undo();
    }
    await expectHealthy('healthy again after the fault is removed');
  }

  it('the network keeps the layers apart: pod peers are reached from pod addresses, node peers from node addresses, in both families', async () => {
    const [a, b] = [node(0), node(1)];
    const source = async (destination: string): Promise<string> => {
      const route = await run('ip', ['-n', a.ns, 'route', 'get', destination]);
      return /\bsrc (\S+)/.exec(route)?.[1] ?? `no src in: ${route}`;
    };
    expect(await source(b.podIp)).toBe(a.podIp);
    expect(await source(b.ip)).toBe(a.ip);
    expect(await source(b.podIpv6 as string)).toBe(a.podIpv6);
    expect(await source(b.ipv6 as string)).toBe(a.ipv6);
    // Every prober checks every other node on both layers and both families, and all answer.
    for (const checker of cluster.nodes) {
      const types = (await cluster.metrics(checker)).types();
      for (const neighbour of cluster.nodes.filter((n) => n !== checker))
        for (const type of ['path_', 'node_'])
          for (const suffix of ['', '_ipv6'])
            expect(types, `${checker.name} checks ${neighbour.name}`).toContain(
              `${type}${neighbour.name}${suffix}`,
            );
    }
  });

  it(
    'CNI only: the pod network of node-2 is down, its node network is up → pod_network, KubenurseNodePodNetworkBroken',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const broken = node(1);
      const others = cluster.nodes.filter((n) => n !== broken);
      await runCase({
        inject: () => podNetworkDown(broken),
        blame: [
          ...others.map((checker) => [checker, broken, 'pod_network'] as const),
          // Its own pod reaches no pod either, every node: it blames everyone (read at its node address).
          ...others.map((neighbour) => [broken, neighbour, 'pod_network'] as const),
        ],
        cutOff: [{ node: broken, via: broken.ip }],
        alerts: [alertKey({ alertname: 'KubenurseNodePodNetworkBroken', neighbour: broken.name })],
      });
    },
  );

  it(
    'node down: node-3 drops everything on its link → node_network, KubenurseNodeUnreachable',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const down = node(2);
      await runCase({
        inject: () => nodeDown(down),
        blame: cluster.nodes
          .filter((n) => n !== down)
          .map((checker) => [checker, down, 'node_network'] as const),
        cutOff: [{ node: down }],
        alerts: [alertKey({ alertname: 'KubenurseNodeUnreachable', neighbour: down.name })],
      });
    },
  );

  it(
    "underlay only: node-4's switch port goes down, the node itself untouched → node_network, KubenurseNodeUnreachable",
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const cut = node(3);
      await runCase({
        inject: () => switchPortDown(cluster.network.fabric.ns, cut),
        blame: cluster.nodes
          .filter((n) => n !== cut)
          .map((checker) => [checker, cut, 'node_network'] as const),
        cutOff: [{ node: cut }],
        alerts: [alertKey({ alertname: 'KubenurseNodeUnreachable', neighbour: cut.name })],
      });
    },
  );

  it(
    'IPv6 only: node-2 drops IPv6 on both layers → ipv6, KubenurseNodeIpFamilyBroken',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const broken = node(1);
      const others = cluster.nodes.filter((n) => n !== broken);
      await runCase({
        inject: () => familyDown(broken, 'ipv6'),
        blame: [
          ...others.map((checker) => [checker, broken, 'ipv6'] as const),
          // Its own IPv6 reaches nobody: it blames IPv6 for everyone (read over IPv4, scraped too).
          ...others.map((neighbour) => [broken, neighbour, 'ipv6'] as const),
        ],
        alerts: [
          alertKey({
            alertname: 'KubenurseNodeIpFamilyBroken',
            neighbour: broken.name,
            layer: 'ipv6',
          }),
        ],
      });
    },
  );

  it(
    'single pair: node-1 and node-3 cannot reach each other, everyone else can → node_network for that pair only, KubenursePairBroken',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const [a, b] = [node(0), node(2)];
      await runCase({
        inject: () => partition(a, b),
        blame: [
          [a, b, 'node_network'],
          [b, a, 'node_network'],
        ],
        alerts: [
          alertKey({
            alertname: 'KubenursePairBroken',
            node: a.name,
            neighbour: b.name,
            layer: 'node_network',
          }),
          alertKey({
            alertname: 'KubenursePairBroken',
            node: b.name,
            neighbour: a.name,
            layer: 'node_network',
          }),
        ],
      });
    },
  );
});
