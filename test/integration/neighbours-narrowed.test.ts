// Discovery at scale, against the fake apiserver over real HTTPS: each prober watches only
// the nodes its selection depends on (one watch per node, by metadata.name), follows
// cordons, taints, deletions and apiserver restarts, degrades cleanly without node access,
// pages its lists, and survives hostile responses (endless watch lines, huge lists).
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { parseConfig } from '../../src/config.ts';
import type { ProberContext } from '../../src/context.ts';
import type { ProbeMetrics } from '../../src/metrics.ts';
import type { DiscoveryTuning } from '../../src/neighbours/discovery.ts';
import { createNeighbourhood, type Neighbourhood } from '../../src/neighbours/index.ts';
import { nodeHash, ringDistance } from '../../src/neighbours/limit.ts';
import type { Prober } from '../../src/probe/http.ts';
import { neighbourhoodStateText } from '../../src/state.ts';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import { proberContext } from '../../dev/prober-context.ts';
import { eventually as waitFor } from '../support/eventually.ts';

const API_HOST = '127.0.2.1';
const NAMESPACE = 'kube-system';
const SELECTOR = 'app.kubernetes.io/name=kubenurse';
const TUNING: Partial<DiscoveryTuning> = {
  listTimeoutMs: 2000,
  watchTimeoutMs: 2000,
  backoffInitialMs: 50,
  backoffMaxMs: 400,
  reconnectJitterMs: 30,
  relistSpreadMs: 50,
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const eventually = (assertion: () => void | Promise<void>, timeoutMs = 15_000) =>
  waitFor(assertion, timeoutMs, 25);

async function startApi(): Promise<FakeApiServer> {
  const api = await FakeApiServer.start({ host: API_HOST });
  cleanups.push(() => api.close());
  return api;
}

interface Harness {
  readonly mesh: Neighbourhood;
  readonly metrics: ProbeMetrics;
  /** The bearer token only this prober uses: api.traffic(token) is its share. */
  readonly token: string;
}

let tokens = 0;
function startMesh(
  api: FakeApiServer,
  env: Record<string, string> = {},
  tuning: Partial<DiscoveryTuning> = {},
): Harness {
  const token = `prober-token-${++tokens}`;
  const config = parseConfig({
    ...api.inClusterEnv(api.writeServiceAccountDir(NAMESPACE, undefined, token)),
    KUBENURSE_POD_NAME: 'kubenurse-me',
    KUBENURSE_NAMESPACE: NAMESPACE,
    KUBENURSE_NEIGHBOUR_FILTER: SELECTOR,
    KUBENURSE_NEIGHBOUR_LIMIT: '3',
    ...env,
  });
  const prober = {
    probe: (): Promise<{ outcome: CheckOutcome }> =>
      Promise.resolve({ outcome: { status: 'ok', durationMs: 1 } }),
  };
  const ctx: ProberContext = { ...proberContext(config), prober: prober as unknown as Prober };
  const { metrics } = ctx;
  const mesh = createNeighbourhood(ctx, { ...TUNING, ...tuning });
  if (!mesh) throw new Error('neighbourhood should be enabled');
  mesh.start();
  cleanups.push(() => mesh.stop());
  return { mesh, metrics, token };
}

function seed(api: FakeApiServer, nodes: number): void {
  for (let i = 0; i < nodes; i++) {
    api.addNode({ name: `worker-${i}` });
    api.addPod({
      name: i === 0 ? 'kubenurse-me' : `kubenurse-${i}`,
      namespace: NAMESPACE,
      nodeName: `worker-${i}`,
      podIP: `10.1.${i >> 8}.${(i & 255) + 1}`,
    });
  }
}

/** The other nodes in ring order from worker-0 (what kubenurse's selection walks). */
function ringFrom(own: string, nodes: number): string[] {
  return Array.from({ length: nodes }, (_, i) => `worker-${i}`)
    .filter((name) => name !== own)
    .sort((a, b) =>
      ringDistance(nodeHash(own), nodeHash(a)) < ringDistance(nodeHash(own), nodeHash(b)) ? -1 : 1,
    );
}

const checkedNodes = (mesh: Neighbourhood) =>
  mesh
    .checks()
    .map((check) => check.type.replace(/^path_/, ''))
    .sort();
const state = (mesh: Neighbourhood) => neighbourhoodStateText(mesh.view().state);
const sorted = (names: readonly (string | undefined)[]) => [...names].map(String).sort();

/** Nodes watched one by one; 'ALL' for a cluster-wide node watch. */
function watchedNodes(api: FakeApiServer): string[] {
  return api
    .watchQueries('nodes')
    .map((query) => /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? '')?.[1] ?? 'ALL')
    .sort();
}

