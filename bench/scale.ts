// Benchmark 4: discovery and selection at 5,000 nodes. The fake apiserver lists 50, 500 and
// 5,000 nodes (with realistic bulky status) and one prober pod on each.
//   - apiserver cost per prober: list and watch events/bytes sent to one prober (counted by
//     the fake per token) for a minute of node churn, today's design (every node watched) vs
//     the narrowed one (only the nodes the selection depends on);
//   - memory and series: the production bundle as one of those pods, per design and size;
//   - re-lists after an apiserver restart that lost its history: how many, how spread out;
//   - time to select neighbours after a change: the prober's own NeighbourMesh + Discovery
//     (in this process) against the apiserver: a neighbour pod is deleted / re-added, and we
//     time until checks() reflects it, and the recomputation itself;
//   - in-degree: every node's selection with the prober's selectNeighbours; each node must be
//     chosen by exactly K others.
import { performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { FakeApiServer } from '../dev/fakes/fake-apiserver.ts';
import { parseConfig } from '../src/config.ts';
import type { ProberContext } from '../src/context.ts';
import { proberContext } from '../dev/prober-context.ts';
import { createNeighbourhood } from '../src/neighbours/index.ts';
import { nodeHash, selectNeighbours } from '../src/neighbours/limit.ts';
import { freePort, waitFor } from './lib/children.ts';
import { NAMESPACE, POD_LABELS } from './lib/cluster.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { describeImageRuntime, IMAGE_RUNTIME } from './lib/image-runtime.ts';
import { startProber } from './lib/prober-process.ts';
import { readRss } from './lib/rss-parts.ts';
import { isMain, runStandalone, table, type Benchmark } from './lib/report.ts';
import { fmt, summarize } from './lib/stats.ts';

const API_HOST = '127.0.5.22';
const SELF_IP = '127.0.5.35';
const NODES = 5000;
const K = 10;
/** Pod IPs cycle through 127.0.5.100–249, where the fleet answers: probes stay on loopback. */
const POD_IP_POOL = 150;

function node(i: number): string {
  return `node-${String(i).padStart(4, '0')}`;
}

async function syntheticCluster(nodes: number, selfOnNode0: boolean): Promise<FakeApiServer> {
  const api = await FakeApiServer.start({ host: API_HOST, historyLimit: 1000 });
  for (let i = 0; i < nodes; i++) {
    api.addNode({ name: node(i) });
    api.addPod({
      name: `kubenurse-${i}`,
      namespace: NAMESPACE,
      nodeName: node(i),
      podIP: `127.0.5.${100 + (i % POD_IP_POOL)}`,
      hostIP: `127.0.5.${100 + (i % POD_IP_POOL)}`,
      labels: POD_LABELS,
    });
  }
  if (!selfOnNode0) {
    api.addNode({ name: 'node-self' });
    api.addPod({
      name: 'kubenurse-self',
      namespace: NAMESPACE,
      nodeName: 'node-self',
      podIP: SELF_IP,
      hostIP: SELF_IP,
      labels: POD_LABELS,
    });
  }
  return api;
}

type Design = 'today' | 'after' | 'after-off';

/**
 * Where the memory for N prober pods goes, measured with bench/pod-cache-memory.ts (heap
 * snapshots and forced GCs, which this benchmark cannot take of the shipped process).
 */
const POD_MEMORY_ANALYSIS = [
  '*Where the memory goes* (`node bench/pod-cache-memory.ts` and `node bench/pod-cache-memory.ts prober` via `npm exec`,',
  '2026-12-01, one run; V8 figures after forced full GCs). Live data grows by about 650 B per prober pod: the',
  'production bundle as the image runs it, 50 → 5,000 nodes, live heap 13.1 → 16.2 MiB (+3.1 MiB; its heap',
  'snapshot: +34,600 strings 1.0 MiB, +24,700 plain objects 1.0 MiB, Map and array stores 0.5 MiB, hidden',
  '0.4 MiB, 4,950 `namespace/name` key strings 0.15 MiB, 4,950 ring hashes (bigint) 0.12 MiB). Of that the pod',
  "informer's cache is 520–528 B per pod (the informer alone, with and without its cache): a summary of",
  'only what the filters, the ring and the probes read (name, namespace, resourceVersion, deletion, node,',
  'phase, pod/host IPs of both families, Ready), four small objects and their strings; Node 24 copies',
  "JSON.parse'd strings (no sliced string keeps an item's text alive). A flat record instead of the three",
  'nested objects would save about 0.1 KiB per pod (~0.5 MiB at 5,000): not done. RSS of that run: 86.2 →',
  "94.2 MiB (+8.0 MiB). The rest of the RSS growth is not live data: with Node's defaults (how the runs",
  'before measured the prober; +31.9 MiB) the young generation grows from 6.6 to 13.3 MiB during the',
  "5,000-item list and stays committed, and freed malloc memory stays with the process; the image's",
  '--max-semi-space-size=1 and MALLOC_ARENA_MAX=2 keep it at 2 MiB (the informer alone: RSS +2 to +5.5 KiB per',
  'pod with the defaults in three runs, none measurable with the image flags). With the image flags the shipped',
  'prober still shows +8 to +12 MiB RSS for +3 MiB live data: heap and malloc memory freed but kept by the',
  'process (not analysed further; such figures vary by several MiB between runs). So per prober, memory grows about',
  '3 MiB of live data per 5,000 nodes plus run-to-run RSS noise: not independent of N, but the remaining',
  "O(N) is the pod cache the ring needs (every prober's node name); removing it would take narrowing the",
  'pod watch itself (e.g. per-node pod watches for the window only, or an aggregated endpoint), a',
  'redesign not started.',
].join(' ');

/** The environment of each design: today's (every node watched, full trace) and the new one. */
const DESIGN_ENV: Record<Design, Record<string, string>> = {
  today: { KUBENURSE_NEIGHBOUR_NODE_WATCH: 'cluster', KUBENURSE_NEIGHBOUR_TRACE_METRICS: 'full' },
  after: {
    KUBENURSE_NEIGHBOUR_NODE_WATCH: 'auto',
    KUBENURSE_NEIGHBOUR_TRACE_METRICS: 'aggregated',
  },
  'after-off': { KUBENURSE_NEIGHBOUR_NODE_WATCH: 'auto', KUBENURSE_NEIGHBOUR_TRACE_METRICS: 'off' },
};

interface MemoryFigures {
  readonly nodes: number;
  readonly design: Design;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly syncSeconds: number;
  /** Sample lines in /metrics: all, and those of path_ types. */
  readonly series: number;
  readonly pathSeries: number;
}

async function proberMemory(
  api: FakeApiServer,
  nodes: number,
  design: Design,
  port: number,
  settleMs: number,
): Promise<MemoryFigures> {
  const saDir = api.writeServiceAccountDir(NAMESPACE);
  const started = Date.now();
  const prober = await startProber({
    host: SELF_IP,
    port,
    // As the image runs it: with Node's defaults the young generation alone grows by up to
    // 16 MiB under the burst of a 5,000-item list, which is not what a pod would hold.
    nodeFlags: IMAGE_RUNTIME.nodeFlags,
    env: {
      ...IMAGE_RUNTIME.env,
      ...api.inClusterEnv(saDir),
      KUBENURSE_NAMESPACE: NAMESPACE,
      KUBENURSE_POD_NAME: 'kubenurse-self',
      KUBENURSE_NODE_NAME: 'node-self',
      KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
      KUBENURSE_CHECK_NEIGHBOURHOOD: 'true',
      KUBENURSE_NEIGHBOUR_LIMIT: String(K),
      ...DESIGN_ENV[design],
    },
  });
  try {
    await waitFor(
      `prober to list ${nodes} neighbours`,
      async () => {
        const response = await fetch(`${prober.baseUrl}/alive`);
        if (response.status !== 200) return false; // 500 until the first round
        const alive = (await response.json()) as {
          last_check_result: { neighbourhood?: unknown[]; neighbourhood_state?: string };
        };
        const result = alive.last_check_result;
        return result.neighbourhood?.length === nodes && result.neighbourhood_state === 'ok';
      },
      120_000,
      500,
    );
    const syncSeconds = (Date.now() - started) / 1000;
    await sleep(settleMs);
    const metrics = await (await fetch(`${prober.baseUrl}/metrics`)).text();
    const heapUsed =
      Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1]) / (1024 * 1024);
    const samples = metrics.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    return {
      nodes,
      design,
      rssMiB: readRss(prober.pid).rssMiB,
      heapUsedMiB: heapUsed,
      syncSeconds,
      series: samples.length,
      pathSeries: samples.filter((line) => line.includes('type="path_')).length,
    };
  } finally {
    await prober.stop();
  }
}

