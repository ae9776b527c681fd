// Neighbour discovery in-process against the fake apiserver over real HTTPS: the selection
// follows pods and nodes, survives dropped watches, 410 Gone, 5xx, hangs and an apiserver
// that is down at start, rereads a rotated token, and rounds never cause API requests.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { aliveNeighbour } from '../../src/alive.ts';
import { parseConfig } from '../../src/config.ts';
import { TOKEN_REFRESH_MS } from '../../src/neighbours/connection.ts';
import { Discovery, type DiscoveryTuning } from '../../src/neighbours/discovery.ts';
import { createNeighbourhood } from '../../src/neighbours/index.ts';
import { nodeHash, selectNeighbours } from '../../src/neighbours/limit.ts';
import type { Prober, ProbeTarget } from '../../src/probe/http.ts';
import type { RequestRecord } from '../../dev/fakes/fake-apiserver.ts';
import { proberContext } from '../../dev/prober-context.ts';
import {
  NAMESPACE,
  PROBER_SELECTOR,
  RecordingProber,
  addWorker,
  checkedNodes,
  discoveryHarness,
  forceRelist,
  metricValue,
  seed,
  stateText as state,
} from '../support/discovery-harness.ts';
import { eventually as waitFor } from '../support/eventually.ts';

const TUNING: Partial<DiscoveryTuning> = {
  listTimeoutMs: 1000,
  watchTimeoutMs: 1500,
  backoffInitialMs: 50,
  backoffMaxMs: 400,
  reconnectJitterMs: 30,
  // The fleet-wide spread of re-lists after 410 (10 s by default) would outlast the waits here.
  relistSpreadMs: 200,
};
const { defer, startApi, startMesh } = discoveryHarness({ tuning: TUNING });

const eventually = (assertion: () => void | Promise<void>, timeoutMs = 10_000) =>
  waitFor(assertion, timeoutMs, 25);

/** A prober context from `env` whose prober only records (for meshes that never probe). */
const recordingContext = (env: Record<string, string>) => ({
  ...proberContext(parseConfig({ KUBENURSE_LOG_LEVEL: 'silent', ...env })),
  prober: new RecordingProber() as unknown as Prober,
});

/** What a request asked for, e.g. "watch /api/v1/nodes". */
const described = (request: RequestRecord) => `${request.watch ? 'watch' : 'list'} ${request.path}`;

