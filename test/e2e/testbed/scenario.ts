// One fault scenario, the same shape every time: healthy baseline → fault → the expected
// errors appear on the expected nodes within interval + timeout (+ slack), and no other error
// counter moves → fault removed → every check is ok again and the counters stand still.
import { parseGoDuration } from '../../../src/duration.ts';
import { CHECK_INTERVAL, CHECK_TIMEOUT, checkResults } from './cluster.ts';
import type { Cluster, ClusterNode } from './cluster.ts';
import { grownErrors } from './metrics-reader.ts';
import type { MetricsSnapshot } from './metrics-reader.ts';
import { waitFor } from './wait.ts';

export const CHECK_INTERVAL_MS = parseGoDuration(CHECK_INTERVAL) as number;
export const CHECK_TIMEOUT_MS = parseGoDuration(CHECK_TIMEOUT) as number;
/** Scheduling, a scrape of /metrics and a loaded CI machine. */
const SLACK_MS = 4000;
export const DETECTION_MS = CHECK_INTERVAL_MS + CHECK_TIMEOUT_MS + SLACK_MS;
const RECOVERY_MS = 20_000;
/** The check every prober runs every round, failing or not: its request counter counts rounds. */
const ROUND_COUNTER_TYPE = 'api_server_direct';

export interface ErrorExpectation {
  readonly node: string;
  readonly type: string;
  /** Default: any event. */
  readonly event?: RegExp;
}

export function checkTypes(
  cluster: Cluster,
  node: ClusterNode,
  absent: readonly string[] = [],
): string[] {
  // The example DaemonSet turns node paths on (docs/layers.md): node_<node> next to path_<node>.
  const nodePaths = node.env.KUBENURSE_CHECK_NODE_PATHS === 'true';
  const neighbours = cluster.nodes
    .filter((other) => other !== node && !absent.includes(other.name))
    .flatMap((other) =>
      nodePaths ? [`path_${other.name}`, `node_${other.name}`] : [`path_${other.name}`],
    );
  // The kube-proxy checks need the node's IP (or explicit URLs); upstream's env has neither.
  const kubeProxy =
    node.env.KUBENURSE_CHECK_KUBE_PROXY !== 'false' &&
    (node.env.KUBENURSE_HOST_IP !== undefined ||
      node.env.KUBENURSE_KUBE_PROXY_METRICS_URL !== undefined);
  return [
    'api_server_direct',
    'api_server_dns',
    'me_ingress',
    'me_service',
    ...(kubeProxy ? ['kube_proxy_metrics', 'kube_proxy_healthz'] : []),
    ...neighbours,
  ];
}

/** Every prober reports every expected check as ok in /alive; `absent` nodes are not expected as neighbours. */
export async function waitHealthy(
  cluster: Cluster,
  { timeoutMs = RECOVERY_MS, absent = [] as readonly string[] } = {},
): Promise<void> {
  await waitFor(
    'every check on every node is ok',
    timeoutMs,
    async () => {
      const problems: string[] = [];
      await Promise.all(
        cluster.nodes.map(async (node) => {
          const results = checkResults(await cluster.alive(node));
          const expected = checkTypes(cluster, node, absent);
          for (const type of expected)
            if (results[type] !== 'ok')
              problems.push(`${node.name} ${type}: ${results[type] ?? 'missing'}`);
          for (const type of Object.keys(results))
            if (!expected.includes(type))
              problems.push(`${node.name} unexpected ${type}: ${results[type]}`);
        }),
      );
      return problems.length === 0 ? true : problems.join('; ');
    },
    500,
  );
}

export async function snapshots(
  cluster: Cluster,
  nodes: readonly ClusterNode[] = cluster.nodes,
): Promise<Map<string, MetricsSnapshot>> {
  const taken = await Promise.all(
    nodes.map(async (node) => [node.name, await cluster.metrics(node)] as const),
  );
  return new Map(taken);
}

/** Until every node in `since` has run `rounds` more rounds (so a fault has had its chance to show). */
export async function waitRounds(
  cluster: Cluster,
  since: Map<string, MetricsSnapshot>,
  rounds: number,
): Promise<void> {
  const nodes = cluster.nodes.filter((node) => since.has(node.name));
  await waitFor(
    `${rounds} more check rounds on every node`,
    rounds * (CHECK_INTERVAL_MS + CHECK_TIMEOUT_MS) + 10_000,
    async () => {
      const now = await snapshots(cluster, nodes);
      const behind = nodes.filter((node) => {
        const count = (snapshot: MetricsSnapshot | undefined) =>
          snapshot?.value('kubenurse_httpclient_requests_total', { type: ROUND_COUNTER_TYPE }) ?? 0;
        return count(now.get(node.name)) - count(since.get(node.name)) < rounds;
      });
      return behind.length === 0 ? true : `behind: ${behind.map((node) => node.name).join(', ')}`;
    },
  );
}

