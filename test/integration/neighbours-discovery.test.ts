// Neighbour discovery in-process against the fake apiserver over real HTTPS: the selection
// follows pods and nodes, survives dropped watches, 410 Gone, 5xx, hangs and an apiserver
// that is down at start, and rounds never cause API requests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { parseConfig } from '../../src/config.ts';
import type { ProberContext } from '../../src/context.ts';
import { createLogger } from '../../src/log.ts';
import { ProbeMetrics } from '../../src/metrics.ts';
import { createNeighbourhood, type Neighbourhood } from '../../src/neighbours/index.ts';
import { Discovery, type DiscoveryTuning } from '../../src/neighbours/discovery.ts';
import { nodeHash, selectNeighbours } from '../../src/neighbours/limit.ts';
import { Prober, type ProbeTarget } from '../../src/probe/http.ts';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import { proberContext } from '../../dev/prober-context.ts';
import { aliveNeighbour } from '../../src/alive.ts';
import { neighbourhoodStateText } from '../../src/state.ts';
import { eventually as waitFor } from '../support/eventually.ts';

const API_HOST = '127.0.2.1';
const NAMESPACE = 'kube-system';
const SELECTOR = 'app.kubernetes.io/name=kubenurse';
const TUNING: Partial<DiscoveryTuning> = {
  listTimeoutMs: 1000,
  watchTimeoutMs: 1500,
  backoffInitialMs: 50,
  backoffMaxMs: 400,
  reconnectJitterMs: 30,
  // The fleet-wide spread of re-lists after 410 (10 s by default) would outlast the waits here.
  relistSpreadMs: 200,
};

class RecordingProber {
  readonly targets: ProbeTarget[] = [];

  async probe(target: ProbeTarget): Promise<{ outcome: CheckOutcome }> {
    this.targets.push(target);
    return { outcome: { status: 'ok', durationMs: 1 } };
  }
}

interface Harness {
  readonly api: FakeApiServer;
  readonly mesh: Neighbourhood;
  readonly metrics: ProbeMetrics;
  readonly prober: RecordingProber;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startApi(): Promise<FakeApiServer> {
  const api = await FakeApiServer.start({ host: API_HOST });
  cleanups.push(() => api.close());
  return api;
}

function startMesh(
  api: FakeApiServer,
  env: Record<string, string> = {},
  options: { kubeconfig?: boolean; prober?: unknown } = {},
): Harness {
  const connection = options.kubeconfig
    ? { KUBECONFIG: api.writeKubeconfig() }
    : api.inClusterEnv(api.writeServiceAccountDir(NAMESPACE));
  const config = parseConfig({
    ...connection,
    KUBENURSE_POD_NAME: 'kubenurse-me',
    KUBENURSE_NAMESPACE: NAMESPACE,
    KUBENURSE_NEIGHBOUR_FILTER: SELECTOR,
    KUBENURSE_LOG_LEVEL: 'silent',
    ...env,
  });
  const prober = new RecordingProber();
  const ctx: ProberContext = {
    ...proberContext(config),
    prober: (options.prober ?? prober) as Prober,
  };
  const { metrics } = ctx;
  const mesh = createNeighbourhood(ctx, TUNING);
  if (!mesh) throw new Error('neighbourhood should be enabled');
  mesh.start();
  cleanups.push(() => mesh.stop());
  return { api, mesh, metrics, prober };
}

const eventually = (assertion: () => void | Promise<void>, timeoutMs = 10_000) =>
  waitFor(assertion, timeoutMs, 25);

const checkedNodes = (mesh: Neighbourhood) =>
  mesh
    .checks()
    .map((check) => check.type.replace(/^path_/, ''))
    .sort();
const state = (mesh: Neighbourhood) => neighbourhoodStateText(mesh.view().state);

async function metricValue(metrics: ProbeMetrics, series: string): Promise<number | undefined> {
  const line = (await metrics.render())
    .split('\n')
    .find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** A small cluster: one prober pod per node, ours on worker-0. */
function seed(api: FakeApiServer, nodes: number): void {
  for (let i = 0; i < nodes; i++) {
    api.addNode({ name: `worker-${i}` });
    api.addPod({
      name: i === 0 ? 'kubenurse-me' : `kubenurse-${i}`,
      namespace: NAMESPACE,
      nodeName: `worker-${i}`,
      podIP: `10.1.0.${i + 1}`,
      hostIP: `192.168.1.${i + 1}`,
    });
  }
}

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

    api.addNode({ name: 'worker-4' });
    api.addPod({
      name: 'kubenurse-4',
      namespace: NAMESPACE,
      nodeName: 'worker-4',
      podIP: '10.1.0.5',
    });
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
    const lenient = startMesh(api, { KUBENURSE_ALLOW_UNSCHEDULABLE: 'true' }).mesh;
    await eventually(() => expect(checkedNodes(strict)).toEqual(['worker-1', 'worker-2']));
    await eventually(() => expect(checkedNodes(lenient)).toEqual(['worker-1', 'worker-2']));

    api.cordon('worker-0');
    api.cordon('worker-1');
    await eventually(() => expect(strict.nodeReady()).toBe(false));
    await eventually(() => expect(checkedNodes(strict)).toEqual(['worker-2']));
    // allowUnschedulable keeps both the cordoned neighbour and our readiness.
    // Both informers watch the same stream; give the lenient one a moment to see the cordon too.
    await sleep(300);
    expect(lenient.nodeReady()).toBe(true);
    expect(checkedNodes(lenient)).toEqual(['worker-1', 'worker-2']);

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
    await eventually(() => expect(plain.mesh.checks()).toHaveLength(2));
    await eventually(() => expect(tls.mesh.checks()).toHaveLength(2));
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
    cleanups.push(() => new Promise((resolve) => neighbour.close(() => resolve())));
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
    const metrics = new ProbeMetrics({
      buckets: [0.1, 1],
      legacyMetrics: false,
      incomingChecks: () => 0,
    });
    const prober = new Prober({
      metrics,
      trust: { ca: [], insecure: false },
      timeoutMs: 2000,
      reuseConnections: false,
    });
    cleanups.push(() => prober.close());
    const { mesh } = startMesh(api, { KUBENURSE_PORT: String(port) }, { prober });
    await eventually(() => expect(mesh.checks()).toHaveLength(1));
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
    await eventually(() => expect(checkedNodes(mesh)).toHaveLength(4));
    await eventually(() => expect(api.watchCount()).toBe(2));
    const requestsBefore = api.requests.length;
    const first = mesh.checks();
    for (let round = 0; round < 200; round++) {
      expect(mesh.checks()).toBe(first);
      mesh.view();
      mesh.nodeReady();
    }
    await sleep(200);
    expect(api.requests.length).toBe(requestsBefore);
  });
});