describe('neighbour discovery follows the cluster', () => {
  it('discovers the other probers, learns its own node from its pod, and follows adds, deletes, cordons and taints', async () => {
    const api = await startApi();
    seed(api, 4);
    api.addPod({
      name: 'other-app',
      namespace: NAMESPACE,
      nodeName: 'worker-1',
      podIP: '10.9.0.1',
      labels: { app: 'other' },
    });
    api.addPod({
      name: 'kubenurse-elsewhere',
      namespace: 'default',
      nodeName: 'worker-1',
      podIP: '10.9.0.2',
    });
    const { mesh } = startMesh(api, { KUBENURSE_NEIGHBOUR_LIMIT: '0' });

    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(mesh.nodeReady()).toBe(true);
    const neighbourhood = mesh.view().neighbours.map(aliveNeighbour);
    expect(neighbourhood).toContainEqual({
      PodName: 'kubenurse-2',
      PodIP: '10.1.0.3',
      HostIP: '192.168.1.3',
      NodeName: 'worker-2',
      NodeHash: nodeHash('worker-2'),
    });
    expect(neighbourhood.map((n) => n.PodName)).not.toContain('kubenurse-me');

    addWorker(api, 4);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3', 'worker-4']),
    );

    api.deletePod(NAMESPACE, 'kubenurse-1');
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3', 'worker-4']),
    );

    api.cordon('worker-2');
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-3', 'worker-4']));
    api.cordon('worker-2', false);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3', 'worker-4']),
    );

    api.taint('worker-3', 'ToBeDeletedByClusterAutoscaler');
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-4']));
    api.untaint('worker-3', 'ToBeDeletedByClusterAutoscaler');
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3', 'worker-4']),
    );

    api.terminatePod(NAMESPACE, 'kubenurse-4');
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3']));

    api.markNodeDeleting('worker-3');
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-2']));

    api.updatePod(
      NAMESPACE,
      'kubenurse-2',
      (pod) => void ((pod.metadata as Record<string, unknown>).labels = { app: 'renamed' }),
    );
    await eventually(() => expect(checkedNodes(mesh)).toEqual([]));
    expect(mesh.view().neighbours).toEqual([]);
  });

  it('answers 503 on /ready (nodeReady false) while its own node is cordoned, unless unschedulable nodes are allowed', async () => {
    const api = await startApi();
    seed(api, 3);
    const strict = startMesh(api).mesh;
    await eventually(() => expect(checkedNodes(strict)).toEqual(['worker-1', 'worker-2']));

    api.cordon('worker-0');
    api.cordon('worker-1');
    await eventually(() => expect(strict.nodeReady()).toBe(false));
    await eventually(() => expect(checkedNodes(strict)).toEqual(['worker-2']));

    // allowUnschedulable keeps both the cordoned neighbour and our readiness. Started after the
    // cordons, its node lists carry them; its node watches start once those lists are read.
    const lenient = startMesh(api, { KUBENURSE_ALLOW_UNSCHEDULABLE: 'true' });
    const watchesNodes = () =>
      api.requests.some((r) => r.watch && r.path === '/api/v1/nodes' && r.token === lenient.token);
    await eventually(() => {
      expect(watchesNodes()).toBe(true);
      expect(state(lenient.mesh)).toBe('ok');
    });
    expect(lenient.mesh.nodeReady()).toBe(true);
    expect(checkedNodes(lenient.mesh)).toEqual(['worker-1', 'worker-2']);

    api.cordon('worker-0', false);
    await eventually(() => expect(strict.nodeReady()).toBe(true));
  });

  it('uses KUBENURSE_NODE_NAME when given, and reports an unknown own node instead of guessing', async () => {
    const api = await startApi();
    seed(api, 3);
    api.deletePod(NAMESPACE, 'kubenurse-me');
    const named = startMesh(api, {
      KUBENURSE_NODE_NAME: 'worker-0',
      KUBENURSE_NEIGHBOUR_LIMIT: '1',
    }).mesh;
    const unnamed = startMesh(api, { KUBENURSE_NEIGHBOUR_LIMIT: '1' }).mesh;
    const expected = selectNeighbours(
      'worker-0',
      ['worker-1', 'worker-2'].map((nodeName) => ({ nodeName, hash: nodeHash(nodeName) })),
      1,
    ).map((n) => n.nodeName);
    await eventually(() => expect(checkedNodes(named)).toEqual(expected));
    await eventually(() => expect(state(unnamed)).toMatch(/own node unknown: pod kubenurse-me/));
    expect(unnamed.checks()).toEqual([]);

    api.addPod({
      name: 'kubenurse-me',
      namespace: NAMESPACE,
      nodeName: 'worker-0',
      podIP: '10.1.0.1',
    });
    await eventually(() => expect(checkedNodes(unnamed)).toEqual(expected));
    // Node watches start once the own node (and so the ring window) is known.
    await eventually(() => expect(state(unnamed)).toBe('ok'));
  });

  it("applies the neighbour limit with kubenurse's ring and moves the selection when a chosen node leaves", async () => {
    const api = await startApi();
    seed(api, 12);
    const { mesh } = startMesh(api, { KUBENURSE_NEIGHBOUR_LIMIT: '3' });
    const ring = (names: string[]) =>
      selectNeighbours(
        'worker-0',
        names.map((nodeName) => ({ nodeName, hash: nodeHash(nodeName) })),
        3,
      )
        .map((n) => n.nodeName)
        .sort();
    const others = Array.from({ length: 11 }, (_, i) => `worker-${i + 1}`);
    await eventually(() => expect(checkedNodes(mesh)).toEqual(ring(others)));
    expect(mesh.view().neighbours).toHaveLength(11);

    const leaving = ring(others)[0] as string;
    api.deleteNode(leaving);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(ring(others.filter((name) => name !== leaving))),
    );
    expect(checkedNodes(mesh)).not.toContain(leaving);
  });

  it('works outside a cluster from KUBECONFIG', async () => {
    const api = await startApi();
    seed(api, 3);
    const { mesh } = startMesh(api, {}, { kubeconfig: true });
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2']));
  });

  it('with KUBENURSE_NEIGHBOUR_READY_ONLY skips probers that are not Ready', async () => {
    const api = await startApi();
    seed(api, 3);
    api.updatePod(
      NAMESPACE,
      'kubenurse-2',
      (pod) =>
        void ((pod.status as Record<string, unknown>).conditions = [
          { type: 'Ready', status: 'False' },
        ]),
    );
    const readyOnly = startMesh(api, { KUBENURSE_NEIGHBOUR_READY_ONLY: 'true' }).mesh;
    const all = startMesh(api).mesh;
    await eventually(() => expect(checkedNodes(readyOnly)).toEqual(['worker-1']));
    await eventually(() => expect(checkedNodes(all)).toEqual(['worker-1', 'worker-2']));
  });
});