interface TrafficFigures {
  readonly nodes: number;
  readonly design: 'today' | 'after';
  readonly nodeWatches: number;
  readonly initialListBytes: number;
  readonly events: number;
  readonly bytes: number;
}

function quietContext(env: Record<string, string>): ProberContext {
  return proberContext(parseConfig(env), { timeoutMs: 5000 });
}

/** The environment of the prober pod on node(index) of the synthetic cluster. */
function clusterProberEnv(
  api: FakeApiServer,
  saDir: string,
  index: number,
): Record<string, string> {
  return {
    ...api.inClusterEnv(saDir),
    KUBENURSE_NAMESPACE: NAMESPACE,
    KUBENURSE_POD_NAME: `kubenurse-${index}`,
    KUBENURSE_NODE_NAME: node(index),
    KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
    KUBENURSE_NEIGHBOUR_LIMIT: String(K),
  };
}

/**
 * What the apiserver sends one prober: its discovery (in this process, with a token of its
 * own) against the cluster, then one minute's worth of node churn — every node updated once,
 * a status change as kubelets and controllers make them.
 */
async function proberTraffic(
  api: FakeApiServer,
  nodes: number,
  design: 'today' | 'after',
): Promise<TrafficFigures> {
  const token = `traffic-${design}-${nodes}`;
  const saDir = api.writeServiceAccountDir(NAMESPACE, undefined, token);
  const ctx = quietContext({ ...clusterProberEnv(api, saDir, 0), ...DESIGN_ENV[design] });
  const mesh = createNeighbourhood(ctx);
  if (!mesh) throw new Error('neighbourhood not created');
  api.resetTraffic();
  mesh.start();
  try {
    let watches = -1;
    let stableSince = Date.now();
    await waitFor(
      `discovery of ${nodes} nodes settled (${design})`,
      () => {
        const ok = mesh.view().state.kind === 'ok' && mesh.checks().length === K;
        const now = api.watchCount('nodes');
        if (now !== watches) {
          watches = now;
          stableSince = Date.now();
        }
        return ok && Date.now() - stableSince > 1000;
      },
      120_000,
      50,
    );
    const initial = api.traffic(token);
    api.resetTraffic();
    for (let i = 0; i < nodes; i++)
      api.updateNode(node(i), (object) => {
        const status = object.status as { conditions: Record<string, unknown>[] };
        (status.conditions[0] as Record<string, unknown>).lastHeartbeatTime =
          new Date().toISOString();
      });
    // The fake counts at write time: what was sent is known as soon as the loop is done.
    const churn = api.traffic(token);
    return {
      nodes,
      design,
      nodeWatches: watches,
      initialListBytes: initial.listBytes,
      events: churn.watchEvents,
      bytes: churn.watchBytes,
    };
  } finally {
    await mesh.stop();
    await ctx.prober.close();
  }
}