function matches(expectation: ErrorExpectation, node: string, key: string): boolean {
  const [type, event] = key.split(' ') as [string, string];
  return (
    expectation.node === node &&
    expectation.type === type &&
    (expectation.event?.test(event) ?? true)
  );
}

/** "node: type event +n" for every error counter that grew. */
export function describeGrowth(
  before: Map<string, MetricsSnapshot>,
  after: Map<string, MetricsSnapshot>,
): string[] {
  const lines: string[] = [];
  for (const [node, snapshot] of after) {
    const previous = before.get(node);
    if (!previous) continue;
    for (const [key, delta] of grownErrors(previous, snapshot))
      lines.push(`${node}: ${key} +${delta}`);
  }
  return lines.sort();
}

export interface FaultScenario {
  /** Injects the fault; returns its undo. */
  readonly inject: () => Promise<() => Promise<void>>;
  /** Errors that must appear during the fault. */
  readonly must: readonly ErrorExpectation[];
  /** Errors that may appear as a consequence (documented at the scenario); anything else fails. */
  readonly may?: readonly ErrorExpectation[];
  /** Extra assertions while the fault is on, after detection. */
  readonly during?: () => Promise<void>;
  /** Neighbours that are legitimately absent while healthy (cordoned...). */
  readonly absent?: readonly string[];
}

export async function runFaultScenario(cluster: Cluster, scenario: FaultScenario): Promise<void> {
  await waitHealthy(cluster, { absent: scenario.absent ?? [] });
  const before = await snapshots(cluster);
  const heal = await scenario.inject();
  let healed = false;
  try {
    const injectedAt = Date.now();
    await waitFor(
      `the expected errors appear within ${DETECTION_MS} ms`,
      DETECTION_MS,
      async () => {
        const now = await snapshots(cluster);
        const grown = describeGrowth(before, now);
        const missing = scenario.must.filter(
          (expectation) =>
            !grown.some((line) => {
              const [node, key] = line.split(': ') as [string, string];
              return matches(expectation, node, key.replace(/ \+\d+$/, ''));
            }),
        );
        return missing.length === 0
          ? true
          : `missing ${missing.map((m) => `${m.node} ${m.type} ${m.event ?? ''}`).join(', ')}; grown so far: ${grown.join(', ') || 'nothing'}`;
      },
    );
    const detectedAfter = Date.now() - injectedAt;

    // The fault runs on: nothing but the expected errors may move, on any node.
    const allowed = [...scenario.must, ...(scenario.may ?? [])];
    await expectOnlyAllowedErrors(
      cluster,
      before,
      allowed,
      `with the fault on (detected after ${detectedAfter} ms)`,
      await snapshots(cluster),
    );
    await scenario.during?.();

    await heal();
    healed = true;
    await waitHealthy(cluster, { absent: scenario.absent ?? [] });
    await expectOnlyAllowedErrors(cluster, await snapshots(cluster), [], 'after recovery');
  } finally {
    if (!healed) await heal();
  }
}

function unexpectedGrowth(
  from: Map<string, MetricsSnapshot>,
  to: Map<string, MetricsSnapshot>,
  allowed: readonly ErrorExpectation[],
): string[] {
  return describeGrowth(from, to).filter((line) => {
    const [node, key] = line.split(': ') as [string, string];
    return !allowed.some((expectation) => matches(expectation, node, key.replace(/ \+\d+$/, '')));
  });
}

/**
 * From `from` until two rounds after `roundsFrom`, no error outside `allowed` may be counted. A loaded machine
 * (other test files run in parallel) stalls a prober's event loop for a second or more now and
 * then, and every check of that round times out; the faults here are persistent by
 * construction, so a real misattribution fails every round: an unexpected error must not
 * recur in the next three rounds, and a one-off is reported, not failed.
 */
async function expectOnlyAllowedErrors(
  cluster: Cluster,
  from: Map<string, MetricsSnapshot>,
  allowed: readonly ErrorExpectation[],
  when: string,
  roundsFrom: Map<string, MetricsSnapshot> = from,
): Promise<void> {
  await waitRounds(cluster, roundsFrom, 2);
  const first = unexpectedGrowth(from, await snapshots(cluster), allowed);
  if (first.length === 0) return;
  const again = await snapshots(cluster);
  await waitRounds(cluster, again, 3);
  const second = unexpectedGrowth(again, await snapshots(cluster), allowed);
  if (second.length > 0) {
    throw new Error(
      `errors where none were expected, ${when}:\n  ${first.join('\n  ')}\nand again in the next three rounds:\n  ${second.join('\n  ')}`,
    );
  }
  console.warn(
    `e2e: one-off errors ${when}, not repeated in the next three rounds (a stalled prober on a loaded machine):\n  ${first.join('\n  ')}`,
  );
}

export function everyNode(cluster: Cluster, type: string, event?: RegExp): ErrorExpectation[] {
  return cluster.nodes.map((node) => ({ node: node.name, type, ...(event ? { event } : {}) }));
}