describe('path_ checks', () => {
  it('probe http://<podIP>:<port>/alwayshappy with the origin header, brackets IPv6, and use https on the TLS port with KUBENURSE_USE_TLS', async () => {
    const api = await startApi();
    api.addNode({ name: 'worker-0' });
    api.addNode({ name: 'worker-1' });
    api.addNode({ name: 'worker-6' });
    api.addPod({
      name: 'kubenurse-me',
      namespace: NAMESPACE,
      nodeName: 'worker-0',
      podIP: '10.1.0.1',
    });
    api.addPod({
      name: 'kubenurse-1',
      namespace: NAMESPACE,
      nodeName: 'worker-1',
      podIP: '10.1.0.2',
    });
    api.addPod({
      name: 'kubenurse-6',
      namespace: NAMESPACE,
      nodeName: 'worker-6',
      podIP: 'fd00::6',
    });
    const plain = startMesh(api, { KUBENURSE_PORT: '18080' });
    const tls = startMesh(api, {
      KUBENURSE_USE_TLS: 'true',
      KUBENURSE_CERT_FILE: '/dev/null',
      KUBENURSE_CERT_KEY: '/dev/null',
      KUBENURSE_TLS_PORT: '18443',
    });
    await eventually(() => expect(checkedNodes(plain.mesh)).toEqual(['worker-1', 'worker-6']));
    await eventually(() => expect(checkedNodes(tls.mesh)).toEqual(['worker-1', 'worker-6']));
    const signal = new AbortController().signal;
    for (const check of [...plain.mesh.checks(), ...tls.mesh.checks()])
      expect(await check.run(signal)).toEqual({ status: 'ok', durationMs: 1 });
    const byType = (targets: ProbeTarget[]) => Object.fromEntries(targets.map((t) => [t.type, t]));
    expect(byType(plain.prober.targets)).toEqual({
      'path_worker-1': {
        type: 'path_worker-1',
        url: 'http://10.1.0.2:18080/alwayshappy',
        headers: { 'KUBENURSE-NEIGHBOUR-ORIGIN': 'kubenurse-me' },
      },
      'path_worker-6': {
        type: 'path_worker-6',
        url: 'http://[fd00::6]:18080/alwayshappy',
        headers: { 'KUBENURSE-NEIGHBOUR-ORIGIN': 'kubenurse-me' },
      },
    });
    expect(byType(tls.prober.targets)['path_worker-1']?.url).toBe(
      'https://10.1.0.2:18443/alwayshappy',
    );
    expect(byType(tls.prober.targets)['path_worker-6']?.url).toBe(
      'https://[fd00::6]:18443/alwayshappy',
    );
  });

  it('reach a real neighbour through the real prober, recording its metrics under path_<node>', async () => {
    const seen: (string | undefined)[] = [];
    const neighbour: Server = createServer((request, response) => {
      seen.push(request.headers['kubenurse-neighbour-origin'] as string | undefined);
      response.writeHead(request.url === '/alwayshappy' ? 200 : 404).end();
    });
    await new Promise<void>((resolve) => neighbour.listen(0, '127.0.2.10', resolve));
    defer(() => new Promise((resolve) => neighbour.close(() => resolve())));
    const port = (neighbour.address() as AddressInfo).port;

    const api = await startApi();
    api.addNode({ name: 'worker-0' });
    api.addNode({ name: 'worker-1' });
    api.addPod({
      name: 'kubenurse-me',
      namespace: NAMESPACE,
      nodeName: 'worker-0',
      podIP: '127.0.2.11',
    });
    api.addPod({
      name: 'kubenurse-1',
      namespace: NAMESPACE,
      nodeName: 'worker-1',
      podIP: '127.0.2.10',
    });
    const { mesh, metrics } = startMesh(
      api,
      { KUBENURSE_PORT: String(port) },
      { realProber: true },
    );
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-1']));
    const [check] = mesh.checks();
    expect(await check?.run(new AbortController().signal)).toMatchObject({ status: 'ok' });
    expect(seen).toEqual(['kubenurse-me']);
    expect(await metrics.render()).toMatch(
      /kubenurse_httpclient_requests_total\{type="path_worker-1",code="200"\} 1/,
    );
  });

  it('are served from the caches: repeated rounds make no API request and return the same checks', async () => {
    const api = await startApi();
    seed(api, 5);
    const { mesh } = startMesh(api);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3', 'worker-4']),
    );
    await eventually(() => expect(api.watchCount()).toBe(2));
    const requestsBefore = api.requests.length;
    const first = mesh.checks();
    for (let round = 0; round < 200; round++) {
      expect(mesh.checks()).toBe(first);
      mesh.view();
      mesh.nodeReady();
    }
    // Dropped watches make discovery send its next requests: a request the rounds had caused
    // would have gone out before these re-watches, so the log holds the re-watches and nothing else.
    api.dropWatches();
    await eventually(() => expect(api.watchCount()).toBe(2));
    expect(api.requests.slice(requestsBefore).map(described).sort()).toEqual([
      `watch /api/v1/namespaces/${NAMESPACE}/pods`,
      'watch /api/v1/nodes',
    ]);
  });
});