interface RelistFigures {
  readonly spreadMs: number;
  readonly probers: number;
  readonly podLists: number;
  readonly nodeLists: number;
  readonly p50Seconds: number;
  readonly lastSeconds: number;
  readonly peakPerSecond: number;
}

/**
 * An apiserver restart that lost the watch history: `probers` discoveries in this process
 * are cut off, the server comes back compacted, every watch gets 410 Gone and re-lists.
 */
async function relistStorm(
  nodes: number,
  probers: number,
  spreadMs: number,
): Promise<RelistFigures> {
  const api = await syntheticCluster(nodes, true);
  const started: { mesh: { stop(): Promise<void> }; ctx: ProberContext }[] = [];
  try {
    for (let i = 0; i < probers; i++) {
      const saDir = api.writeServiceAccountDir(NAMESPACE, undefined, `relist-${i}`);
      const ctx = quietContext(clusterProberEnv(api, saDir, i));
      const mesh = createNeighbourhood(ctx, { relistSpreadMs: spreadMs });
      if (!mesh) throw new Error('neighbourhood not created');
      mesh.start();
      started.push({ mesh, ctx });
      await waitFor(
        'prober ready',
        () => mesh.view().state.kind === 'ok' && mesh.checks().length === K,
        60_000,
        20,
      );
    }
    await api.close();
    // A change while it is down, then the history is gone: every resumed watch is 410 Gone.
    api.addPod({ name: 'after-restart', namespace: 'default', nodeName: node(0), podIP: SELF_IP });
    api.compact();
    await api.listen();
    const restarted = Date.now();
    const podListers = () =>
      new Set(
        api.requests
          .filter((r) => !r.watch && r.at >= restarted && r.path.endsWith('/pods'))
          .map((r) => r.token),
      ).size;
    await waitFor('every prober re-listed its pods', () => podListers() === probers, 120_000, 100);
    const after = api.requests.filter((r) => !r.watch && r.at >= restarted);
    const podLists = after.filter((r) => r.path.endsWith('/pods'));
    const times = podLists.map((r) => (r.at - restarted) / 1000).sort((a, b) => a - b);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor(t), (perSecond.get(Math.floor(t)) ?? 0) + 1);
    return {
      spreadMs,
      probers,
      podLists: podLists.length,
      nodeLists: after.filter((r) => r.path === '/api/v1/nodes').length,
      p50Seconds: times[Math.floor(times.length / 2)] ?? 0,
      lastSeconds: times.at(-1) ?? 0,
      peakPerSecond: Math.max(...perSecond.values()),
    };
  } finally {
    for (const { mesh, ctx } of started) {
      await mesh.stop();
      await ctx.prober.close();
    }
    await api.close();
  }
}

