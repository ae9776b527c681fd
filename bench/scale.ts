// Benchmark 4: discovery and selection at 5,000 nodes. The fake apiserver lists 5,000 nodes
// (with realistic bulky status) and one prober pod on each.
//   - informer memory: the production bundle as one of those pods, vs the same with 50 nodes;
//   - time to select neighbours after a change: the prober's own NeighbourMesh + Discovery
//     (in this process) against the apiserver: a neighbour pod is deleted / re-added, and we
//     time until checks() reflects it, and the recomputation itself;
//   - in-degree: every node's selection with the prober's selectNeighbours; each node must be
//     chosen by exactly K others.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { FakeApiServer } from '../dev/fakes/fake-apiserver.ts';
import { parseConfig } from '../src/config.ts';
import type { ProberContext } from '../src/context.ts';
import { ProbeMetrics } from '../src/metrics.ts';
import { createNeighbourhood } from '../src/neighbours/index.ts';
import { nodeHash, selectNeighbours } from '../src/neighbours/limit.ts';
import { Prober } from '../src/probe/http.ts';
import { freePort, waitFor } from './lib/children.ts';
import { NAMESPACE, POD_LABELS } from './lib/cluster.ts';
import { FleetClient } from './lib/fleet-client.ts';
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

interface MemoryFigures {
  readonly nodes: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly syncSeconds: number;
}

async function proberMemory(
  nodes: number,
  fleet: FleetClient,
  port: number,
  settleMs: number,
): Promise<MemoryFigures> {
  const api = await syntheticCluster(nodes, false);
  try {
    const saDir = api.writeServiceAccountDir(NAMESPACE);
    const started = Date.now();
    const prober = await startProber({
      host: SELF_IP,
      port,
      env: {
        ...api.inClusterEnv(saDir),
        KUBENURSE_NAMESPACE: NAMESPACE,
        KUBENURSE_POD_NAME: 'kubenurse-self',
        KUBENURSE_NODE_NAME: 'node-self',
        KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
        KUBENURSE_CHECK_NEIGHBOURHOOD: 'true',
        KUBENURSE_NEIGHBOUR_LIMIT: String(K),
      },
    });
    try {
      await waitFor(
        `prober to list ${nodes} neighbours`,
        async () => {
          const response = await fetch(`${prober.baseUrl}/alive`);
          if (response.status !== 200) return false; // 500 until the first round
          const alive = (await response.json()) as {
            last_check_result: { neighbourhood?: unknown[] };
          };
          return alive.last_check_result.neighbourhood?.length === nodes;
        },
        120_000,
        500,
      );
      const syncSeconds = (Date.now() - started) / 1000;
      await sleep(settleMs);
      const metrics = await (await fetch(`${prober.baseUrl}/metrics`)).text();
      const heapUsed =
        Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1]) / (1024 * 1024);
      return { nodes, rssMiB: readRss(prober.pid).rssMiB, heapUsedMiB: heapUsed, syncSeconds };
    } finally {
      await prober.stop();
    }
  } finally {
    await api.close();
  }
}

