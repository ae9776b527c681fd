// Discovery at scale, against the fake apiserver over real HTTPS: each prober watches only
// the nodes its selection depends on (one watch per node, by metadata.name), follows
// cordons, taints, deletions and apiserver restarts, degrades cleanly without node access,
// pages its lists, and survives hostile responses (endless watch lines, huge lists).
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { DiscoveryTuning } from '../../src/neighbours/discovery.ts';
import { nodeHash, ringDistance } from '../../src/neighbours/limit.ts';
import type { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import {
  NAMESPACE,
  checkedNodes,
  discoveryHarness,
  forceRelist,
  metricValue,
  seed,
  stateText as state,
} from '../support/discovery-harness.ts';
import { eventually as waitFor } from '../support/eventually.ts';

const TUNING: Partial<DiscoveryTuning> = {
  listTimeoutMs: 2000,
  watchTimeoutMs: 2000,
  backoffInitialMs: 50,
  backoffMaxMs: 400,
  reconnectJitterMs: 30,
  relistSpreadMs: 50,
};
const { startApi, startMesh } = discoveryHarness({
  tuning: TUNING,
  env: { KUBENURSE_NEIGHBOUR_LIMIT: '3' },
});

const eventually = (assertion: () => void | Promise<void>, timeoutMs = 15_000) =>
  waitFor(assertion, timeoutMs, 25);

/** The other nodes in ring order from worker-0 (what kubenurse's selection walks). */
function ringFrom(own: string, nodes: number): string[] {
  return Array.from({ length: nodes }, (_, i) => `worker-${i}`)
    .filter((name) => name !== own)
    .sort((a, b) =>
      ringDistance(nodeHash(own), nodeHash(a)) < ringDistance(nodeHash(own), nodeHash(b)) ? -1 : 1,
    );
}

const sorted = (names: readonly (string | undefined)[]) => [...names].map(String).sort();

/** Nodes watched one by one; 'ALL' for a cluster-wide node watch. */
function watchedNodes(api: FakeApiServer): string[] {
  return api
    .watchQueries('nodes')
    .map((query) => /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? '')?.[1] ?? 'ALL')
    .sort();
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
    await eventually(() => expect(watchedNodes(api)).toEqual(sorted(['worker-0', a, b, c])));

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
    const { mesh } = startMesh(api, {}, { tuning: { maxNodeWatches: 6 } });
    await eventually(() =>
      expect(watchedNodes(api)).toEqual(sorted(['worker-0', ...ring.slice(0, 3)])),
    );
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
    const { mesh, metrics, token } = startMesh(api, { KUBENURSE_ALLOW_UNSCHEDULABLE: 'true' });
    await eventually(() => {
      expect(checkedNodes(mesh)).toEqual(sorted(ring.slice(0, 3)));
      expect(state(mesh)).toBe('ok');
    });
    const sentBy = (who: string) => api.requests.filter((r) => r.token === who);
    const askedNodes = () =>
      sentBy(token)
        .filter((r) => r.path === '/api/v1/nodes')
        .map((r) => r.query.fieldSelector);
    await eventually(() => expect(askedNodes()).not.toEqual([]));

    // The clock: a prober with the same backoff whose token is refused retries in a loop.
    // Once it has retried five times, a loop of ours would have shown too.
    const looping = startMesh(api);
    api.revokeToken(looping.token);
    await eventually(() => expect(sentBy(looping.token).length).toBeGreaterThanOrEqual(6));
    // Each node of the window was asked for at most once (the node watches started together).
    const asked = askedNodes();
    expect(asked).toEqual([...new Set(asked)]);
    for (const fieldSelector of asked)
      expect(['worker-0', ...ring.slice(0, 3)].map((node) => `metadata.name=${node}`)).toContain(
        fieldSelector,
      );
    expect(api.watchCount('nodes')).toBe(0);
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(0);
  });

  it('without it, says what it cannot filter and filters again once nodes are readable', async () => {
    const api = await startApi();
    seed(api, 30);
    api.deny('nodes');
    const ring = ringFrom('worker-0', 30);
    api.cordon(ring[0] as string);
    const { mesh, metrics } = startMesh(api, {}, { tuning: { forbiddenRetryMs: 500 } });
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
    const { mesh, metrics } = startMesh(api, {}, { tuning: { maxObjectBytes: 1024 * 1024 } });
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
    ).toBe(1);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(podLists()).toBe(listsBefore + 1);
    expect(checkedNodes(mesh)).toEqual(sorted(ringFrom('worker-0', 5).slice(0, 3)));
  });

  it('a list with more items than the bound, or one item too large, is refused and retried', async () => {
    const api = await startApi();
    seed(api, 5);
    api.overrideNext('list', 'pods', hugeList(200_000, '{}'));
    const { mesh } = startMesh(
      api,
      {},
      { tuning: { maxObjects: 10_000, maxObjectBytes: 64 * 1024 } },
    );
    await eventually(() =>
      expect(state(mesh)).toMatch(/failed: pods: list pods: list has more than 10000 items/),
    );
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(checkedNodes(mesh)).toEqual(sorted(ringFrom('worker-0', 5).slice(0, 3)));

    api.overrideNext(
      'list',
      'pods',
      hugeList(
        1,
        JSON.stringify({ metadata: { name: 'big', annotations: { a: 'x'.repeat(100_000) } } }),
      ),
    );
    forceRelist(api);
    await eventually(() =>
      expect(state(mesh)).toMatch(/pods: list pods: list item larger than 65536 bytes/),
    );
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('lists in pages (limit/continue) and gets every item', async () => {
    const api = await startApi();
    seed(api, 9);
    const { mesh } = startMesh(
      api,
      { KUBENURSE_NEIGHBOUR_LIMIT: '0' },
      { tuning: { pageSize: 2 } },
    );
    await eventually(() => expect(checkedNodes(mesh)).toEqual(sorted(ringFrom('worker-0', 9))));
    const pages = api.requests.filter((r) => !r.watch && r.path.endsWith('/pods'));
    expect(pages.length).toBe(5);
    expect(pages.every((page) => page.query.limit === '2')).toBe(true);
    expect(pages.slice(1).every((page) => page.query.continue)).toBe(true);
  });
});