describe('discovery caches', () => {
  it('treat node updates that change nothing the filters read as no change (no recomputation)', async () => {
    const api = await startApi();
    seed(api, 3);
    const config = parseConfig({
      ...api.inClusterEnv(api.writeServiceAccountDir(NAMESPACE)),
      KUBENURSE_POD_NAME: 'kubenurse-me',
      KUBENURSE_NEIGHBOUR_FILTER: SELECTOR,
    });
    const metrics = new ProbeMetrics({
      buckets: [1],
      legacyMetrics: false,
      incomingChecks: () => 0,
    });
    const discovery = new Discovery({
      config,
      logger: createLogger('silent'),
      registry: metrics.registry,
      tuning: TUNING,
    });
    discovery.start();
    cleanups.push(() => discovery.stop());
    await eventually(() => expect(discovery.status().kind).toBe('ok'));
    await eventually(() => expect(api.watchCount('nodes')).toBe(1));
    await eventually(() => expect(discovery.nodeLookup().get('worker-2')).toBeDefined());
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
    api.cordon('worker-2');
    await eventually(() =>
      expect(discovery.nodeLookup().get('worker-2')?.spec.unschedulable).toBe(true),
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
    const lists = () => api.requests.filter((r) => !r.watch).length;
    const listsBefore = lists();
    const watchesBefore = api.requests.filter((r) => r.watch).length;

    // Changes nobody watches (another namespace) move the resourceVersion on; the bookmark tells us.
    for (let i = 0; i < 5; i++)
      api.addPod({
        name: `unrelated-${i}`,
        namespace: 'default',
        nodeName: 'worker-1',
        podIP: '10.9.9.9',
      });
    api.sendBookmarks();
    await sleep(200);
    api.compact();
    api.dropWatches();
    await eventually(() =>
      expect(api.requests.filter((r) => r.watch).length).toBeGreaterThanOrEqual(watchesBefore + 2),
    );
    await eventually(() => expect(api.watchCount()).toBe(2));
    expect(lists()).toBe(listsBefore);
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
    api.addNode({ name: 'worker-3' });
    api.addPod({
      name: 'kubenurse-3',
      namespace: NAMESPACE,
      nodeName: 'worker-3',
      podIP: '10.1.0.4',
    });
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
      api.addNode({ name: `worker-${n}` });
      api.addPod({
        name: `kubenurse-${n}`,
        namespace: NAMESPACE,
        nodeName: `worker-${n}`,
        podIP: `10.1.0.${n + 1}`,
      });
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
    api.addNode({ name: 'worker-3' });
    api.addPod({
      name: 'kubenurse-3',
      namespace: NAMESPACE,
      nodeName: 'worker-3',
      podIP: '10.1.0.4',
    });
    await eventually(() =>
      expect(checkedNodes(mesh)).toEqual(['worker-1', 'worker-2', 'worker-3']),
    );
    await eventually(() => expect(state(mesh)).toBe('ok'));
  });

  it('reports a wrong token (401) and a missing configuration as the neighbourhood state', async () => {
    const api = await startApi();
    seed(api, 2);
    const { mesh } = startMesh(api);
    await eventually(() => expect(state(mesh)).toBe('ok'));
    api.setToken('a-token-the-prober-does-not-have-yet-in-its-token-cache');
    api.dropWatches();
    await eventually(() => expect(state(mesh)).toMatch(/stale since .*(401|Unauthorized)/));

    const config = parseConfig({
      KUBENURSE_POD_NAME: 'x',
      KUBENURSE_LOG_LEVEL: 'silent',
      KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent',
    });
    const metrics = new ProbeMetrics({
      buckets: [1],
      legacyMetrics: false,
      incomingChecks: () => 0,
    });
    const unconfigured = createNeighbourhood({
      config,
      metrics,
      logger: createLogger('silent'),
      prober: new RecordingProber() as unknown as Prober,
    });
    unconfigured?.start();
    expect(state(unconfigured as Neighbourhood)).toMatch(
      /not running: no Kubernetes API configured/,
    );
    expect(unconfigured?.checks()).toEqual([]);
    await unconfigured?.stop();
  });

  it('is off when KUBENURSE_CHECK_NEIGHBOURHOOD=false', () => {
    const config = parseConfig({
      KUBENURSE_CHECK_NEIGHBOURHOOD: 'false',
      KUBENURSE_LOG_LEVEL: 'silent',
    });
    const metrics = new ProbeMetrics({
      buckets: [1],
      legacyMetrics: false,
      incomingChecks: () => 0,
    });
    expect(
      createNeighbourhood({
        config,
        metrics,
        logger: createLogger('silent'),
        prober: new RecordingProber() as unknown as Prober,
      }),
    ).toBeUndefined();
  });
});