export const scale: Benchmark = async ({ quick, log }) => {
  const changes = quick ? 5 : 15;
  const settleMs = quick ? 3000 : 10_000;
  const sizes = quick ? [50, 500] : [50, 500, NODES];

  // --- informer memory and series in the shipped process; apiserver traffic per prober --
  const fleet = await FleetClient.start();
  const memory: MemoryFigures[] = [];
  const traffic: TrafficFigures[] = [];
  try {
    const port = await freePort(SELF_IP);
    await fleet.neighbours(
      Array.from({ length: POD_IP_POOL }, (_, i) => `127.0.5.${100 + i}`),
      port,
    );
    for (const nodes of sizes) {
      const api = await syntheticCluster(nodes, false);
      try {
        const designs: Design[] =
          nodes === sizes.at(-1) ? ['today', 'after', 'after-off'] : ['today', 'after'];
        for (const design of designs) {
          log(`scale: prober memory with ${nodes} nodes, ${design}`);
          memory.push(await proberMemory(api, nodes, design, port, settleMs));
        }
        for (const design of ['today', 'after'] as const) {
          log(`scale: apiserver traffic to one prober with ${nodes} nodes, ${design}`);
          traffic.push(await proberTraffic(api, nodes, design));
        }
      } finally {
        await api.close();
      }
    }
  } finally {
    await fleet.stop();
  }

  // --- re-list storm after an apiserver restart ----------------------------------------
  const stormProbers = quick ? 10 : 30;
  const relists: RelistFigures[] = [];
  for (const spreadMs of [0, 10_000]) {
    log(`scale: re-lists of ${stormProbers} probers after a restart, spread ${spreadMs} ms`);
    relists.push(await relistStorm(500, stormProbers, spreadMs));
  }

  // --- selection after a change, with the prober's own discovery and mesh ---------------
  log(`scale: selection latency at ${NODES} nodes, ${changes} deletions and ${changes} additions`);
  const api = await syntheticCluster(NODES, true);
  const endToEnd: number[] = [];
  const recompute: number[] = [];
  /** Each recompute's [start, end] on performance.now()'s clock, to find the GCs inside it. */
  const recomputeSpans: [number, number][] = [];
  // This process also hosts the fake apiserver and its 5,000 nodes: its GC pauses land in
  // whatever runs, checks() too. Recorded so that an outlier can be told from the selection.
  const gcPauses: PerformanceEntry[] = [];
  const gcObserver = new PerformanceObserver((list) => gcPauses.push(...list.getEntries()));
  gcObserver.observe({ entryTypes: ['gc'] });
  let initialSyncMs: number;
  try {
    const saDir = api.writeServiceAccountDir(NAMESPACE);
    const ctx = quietContext(clusterProberEnv(api, saDir, 0));
    const mesh = createNeighbourhood(ctx);
    if (!mesh) throw new Error('neighbourhood not created');
    const syncStart = performance.now();
    mesh.start();
    try {
      await waitFor(
        `discovery of ${NODES - 1} neighbours`,
        () => mesh.view().neighbours.length === NODES - 1,
        120_000,
        20,
      );
      initialSyncMs = performance.now() - syncStart;
      const types = () => new Set(mesh.checks().map((check) => check.type));
      /** Applies `change`, then polls checks() (as a round would) until `done`; times both. */
      const timeChange = async (change: () => void, done: (current: Set<string>) => boolean) => {
        const start = performance.now();
        change();
        for (;;) {
          await yieldToLoop();
          const before = performance.now();
          const current = types();
          const took = performance.now() - before;
          if (done(current)) {
            endToEnd.push(performance.now() - start);
            recompute.push(took);
            recomputeSpans.push([before, before + took]);
            return;
          }
          if (performance.now() - start > 30_000)
            throw new Error('selection did not change within 30 s');
        }
      };
      for (let i = 0; i < changes; i++) {
        const victim = [...types()][i % K] as string;
        const name = victim.slice('path_'.length);
        const index = Number(name.slice('node-'.length));
        await timeChange(
          () => api.deletePod(NAMESPACE, `kubenurse-${index}`),
          (current) => !current.has(victim) && current.size === K,
        );
        await timeChange(
          () =>
            api.addPod({
              name: `kubenurse-${index}`,
              namespace: NAMESPACE,
              nodeName: name,
              podIP: `127.0.5.${100 + (index % POD_IP_POOL)}`,
              hostIP: `127.0.5.${100 + (index % POD_IP_POOL)}`,
              labels: POD_LABELS,
            }),
          (current) => current.has(victim),
        );
      }
    } finally {
      await mesh.stop();
      await ctx.prober.close();
    }
  } finally {
    await api.close();
  }

  // --- in-degree over the whole cluster -------------------------------------------------
  log(`scale: in-degree of every node's selection (${NODES} × selectNeighbours)`);
  const members = Array.from({ length: NODES }, (_, i) => ({
    nodeName: node(i),
    hash: nodeHash(node(i)),
  }));
  const inDegree = new Map<string, number>();
  const selectTimes: number[] = [];
  for (const member of members) {
    const others = members.filter((other) => other !== member);
    const start = performance.now();
    const chosen = selectNeighbours(member.nodeName, others, K);
    selectTimes.push(performance.now() - start);
    if (chosen.length !== K) throw new Error(`${member.nodeName} chose ${chosen.length}`);
    for (const neighbour of chosen)
      inDegree.set(neighbour.nodeName, (inDegree.get(neighbour.nodeName) ?? 0) + 1);
  }
  const degrees = members.map((member) => inDegree.get(member.nodeName) ?? 0);
  const minDegree = Math.min(...degrees);
  const maxDegree = Math.max(...degrees);

  // GC entries are delivered later, from a timer: let the observer catch up first.
  await sleep(100);
  gcObserver.disconnect();
  const gcInside = recomputeSpans.map(([from, to]) =>
    gcPauses
      .filter((gc) => gc.startTime < to && gc.startTime + gc.duration > from)
      .reduce((sum, gc) => sum + gc.duration, 0),
  );
  const withGc = gcInside.filter((ms) => ms > 0).length;
  const compWithoutGc = summarize(recompute.filter((_, i) => gcInside[i] === 0));
  const e2e = summarize(endToEnd);
  const comp = summarize(recompute);
  const sel = summarize(selectTimes);
  const mem = (nodes: number, design: Design) =>
    memory.find((m) => m.nodes === nodes && m.design === design) as MemoryFigures;
  const flow = (nodes: number, design: 'today' | 'after') =>
    traffic.find((t) => t.nodes === nodes && t.design === design) as TrafficFigures;
  const smallest = sizes[0] as number;
  const largest = sizes.at(-1) as number;
  const ratio = (a: number, b: number) => (b === 0 ? '∞' : `${fmt(a / b, 2)}×`);
  const flatness = (design: 'today' | 'after', pick: (t: TrafficFigures) => number) =>
    pick(flow(largest, design)) / Math.max(1, pick(flow(smallest, design)));
  const memGrowth = (design: Design) =>
    mem(largest, design).rssMiB - mem(smallest, design === 'after-off' ? 'after' : design).rssMiB;
  const fleetSeries = (design: Design) => mem(largest, design).series * largest;
  const markdown = [
    `A synthetic cluster in the fake apiserver (dev/fakes/fake-apiserver.ts): up to ${largest} ` +
      `nodes (each with a status.images entry, like real nodes) and one prober pod per node, pod ` +
      `IPs on loopback. Default limit K = ${K}. *Today* = every node watched and the trace ` +
      `histogram per neighbour (\`KUBENURSE_NEIGHBOUR_NODE_WATCH=cluster\`, ` +
      `\`KUBENURSE_NEIGHBOUR_TRACE_METRICS=full\`, what the prober did before); *after* = the ` +
      `defaults for node watches (\`auto\`: only the nodes the selection depends on) with ` +
      `\`KUBENURSE_NEIGHBOUR_TRACE_METRICS=aggregated\`.`,
    '',
    `**Apiserver → one prober** — the prober's Discovery + NeighbourMesh in the benchmark ` +
      `process with a token of its own; the fake counts what it writes to that token's list and ` +
      `watch responses. After the first lists, one minute of churn at one update per node per ` +
      `minute (every node's status changes once: heartbeat-like, as kubelets and controllers ` +
      `write). Pods do not change.`,
    '',
    table(
      [
        'nodes',
        'design',
        'node watches',
        'first lists KiB',
        'events / min',
        'KiB / min',
        'fleet events / min (× nodes)',
        'fleet MiB / min',
      ],
      traffic.map((t) => [
        t.nodes,
        t.design,
        t.nodeWatches,
        fmt(t.initialListBytes / 1024, 0),
        t.events,
        fmt(t.bytes / 1024, 1),
        (t.events * t.nodes).toLocaleString('en-US'),
        fmt((t.bytes * t.nodes) / (1024 * 1024), 1),
      ]),
    ),
    '',
    `From ${smallest} to ${largest} nodes, node events per prober grow ` +
      `${ratio(flow(largest, 'today').events, flow(smallest, 'today').events)} today and ` +
      `${ratio(flow(largest, 'after').events, flow(smallest, 'after').events)} after; bytes ` +
      `${ratio(flow(largest, 'today').bytes, flow(smallest, 'today').bytes)} today, ` +
      `${ratio(flow(largest, 'after').bytes, flow(smallest, 'after').bytes)} after.`,
    '',
    `**Memory and series** — the production bundle as a pod of that cluster, as the image runs ` +
      `it (${describeImageRuntime()}; it probes its K neighbours every 5 s against a fleet of ` +
      `answering pods), measured once it lists all neighbours with state ok, plus ` +
      `${settleMs / 1000} s. A series = one sample line of /metrics.`,
    '',
    table(
      [
        'nodes',
        'design',
        'RSS MiB',
        'V8 heap used MiB',
        'start → all listed (s)',
        'series',
        'of them path_',
        `fleet series (× nodes)`,
      ],
      memory.map((m) => [
        m.nodes,
        m.design,
        fmt(m.rssMiB, 1),
        fmt(m.heapUsedMiB, 1),
        fmt(m.syncSeconds, 1),
        m.series,
        m.pathSeries,
        (m.series * m.nodes).toLocaleString('en-US'),
      ]),
    ),
    '',
    `RSS from ${smallest} to ${largest} nodes: +${fmt(memGrowth('today'), 1)} MiB today, ` +
      `+${fmt(memGrowth('after'), 1)} MiB after (one run each: RSS varies by a few MiB between ` +
      `runs).`,
    '',
    POD_MEMORY_ANALYSIS,
    '',
    `**Re-lists after an apiserver restart** — ${relists[0]?.probers ?? 0} probers (Discovery ` +
      `+ mesh in this process, 500 nodes) connected; the apiserver goes down, comes back with ` +
      `its watch history gone (every resumed watch gets 410 Gone) and one change. Times from the ` +
      `restart to each pod re-list. Spread 0 = re-list at once after 410, as before; 10 s = the ` +
      `default \`relistSpreadMs\`.`,
    '',
    table(
      [
        'spread',
        'probers',
        'pod re-lists',
        'node re-lists (by name)',
        'p50 s',
        'last s',
        'most pod re-lists in one second',
      ],
      relists.map((r) => [
        `${r.spreadMs / 1000} s`,
        r.probers,
        r.podLists,
        r.nodeLists,
        fmt(r.p50Seconds, 2),
        fmt(r.lastSeconds, 2),
        r.peakPerSecond,
      ]),
    ),
    '',
    `**Selection after a change** — the prober's Discovery + NeighbourMesh (defaults) in the ` +
      `benchmark process, ${changes} deletions of a selected neighbour's pod and ${changes} ` +
      `re-additions (ms). *End to end* = from the apiserver change, through the HTTPS watch ` +
      `event and the informer cache, until \`checks()\` (what a round calls) returns the new ` +
      `selection; *recompute* = that \`checks()\` call alone (filters over ${NODES} pods, ring ` +
      `sort, ${K} checks). Initial sync: ${fmt(initialSyncMs, 0)} ms. This process also hosts ` +
      `the fake apiserver with ${NODES} nodes and pods, so its GC pauses land in whatever runs: ` +
      `${withGc} of ${comp.n} recompute calls had a GC pause inside them ` +
      `(${fmt(Math.max(0, ...gcInside), 1)} ms the longest; GC entries from a ` +
      `PerformanceObserver).`,
    '',
    table(
      ['figure', 'n', 'p50', 'p99', 'max'],
      [
        ['end to end', e2e.n, fmt(e2e.p50, 2), fmt(e2e.p99, 2), fmt(e2e.max, 2)],
        ['recompute (checks())', comp.n, fmt(comp.p50, 2), fmt(comp.p99, 2), fmt(comp.max, 2)],
        [
          'recompute, calls no GC pause overlapped',
          compWithoutGc.n,
          fmt(compWithoutGc.p50, 2),
          fmt(compWithoutGc.p99, 2),
          fmt(compWithoutGc.max, 2),
        ],
        [
          `selectNeighbours alone over ${NODES - 1} members`,
          sel.n,
          fmt(sel.p50, 2),
          fmt(sel.p99, 2),
          fmt(sel.max, 2),
        ],
      ],
    ),
    '',
    `**In-degree** — every one of the ${NODES} nodes ran \`selectNeighbours\` over the other ` +
      `${NODES - 1}: in-degree min ${minDegree}, max ${maxDegree} (exactly K = ${K} for all: ` +
      `${minDegree === K && maxDegree === K ? 'yes' : 'NO'}).`,
  ].join('\n');
  const eventsFlat = flatness('after', (t) => t.events);
  const bytesFlat = flatness('after', (t) => t.bytes);
  const memFlat = mem(largest, 'after').rssMiB / mem(smallest, 'after').rssMiB;
  return {
    id: 'scale',
    title: `4. Discovery and selection at ${NODES.toLocaleString('en-US')} nodes`,
    command: 'npm run bench -- --only scale',
    goals: [
      {
        what: `apiserver node events to one prober per minute, ${largest} vs ${smallest} nodes (after)`,
        target: 'within 2×',
        measured:
          `${ratio(flow(largest, 'after').events, flow(smallest, 'after').events)} (today ` +
          `${ratio(flow(largest, 'today').events, flow(smallest, 'today').events)})`,
        met: eventsFlat <= 2,
      },
      {
        what: `apiserver bytes to one prober per minute, ${largest} vs ${smallest} nodes (after)`,
        target: 'within 2×',
        measured:
          `${ratio(flow(largest, 'after').bytes, flow(smallest, 'after').bytes)} (today ` +
          `${ratio(flow(largest, 'today').bytes, flow(smallest, 'today').bytes)})`,
        met: bytesFlat <= 2,
      },
      {
        what: `prober RSS, ${largest} vs ${smallest} nodes (after)`,
        target: 'within 2×',
        measured: `${fmt(memFlat, 2)}× (+${fmt(memGrowth('after'), 1)} MiB; today +${fmt(memGrowth('today'), 1)} MiB)`,
        met: memFlat <= 2,
      },
      {
        what: `fleet-wide series at ${largest} nodes`,
        target: 'reported; aggregated < today',
        measured:
          `today ${fleetSeries('today').toLocaleString('en-US')}, aggregated ` +
          `${fleetSeries('after').toLocaleString('en-US')}` +
          (memory.some((m) => m.design === 'after-off')
            ? `, off ${fleetSeries('after-off').toLocaleString('en-US')}`
            : ''),
        met: fleetSeries('after') < fleetSeries('today'),
      },
      {
        what: 'pod re-lists per prober after an apiserver restart with 410',
        target: 'one each, spread out',
        measured: relists
          .map(
            (r) =>
              `spread ${r.spreadMs / 1000} s: ${r.podLists}/${r.probers}, peak ${r.peakPerSecond}/s`,
          )
          .join('; '),
        met: relists.every((r) => r.podLists === r.probers),
      },
      {
        what: `selection after a change at ${NODES} nodes: recompute in checks(), p99`,
        target: '≤ 50 ms',
        measured:
          `${fmt(comp.p99, 1)} ms (p50 ${fmt(comp.p50, 1)}; ${withGc} of ${comp.n} calls ` +
          `overlapped by a GC pause, without them p99 ${fmt(compWithoutGc.p99, 1)})`,
        met: comp.p99 <= 50,
      },
      {
        what: `in-degree of the selection at ${NODES} nodes`,
        target: `exactly ${K} for all`,
        measured: `min ${minDegree}, max ${maxDegree}`,
        met: minDegree === K && maxDegree === K,
      },
    ],
    markdown,
    data: {
      memory,
      traffic,
      relists,
      endToEnd,
      recompute,
      recomputeGcMs: gcInside,
      initialSyncMs,
      selectTimes: sel,
      minDegree,
      maxDegree,
    },
  };
};

if (isMain(import.meta.url)) await runStandalone(scale);