async function metricValue(metrics: ProbeMetrics, series: string): Promise<number | undefined> {
  const line = (await metrics.render())
    .split('\n')
    .find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('narrowed node watches', () => {
  it('watch only the own node, the chosen ones and the skipped ones between, following cordon, taints, deletion', async () => {
    const api = await startApi();
    seed(api, 40);
    const ring = ringFrom('worker-0', 40);
    const { mesh, token } = startMesh(api);
    const expectChosen = async (chosen: string[], watched: string[]) => {
      await eventually(() => {
        expect(checkedNodes(mesh)).toEqual(sorted(chosen));
        expect(watchedNodes(api)).toEqual(sorted(['worker-0', ...watched]));
        expect(state(mesh)).toBe('ok');
      });
    };
    const [a, b, c, d, e] = ring as [string, string, string, string, string];
    await expectChosen([a, b, c], [a, b, c]);

    // A cordoned candidate is skipped; the next one is watched and chosen; and back.
    api.cordon(b);
    await expectChosen([a, c, d], [a, b, c, d]);
    api.cordon(b, false);
    await expectChosen([a, b, c], [a, b, c]);

    // Node lifecycle: removal by the autoscaler, deletion in progress, node gone.
    api.taint(a, 'ToBeDeletedByClusterAutoscaler');
    await expectChosen([b, c, d], [a, b, c, d]);
    api.markNodeDeleting(b);
    await expectChosen([c, d, e], [a, b, c, d, e]);
    api.deleteNode(a);
    api.deleteNode(b);
    await expectChosen([c, d, e], [a, b, c, d, e]);
    // Their probers leave too: the window shrinks to what is left.
    api.deletePod(NAMESPACE, `kubenurse-${a.slice('worker-'.length)}`);
    api.deletePod(NAMESPACE, `kubenurse-${b.slice('worker-'.length)}`);
    await expectChosen([c, d, e], [c, d, e]);

    // Updates of nodes outside the window reach this prober not at all.
    api.resetTraffic();
    const outside = ring.slice(10);
    for (const name of outside)
      api.updateNode(name, (node) => void ((node.status as Record<string, unknown>).phase = 'x'));
    api.updateNode(c, (node) => void ((node.status as Record<string, unknown>).phase = 'x'));
    await eventually(() => expect(api.traffic(token).watchEvents).toBe(1));
    expect(api.traffic(token).listRequests).toBe(0);
  });

  it('resume after an apiserver restart and re-list after 410 without losing a change', async () => {
    const api = await startApi();
    seed(api, 30);
    const ring = ringFrom('worker-0', 30);
    const { mesh } = startMesh(api);
    const [a, b, c, d] = ring as [string, string, string, string];
    await eventually(() => expect(checkedNodes(mesh)).toEqual(sorted([a, b, c])));
    await eventually(() => expect(watchedNodes(api)).toHaveLength(4));

    await api.close();
    await eventually(() => expect(state(mesh)).toMatch(/stale since/));
    await api.listen();
    api.cordon(a);
    await eventually(() => expect(checkedNodes(mesh)).toEqual(sorted([b, c, d])));
    await eventually(() => expect(state(mesh)).toBe('ok'));

    api.compact();
    api.dropWatches();
    api.cordon(a, false);
    await eventually(() => expect(checkedNodes(mesh)).toEqual(sorted([a, b, c])));
    await eventually(() => expect(watchedNodes(api)).toEqual(sorted(['worker-0', a, b, c])));
  });

  it('use one cluster-wide watch when the window is most of the cluster or past the limit, and single ones again after', async () => {
    const api = await startApi();
    seed(api, 30);
    const ring = ringFrom('worker-0', 30);
    const { mesh } = startMesh(api, {}, { maxNodeWatches: 6 });
    await eventually(() => expect(watchedNodes(api)).toHaveLength(4));
    for (const name of ring.slice(0, 4)) api.cordon(name);
    // Window: own + 4 skipped + 3 chosen = 8 > 6.
    await eventually(() => {
      expect(checkedNodes(mesh)).toEqual(sorted(ring.slice(4, 7)));
      expect(watchedNodes(api)).toEqual(['ALL']);
    });
    for (const name of ring.slice(0, 4)) api.cordon(name, false);
    await eventually(() => {
      expect(checkedNodes(mesh)).toEqual(sorted(ring.slice(0, 3)));
      expect(watchedNodes(api)).toEqual(sorted(['worker-0', ...ring.slice(0, 3)]));
    });

    const cluster = startMesh(api, { KUBENURSE_NEIGHBOUR_NODE_WATCH: 'cluster' }).mesh;
    await eventually(() => {
      expect(checkedNodes(cluster)).toEqual(sorted(ring.slice(0, 3)));
      expect(watchedNodes(api).filter((name) => name === 'ALL')).toHaveLength(1);
    });
  });
});

describe('without access to nodes (403)', () => {
  it('with KUBENURSE_ALLOW_UNSCHEDULABLE=true probes the pods, says ok, and does not retry in a loop', async () => {
    const api = await startApi();
    seed(api, 30);
    api.deny('nodes');
    const ring = ringFrom('worker-0', 30);
    api.cordon(ring[0] as string);
    const { mesh, metrics } = startMesh(api, { KUBENURSE_ALLOW_UNSCHEDULABLE: 'true' });
    await eventually(() => {
      expect(checkedNodes(mesh)).toEqual(sorted(ring.slice(0, 3)));
      expect(state(mesh)).toBe('ok');
    });
    const nodeRequests = () => api.requests.filter((r) => r.path === '/api/v1/nodes').length;
    await eventually(() => expect(nodeRequests()).toBeGreaterThan(0));
    const before = nodeRequests();
    // Many backoff periods (50–400 ms) later: no new attempt.
    await sleep(1500);
    expect(nodeRequests()).toBe(before);
    expect(api.watchCount('nodes')).toBe(0);
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(0);
  });

  it('without it, says what it cannot filter and filters again once nodes are readable', async () => {
    const api = await startApi();
    seed(api, 30);
    api.deny('nodes');
    const ring = ringFrom('worker-0', 30);
    api.cordon(ring[0] as string);
    const { mesh, metrics } = startMesh(api, {}, { forbiddenRetryMs: 500 });
    await eventually(() => {
      expect(checkedNodes(mesh)).toEqual(sorted(ring.slice(0, 3)));
      expect(state(mesh)).toMatch(
        /^neighbour discovery degraded: nodes are not readable \(403 Forbidden\): neighbours on cordoned nodes.*cannot be skipped/,
      );
    });
    // Cordoned nodes go unfiltered: that is worth the stale alarm, unlike with ALLOW_UNSCHEDULABLE.
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(1);
    api.allow('nodes');
    await eventually(() => {
      expect(checkedNodes(mesh)).toEqual(sorted(ring.slice(1, 4)));
      expect(state(mesh)).toBe('ok');
    });
  });
});

/** Writes 64 KiB chunks without a newline until the client goes away. */
function endlessLine(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const write = () => {
    while (!response.destroyed && response.write(chunk));
    if (!response.destroyed) response.once('drain', write);
  };
  response.write('{"type":"ADDED","object":{"metadata":{"name":"');
  write();
}

/** A 200 list of `count` items of `item`, streamed. */
function hugeList(count: number, item: string) {
  return (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[');
    let sent = 0;
    const write = () => {
      while (!response.destroyed && sent < count) {
        const batch = Math.min(1000, count - sent);
        sent += batch;
        const ok = response.write(
          Array.from({ length: batch }, () => item).join(',') + (sent < count ? ',' : ''),
        );
        if (!ok) return void response.once('drain', write);
      }
      if (!response.destroyed) response.end(']}');
    };
    write();
  };
}

describe('hostile apiserver responses', () => {
  it('an endless watch line fails the watch with a clear error and a metric, then re-lists', async () => {
    const api = await startApi();
    seed(api, 5);
    const { mesh, metrics } = startMesh(api, {}, { maxObjectBytes: 1024 * 1024 });
    await eventually(() => expect(state(mesh)).toBe('ok'));
    const podLists = () => api.requests.filter((r) => !r.watch && r.path.endsWith('/pods')).length;
    const listsBefore = podLists();
    api.overrideNext('watch', 'pods', endlessLine);
    api.dropWatches();
    await eventually(() =>
      expect(state(mesh)).toMatch(
        /stale since .*pods: watch pods: watch event larger than 1048576 bytes; re-listing/,
      ),
    );
    expect(
      await metricValue(metrics, 'kubenurse_neighbourhood_discovery_errors_total{resource="pods"}'),
    ).toBeGreaterThan(0);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(podLists()).toBeGreaterThan(listsBefore);
    expect(checkedNodes(mesh)).toHaveLength(3);
  });

  it('a list with more items than the bound, or one item too large, is refused and retried', async () => {
    const api = await startApi();
    seed(api, 5);
    api.overrideNext('list', 'pods', hugeList(200_000, '{}'));
    const { mesh } = startMesh(api, {}, { maxObjects: 10_000, maxObjectBytes: 64 * 1024 });
    await eventually(() =>
      expect(state(mesh)).toMatch(/failed: pods: list pods: list has more than 10000 items/),
    );
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(checkedNodes(mesh)).toHaveLength(3);

    api.overrideNext(
      'list',
      'pods',
      hugeList(
        1,
        JSON.stringify({ metadata: { name: 'big', annotations: { a: 'x'.repeat(100_000) } } }),
      ),
    );
    // A change the prober does not see (another namespace), then compaction: its watch is 410 Gone.
    api.addPod({
      name: 'elsewhere',
      namespace: 'default',
      nodeName: 'worker-1',
      podIP: '10.9.9.9',
    });
    api.compact();
    api.dropWatches();
    await eventually(() =>
      expect(state(mesh)).toMatch(/pods: list pods: list item larger than 65536 bytes/),
    );
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('lists in pages (limit/continue) and gets every item', async () => {
    const api = await startApi();
    seed(api, 9);
    const { mesh } = startMesh(api, { KUBENURSE_NEIGHBOUR_LIMIT: '0' }, { pageSize: 2 });
    await eventually(() => expect(checkedNodes(mesh)).toHaveLength(8));
    const pages = api.requests.filter((r) => !r.watch && r.path.endsWith('/pods'));
    expect(pages.length).toBe(5);
    expect(pages.every((page) => page.query.limit === '2')).toBe(true);
    expect(pages.slice(1).every((page) => page.query.continue)).toBe(true);
  });
});