describe('discovery caches', () => {
  it('treat node updates that change nothing the filters read as no change (no recomputation)', async () => {
    const api = await startApi();
    seed(api, 3);
    const config = parseConfig({
      ...api.inClusterEnv(api.writeServiceAccountDir(NAMESPACE)),
      KUBENURSE_POD_NAME: 'kubenurse-me',
      KUBENURSE_NEIGHBOUR_FILTER: PROBER_SELECTOR,
      KUBENURSE_LOG_LEVEL: 'silent',
    });
    const { logger, metrics } = proberContext(config);
    const discovery = new Discovery({ config, logger, registry: metrics.registry, tuning: TUNING });
    discovery.start();
    defer(() => discovery.stop());
    await eventually(() => expect(discovery.status().kind).toBe('ok'));
    // Both watches are established (itself a status change) once an event came through each:
    // after the lists, changes arrive only by watch.
    api.addPod({ name: 'kubenurse-late', namespace: NAMESPACE, nodeName: 'worker-1' });
    api.cordon('worker-2');
    await eventually(() => {
      expect(discovery.podList().map((pod) => pod.metadata.name)).toContain('kubenurse-late');
      expect(discovery.nodeLookup().get('worker-2')?.spec.unschedulable).toBe(true);
    });
    const before = discovery.generation;

    // A heartbeat-like status change and a label change: nothing the filters read.
    api.updateNode(
      'worker-1',
      (node) =>
        void ((node.status as Record<string, unknown>).conditions = [
          { type: 'Ready', status: 'True', lastHeartbeatTime: new Date().toISOString() },
        ]),
    );
    api.updateNode(
      'worker-1',
      (node) =>
        void ((node.metadata as Record<string, Record<string, string>>).labels!.extra = 'x'),
    );
    // Then one that counts; the stream is ordered, so once it is seen the others were too.
    api.cordon('worker-2', false);
    await eventually(() =>
      expect(discovery.nodeLookup().get('worker-2')?.spec.unschedulable).toBe(false),
    );
    expect(discovery.generation).toBe(before + 1);
  });
});