export const scale: Benchmark = async ({ quick, log }) => {
  const changes = quick ? 5 : 25;
  const settleMs = quick ? 5000 : 20_000;

  // --- informer memory, in the shipped process ------------------------------------------
  const fleet = await FleetClient.start();
  const memory: MemoryFigures[] = [];
  try {
    const port = await freePort(SELF_IP);
    await fleet.neighbours(
      Array.from({ length: POD_IP_POOL }, (_, i) => `127.0.5.${100 + i}`),
      port,
    );
    for (const nodes of [50, NODES]) {
      log(`scale: prober memory with ${nodes} nodes`);
      memory.push(await proberMemory(nodes, fleet, port, settleMs));
    }
  } finally {
    await fleet.stop();
  }

  // --- selection after a change, with the prober's own discovery and mesh ---------------
  log(`scale: selection latency at ${NODES} nodes, ${changes} deletions and ${changes} additions`);
  const api = await syntheticCluster(NODES, true);
  const endToEnd: number[] = [];
  const recompute: number[] = [];
  let initialSyncMs: number;
  try {
    const saDir = api.writeServiceAccountDir(NAMESPACE);
    const config = parseConfig({
      ...api.inClusterEnv(saDir),
      KUBENURSE_NAMESPACE: NAMESPACE,
      KUBENURSE_POD_NAME: 'kubenurse-0',
      KUBENURSE_NODE_NAME: node(0),
      KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
      KUBENURSE_NEIGHBOUR_LIMIT: String(K),
    });
    const metrics = new ProbeMetrics({
      buckets: config.histogramBuckets,
      legacyMetrics: false,
      incomingChecks: () => 0,
    });
    const prober = new Prober({
      metrics,
      trust: { ca: [], insecure: false },
      timeoutMs: 5000,
      reuseConnections: false,
    });
    const ctx: ProberContext = { config, metrics, logger: pino({ level: 'silent' }), prober };
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
      await prober.close();
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

  const e2e = summarize(endToEnd);
  const comp = summarize(recompute);
  const sel = summarize(selectTimes);
  const [small, big] = memory as [MemoryFigures, MemoryFigures];
  const markdown = [
    `A synthetic cluster in the fake apiserver: ${NODES} nodes (each with a status.images entry, like real nodes) and one prober pod per node, pod IPs on loopback. Default limit K = ${K}.`,
    '',
    '**Informer memory** — the production bundle as a pod of that cluster (its pod and node informers list and watch everything; it probes its K neighbours every 5 s), measured after the first full list plus ' +
      `${settleMs / 1000} s, against the same with 50 nodes:`,
    '',
    table(
      ['nodes', 'RSS MiB', 'V8 heap used MiB', 'start → all neighbours listed (s)'],
      memory.map((m) => [m.nodes, fmt(m.rssMiB, 1), fmt(m.heapUsedMiB, 1), fmt(m.syncSeconds, 1)]),
    ),
    '',
    `Difference for ${NODES - 50} more nodes and pods: RSS ${fmt(big.rssMiB - small.rssMiB, 1)} MiB, heap ${fmt(big.heapUsedMiB - small.heapUsedMiB, 1)} MiB (≈ ${fmt(((big.heapUsedMiB - small.heapUsedMiB) * 1024) / (NODES - 50), 2)} KiB per node + pod: the caches keep trimmed summaries, not the API objects).`,
    '',
    `**Selection after a change** — the prober's Discovery + NeighbourMesh in the benchmark process, ${changes} deletions of a selected neighbour's pod and ${changes} re-additions (ms). *End to end* = from the apiserver change, through the HTTPS watch event and the informer cache, until \`checks()\` (what a round calls) returns the new selection; *recompute* = that \`checks()\` call alone (filters over ${NODES} pods, ring sort, ${K} checks). Initial list of ${NODES} pods and nodes: ${fmt(initialSyncMs, 0)} ms.`,
    '',
    table(
      ['figure', 'n', 'p50', 'p99', 'max'],
      [
        ['end to end', e2e.n, fmt(e2e.p50, 2), fmt(e2e.p99, 2), fmt(e2e.max, 2)],
        ['recompute (checks())', comp.n, fmt(comp.p50, 2), fmt(comp.p99, 2), fmt(comp.max, 2)],
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
    `**In-degree** — every one of the ${NODES} nodes ran \`selectNeighbours\` over the other ${NODES - 1}: in-degree min ${minDegree}, max ${maxDegree} (exactly K = ${K} for all: ${minDegree === K && maxDegree === K ? 'yes' : 'NO'}).`,
  ].join('\n');
  return {
    id: 'scale',
    title: `4. Discovery and selection at ${NODES.toLocaleString('en-US')} nodes`,
    command: 'npm run bench -- --only scale',
    goals: [
      {
        what: `selection after a change at ${NODES} nodes: recompute in checks(), p99`,
        target: '≤ 50 ms',
        measured: `${fmt(comp.p99, 1)} ms (p50 ${fmt(comp.p50, 1)})`,
        met: comp.p99 <= 50,
      },
      {
        what: `selection after a change at ${NODES} nodes: end to end from the apiserver change, p99`,
        target: '≤ 50 ms',
        measured: `${fmt(e2e.p99, 1)} ms (p50 ${fmt(e2e.p50, 1)})`,
        met: e2e.p99 <= 50,
      },
      {
        what: `in-degree of the selection at ${NODES} nodes`,
        target: `exactly ${K} for all`,
        measured: `min ${minDegree}, max ${maxDegree}`,
        met: minDegree === K && maxDegree === K,
      },
      {
        what: `informer memory, ${NODES} vs 50 nodes`,
        target: 'reported (no goal figure)',
        measured: `+${fmt(big.rssMiB - small.rssMiB, 1)} MiB RSS, +${fmt(big.heapUsedMiB - small.heapUsedMiB, 1)} MiB heap`,
        met: undefined,
      },
    ],
    markdown,
    data: { memory, endToEnd, recompute, initialSyncMs, selectTimes: sel, minDegree, maxDegree },
  };
};

if (isMain(import.meta.url)) await runStandalone(scale);