describe('watch requests', () => {
  it('ask for bookmarks and a server-side timeout, and a bookmark spares the re-list after compaction', async () => {
    const api = await startApi();
    seed(api, 3);
    const { mesh } = startMesh(api);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    await eventually(() => expect(api.watchCount()).toBe(2));
    for (const watch of api.requests.filter((r) => r.watch)) {
      expect(watch.query.allowWatchBookmarks).toBe('true');
      expect(Number(watch.query.timeoutSeconds)).toBeGreaterThanOrEqual(300);
      expect(Number(watch.query.timeoutSeconds)).toBeLessThanOrEqual(600);
      expect(watch.query.resourceVersion).toMatch(/^\d+$/);
    }
    const requestsBefore = api.requests.length;

    // Changes nobody watches (another namespace) move the resourceVersion on; the bookmark tells us.
    for (let i = 0; i < 5; i++)
      api.addPod({
        name: `unrelated-${i}`,
        namespace: 'default',
        nodeName: 'worker-1',
        podIP: '10.9.9.9',
      });
    api.sendBookmarks();
    const bookmarked = api.resourceVersion;
    // The bookmarks are on the streams before their end: each watch has read its bookmark when
    // it resumes, from a resourceVersion the compacted history still serves.
    api.compact();
    api.dropWatches();
    await eventually(() => expect(api.watchCount()).toBe(2));
    const resumed = api.requests.slice(requestsBefore);
    expect(resumed.map(described).sort()).toEqual([
      `watch /api/v1/namespaces/${NAMESPACE}/pods`,
      'watch /api/v1/nodes',
    ]);
    expect(resumed.map((r) => [r.query.resourceVersion, r.status])).toEqual([
      [bookmarked, 200],
      [bookmarked, 200],
    ]);
    expect(state(mesh)).toBe('ok');
  });
});

describe('discovery survives the apiserver', () => {
  it('re-watches after the watches are dropped, cleanly or abruptly', async () => {
    const api = await startApi();
    seed(api, 3);
    const { mesh } = startMesh(api);
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2']));
    await eventually(() => expect(api.watchCount()).toBe(2));

    api.dropWatches();
    addWorker(api, 3);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3']),
    );
    await eventually(() => expect(api.watchCount()).toBe(2));

    api.dropWatches({ abrupt: true });
    api.deletePod(NAMESPACE, 'kubenurse-1');
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3']));
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('re-lists after 410 Gone, as an ERROR event, as an HTTP status, or after the history was compacted', async () => {
    const api = await startApi();
    seed(api, 3);
    const { mesh } = startMesh(api);
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2']));
    await eventually(() => expect(api.watchCount()).toBe(2));
    const lists = () =>
      api.requests.filter((r) => !r.watch && r.path === `/api/v1/namespaces/${NAMESPACE}/pods`)
        .length;
    const listsBefore = lists();

    for (const [index, expire] of [
      () => api.expireNextWatch('event'),
      () => api.expireNextWatch('status'),
      () => api.compact(),
    ].entries()) {
      await eventually(() => expect(api.watchCount()).toBe(2));
      expire();
      api.dropWatches();
      const n = 3 + index;
      addWorker(api, n);
      await eventually(() => expect(checkedNodes(mesh)).toContain(`worker-${n}`));
    }
    expect(lists()).toBeGreaterThan(listsBefore);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(checkedNodes(mesh)).toEqual([
      'worker-1',
      'worker-2',
      'worker-3',
      'worker-4',
      'worker-5',
    ]);
  });

  it('keeps the last known neighbours while the apiserver is down or failing, says so, and catches up afterwards', async () => {
    const api = await startApi();
    seed(api, 4);
    const { mesh, metrics } = startMesh(api);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3']),
    );
    // Nodes are watched once the pods are listed (the pods say which nodes matter).
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(0);

    await api.close();
    await eventually(() =>
      expect(state(mesh)).toMatch(/^neighbour discovery stale since .*ECONNREFUSED/),
    );
    expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(1);
    await eventually(async () =>
      expect(
        await metricValue(
          metrics,
          'kubenurse_neighbourhood_discovery_errors_total{resource="pods"}',
        ),
      ).toBeGreaterThan(0),
    );

    // Changes while it is down arrive once it is back (watch resumes from the last resourceVersion).
    api.deletePod(NAMESPACE, 'kubenurse-1');
    await api.listen();
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3']));
    await eventually(() => expect(state(mesh)).toBe('ok'));
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(0);

    api.fail(500);
    api.dropWatches();
    await eventually(() =>
      expect(state(mesh)).toMatch(/stale since .*(500|Internal Server Error)/),
    );
    expect(checkedNodes(mesh)).toEqual(['worker-2', 'worker-3']);
    api.heal();
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('does not crash when the apiserver is unreachable at start: the state carries the error until it comes up', async () => {
    const api = await startApi();
    seed(api, 3);
    await api.close();
    const { mesh, metrics } = startMesh(api);
    await eventually(() =>
      expect(state(mesh)).toMatch(/^neighbour discovery failed: .*ECONNREFUSED/),
    );
    expect(mesh.checks()).toEqual([]);
    expect(mesh.nodeReady()).toBe(true);
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(1);

    await api.listen();
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2']));
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('reports a hanging apiserver at start as a list timeout, and recovers when it answers again', async () => {
    const api = await startApi();
    seed(api, 3);
    api.hang();
    const { mesh } = startMesh(api);
    await eventually(() =>
      expect(state(mesh)).toMatch(/neighbour discovery failed: .*no answer within 1000 ms/),
    );
    api.heal();
    await eventually(() => expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2']));
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('counts a watch that hangs as a failure and recovers', async () => {
    const api = await startApi();
    seed(api, 3);
    const { mesh, metrics } = startMesh(api);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    api.hang();
    api.dropWatches();
    await eventually(() =>
      expect(state(mesh)).toMatch(/stale since .*watch: no response within the watch timeout/),
    );
    expect(await metricValue(metrics, 'kubenurse_neighbourhood_discovery_stale')).toBe(1);
    api.heal();
    addWorker(api, 3);
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3']),
    );
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('reports a revoked token (401) and a missing configuration as the neighbourhood state', async () => {
    const api = await startApi();
    seed(api, 2);
    const { mesh, token } = startMesh(api);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    api.revokeToken(token);
    api.dropWatches();
    await eventually(() => expect(state(mesh)).toMatch(/stale since .*(401|Unauthorized)/));

    const unconfigured = createNeighbourhood(
      recordingContext({ KUBENURSE_POD_NAME: 'x', KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent' }),
    );
    if (!unconfigured) throw new Error('neighbourhood should be enabled');
    unconfigured.start();
    defer(() => unconfigured.stop());
    expect(state(unconfigured)).toMatch(/not running: no Kubernetes API configured/);
    expect(unconfigured.checks()).toEqual([]);
  });

  it('is off when KUBENURSE_CHECK_NEIGHBOURHOOD=false', () => {
    expect(
      createNeighbourhood(recordingContext({ KUBENURSE_CHECK_NEIGHBOURHOOD: 'false' })),
    ).toBeUndefined();
  });
});

describe('the service-account token', () => {
  it('is read again once older than the refresh period: the next list and watch present the rotated token', async () => {
    // Only Date is faked (and keeps running): the token's age is read from Date.now().
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    defer(async () => void vi.useRealTimers());
    const api = await startApi();
    seed(api, 3);
    const { mesh, token, serviceAccountDir } = startMesh(api);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    await eventually(() => expect(api.watchCount()).toBe(2));

    // The kubelet rotates the projected token: the file changes, the old token stays valid
    // until it expires.
    api.addToken('rotated-token');
    writeFileSync(join(serviceAccountDir, 'token'), 'rotated-token');
    // Within the refresh period the token read at start is still the one presented.
    let since = api.requests.length;
    api.dropWatches();
    await eventually(() => expect(api.watchCount()).toBe(2));
    expect(api.requests.slice(since).map((r) => [described(r), r.token])).toEqual(
      expect.arrayContaining([
        ['watch /api/v1/nodes', token],
        [`watch /api/v1/namespaces/${NAMESPACE}/pods`, token],
      ]),
    );
    expect(api.requests.slice(since)).toHaveLength(2);

    // Past it, the next requests (re-lists and watches) read the file again.
    vi.setSystemTime(Date.now() + TOKEN_REFRESH_MS);
    since = api.requests.length;
    forceRelist(api);
    await eventually(() => {
      expect(api.watchCount()).toBe(2);
      expect(
        api.requests
          .slice(since)
          .filter((r) => !r.watch)
          .map(described)
          .sort(),
      ).toEqual([`list /api/v1/namespaces/${NAMESPACE}/pods`, 'list /api/v1/nodes']);
    });
    expect(new Set(api.requests.slice(since).map((r) => r.token))).toEqual(
      new Set(['rotated-token']),
    );
    expect(state(mesh)).toBe('ok');
  });
});
