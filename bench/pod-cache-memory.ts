// Where the prober's memory for N prober pods goes (BENCHMARKS.md section 4, "Where the
// memory goes"). The fake apiserver (this process) serves N prober pods; a child Node
// process with --expose-gc runs only the pod informer (the prober's own list/watch and
// summaries) and reports, after forced full GCs, how much of the heap is live data, next to
// RSS and the heap before the GC (what the scale benchmark reads from /metrics).
//   node bench/pod-cache-memory.ts          # the pod informer alone: 50 and 5,000 pods
//   node bench/pod-cache-memory.ts prober   # the production bundle as the image runs it, heap snapshots
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { FakeApiServer } from '../dev/fakes/fake-apiserver.ts';
import { parseConfig } from '../src/config.ts';
import { inCluster } from '../src/neighbours/connection.ts';
import { DEFAULT_TUNING } from '../src/neighbours/discovery.ts';
import { ResourceInformer } from '../src/neighbours/informer.ts';
import { summarisePod, type PodSummary } from '../src/neighbours/objects.ts';
import { waitFor } from './lib/children.ts';
import { NAMESPACE, POD_LABELS } from './lib/cluster.ts';
import { describeImageRuntime, IMAGE_RUNTIME } from './lib/image-runtime.ts';
import { startProber } from './lib/prober-process.ts';
import { readRss } from './lib/rss-parts.ts';

const MiB = 1024 * 1024;
const run = promisify(execFile);

interface Figures {
  readonly pods: number;
  /** Before any informer, after GC. */
  readonly baseHeapUsed: number;
  readonly baseRss: number;
  /** Synced, as the scale benchmark reads it (no forced GC). */
  readonly heapUsedNoGc: number;
  readonly heapTotalNoGc: number;
  readonly rssNoGc: number;
  /** Synced, after forced full GCs: live data. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly rss: number;
  readonly externalAndBuffers: number;
  /** After the informer is stopped and its cache dropped, GC: what the cache itself held. */
  readonly heapUsedWithoutCache: number;
  /** V8's own malloc'd memory (outside the JS heap: parser, compiler zones) and its peak. */
  readonly mallocedMemory: number;
  readonly peakMallocedMemory: number;
  /** Committed physical memory of each V8 heap space, after GC. */
  readonly spaces: Record<string, number>;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run the child with --expose-gc');
  for (let i = 0; i < 3; i++) collect();
}

async function child(): Promise<void> {
  const pods = Number(process.env.PODS);
  const config = parseConfig({
    ...(process.env as Record<string, string>),
    KUBENURSE_NAMESPACE: NAMESPACE,
    KUBENURSE_POD_NAME: 'kubenurse-self',
  });
  const connection = inCluster(config);
  gc();
  const base = process.memoryUsage();
  let informer: ResourceInformer<PodSummary> | undefined = new ResourceInformer<PodSummary>({
    resource: 'pods',
    path: `/api/v1/namespaces/${NAMESPACE}/pods`,
    labelSelector: 'app.kubernetes.io/name=kubenurse',
    summarise: summarisePod,
    connection,
    tuning: DEFAULT_TUNING,
    hooks: {
      onChange: () => undefined,
      onStatusChange: () => undefined,
      onError: (_informer, message) => process.stderr.write(`informer error: ${message}\n`),
      onRecovered: () => undefined,
    },
  });
  informer.start();
  while (informer.size < pods) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const noGc = process.memoryUsage();
  gc();
  const live = process.memoryUsage();
  const heap = getHeapStatistics();
  informer.stop();
  // Drops the last reference, so the GC below frees the cache: what is left is the rest.
  // eslint-disable-next-line no-useless-assignment
  informer = undefined;
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  const without = process.memoryUsage();
  const figures: Figures = {
    pods,
    baseHeapUsed: base.heapUsed,
    baseRss: base.rss,
    heapUsedNoGc: noGc.heapUsed,
    heapTotalNoGc: noGc.heapTotal,
    rssNoGc: noGc.rss,
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    rss: live.rss,
    externalAndBuffers: live.external + live.arrayBuffers,
    heapUsedWithoutCache: without.heapUsed,
    mallocedMemory: heap.malloced_memory,
    peakMallocedMemory: heap.peak_malloced_memory,
    spaces: Object.fromEntries(
      getHeapSpaceStatistics().map((space) => [space.space_name, space.physical_space_size]),
    ),
  };
  process.stdout.write(JSON.stringify(figures));
  await connection.close();
}

async function measure(pods: number, asImage: boolean): Promise<Figures> {
  const api = await FakeApiServer.start({ host: '127.0.5.23' });
  try {
    for (let i = 0; i < pods; i++)
      api.addPod({
        name: `kubenurse-${i}`,
        namespace: NAMESPACE,
        nodeName: `node-${String(i).padStart(4, '0')}`,
        podIP: `127.0.5.${100 + (i % 150)}`,
        hostIP: `127.0.5.${100 + (i % 150)}`,
        labels: POD_LABELS,
      });
    const env = {
      ...process.env,
      ...(asImage ? IMAGE_RUNTIME.env : {}),
      ...api.inClusterEnv(api.writeServiceAccountDir(NAMESPACE)),
    };
    const { stdout } = await run(
      process.execPath,
      [
        ...(asImage ? IMAGE_RUNTIME.nodeFlags : []),
        '--expose-gc',
        fileURLToPath(import.meta.url),
        'child',
      ],
      {
        env: { ...env, PODS: String(pods) },
        encoding: 'utf8',
      },
    );
    const output = stdout;
    return JSON.parse(output) as Figures;
  } finally {
    await api.close();
  }
}

async function parent(asImage: boolean): Promise<void> {
  console.log(
    asImage
      ? `pod informer alone, as the image runs it (${describeImageRuntime()}):`
      : 'pod informer alone, Node defaults:',
  );
  const results: Figures[] = [];
  for (const pods of [50, 5000]) results.push(await measure(pods, asImage));
  const [small, large] = results as [Figures, Figures];
  for (const r of results)
    console.log(
      `${r.pods} pods, V8: malloced ${(r.mallocedMemory / MiB).toFixed(1)} MiB (peak ` +
        `${(r.peakMallocedMemory / MiB).toFixed(1)}), physical MiB per space: ` +
        Object.entries(r.spaces)
          .map(([name, bytes]) => `${name} ${(bytes / MiB).toFixed(1)}`)
          .join(', '),
    );
  const per = (field: Exclude<keyof Figures, 'spaces'>) =>
    (large[field] - small[field]) / (large.pods - small.pods);
  const cacheDelta = (figures: Figures): number => figures.heapUsed - figures.heapUsedWithoutCache;
  const cachePerPod = (cacheDelta(large) - cacheDelta(small)) / (large.pods - small.pods);
  for (const r of results)
    console.log(
      `${r.pods} pods: rss ${(r.rssNoGc / MiB).toFixed(1)} MiB (after GC ${(r.rss / MiB).toFixed(1)}), ` +
        `heap used ${(r.heapUsedNoGc / MiB).toFixed(1)} MiB of ${(r.heapTotalNoGc / MiB).toFixed(1)} ` +
        `(after GC ${(r.heapUsed / MiB).toFixed(2)} of ${(r.heapTotal / MiB).toFixed(1)}; ` +
        `without the cache ${(r.heapUsedWithoutCache / MiB).toFixed(2)}), external+buffers ` +
        `${(r.externalAndBuffers / MiB).toFixed(1)} MiB; before start rss ${(r.baseRss / MiB).toFixed(1)}, ` +
        `heap ${(r.baseHeapUsed / MiB).toFixed(2)}`,
    );
  console.log(
    `per pod (50 -> 5000): live heap ${per('heapUsed').toFixed(0)} B, of it the cache ` +
      `${cachePerPod.toFixed(0)} B; ` +
      `heap before GC ${per('heapUsedNoGc').toFixed(0)} B; heap reserved ${per('heapTotalNoGc').toFixed(0)} B; ` +
      `rss ${per('rssNoGc').toFixed(0)} B (after GC ${per('rss').toFixed(0)} B)`,
  );
}

/** Self sizes in a .heapsnapshot grouped by node type and (for objects) constructor name. */
function heapByKind(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] as number] as string;
    const name = snapshot.strings[snapshot.nodes[i + nameAt] as number] as string;
    const key = type === 'object' || type === 'closure' ? `${type} ${name}` : type;
    const kind = kinds.get(key) ?? { count: 0, bytes: 0 };
    kind.count++;
    kind.bytes += snapshot.nodes[i + sizeAt] as number;
    kinds.set(key, kind);
  }
  return kinds;
}

interface ProberFigures {
  readonly nodes: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly rssAfterGcMiB: number;
  readonly heapUsedAfterGcMiB: number;
  readonly kinds: Map<string, { count: number; bytes: number }>;
}

/** The production bundle as a pod of a cluster of `nodes` (as the scale benchmark runs it). */
async function proberHeap(nodes: number): Promise<ProberFigures> {
  const api = await FakeApiServer.start({ host: '127.0.5.23' });
  const dir = mkdtempSync(join(tmpdir(), 'pod-cache-memory-'));
  const all = [...Array(nodes).keys()].map((i) => `node-${String(i).padStart(4, '0')}`);
  for (const [i, name] of [...all, 'node-self'].entries()) {
    api.addNode({ name });
    const ip = name === 'node-self' ? '127.0.5.36' : `127.0.5.${100 + (i % 150)}`;
    api.addPod({
      name: name === 'node-self' ? 'kubenurse-self' : `kubenurse-${i}`,
      namespace: NAMESPACE,
      nodeName: name,
      podIP: ip,
      hostIP: ip,
      labels: POD_LABELS,
    });
  }
  const prober = await startProber({
    host: '127.0.5.36',
    nodeFlags: [
      ...IMAGE_RUNTIME.nodeFlags,
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${dir}`,
    ],
    env: {
      ...IMAGE_RUNTIME.env,
      ...api.inClusterEnv(api.writeServiceAccountDir(NAMESPACE)),
      KUBENURSE_NAMESPACE: NAMESPACE,
      KUBENURSE_POD_NAME: 'kubenurse-self',
      KUBENURSE_NODE_NAME: 'node-self',
      KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
      KUBENURSE_CHECK_NEIGHBOURHOOD: 'true',
      KUBENURSE_NEIGHBOUR_LIMIT: '10',
      KUBENURSE_NEIGHBOUR_TRACE_METRICS: 'aggregated',
    },
  });
  const heapUsed = async () =>
    Number(
      /^nodejs_heap_size_used_bytes (\S+)$/m.exec(
        await (await fetch(`${prober.baseUrl}/metrics`)).text(),
      )?.[1],
    ) / MiB;
  try {
    await waitFor(
      `prober to list ${nodes} neighbours`,
      async () => {
        const response = await fetch(`${prober.baseUrl}/alive`);
        if (response.status !== 200) return false;
        const alive = (await response.json()) as {
          last_check_result: { neighbourhood?: unknown[]; neighbourhood_state?: string };
        };
        return alive.last_check_result.neighbourhood?.length === nodes;
      },
      120_000,
      500,
    );
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const rssMiB = readRss(prober.pid).rssMiB;
    const heapUsedMiB = await heapUsed();
    // Writing a heap snapshot starts with a full GC: the figures after it are live data.
    process.kill(prober.pid, 'SIGUSR2');
    let kinds: Map<string, { count: number; bytes: number }> | undefined;
    await waitFor(
      'a complete heap snapshot',
      () => {
        const name = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
        if (name === undefined) return false;
        kinds = heapByKind(join(dir, name)); // throws (and is retried) while still being written
        return true;
      },
      120_000,
      1000,
    );
    return {
      nodes,
      rssMiB,
      heapUsedMiB,
      rssAfterGcMiB: readRss(prober.pid).rssMiB,
      heapUsedAfterGcMiB: await heapUsed(),
      kinds: kinds as Map<string, { count: number; bytes: number }>,
    };
  } finally {
    await prober.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function proberParent(): Promise<void> {
  const small = await proberHeap(50);
  const large = await proberHeap(5000);
  for (const r of [small, large])
    console.log(
      `prober, ${r.nodes} nodes: rss ${r.rssMiB.toFixed(1)} MiB, heap used ${r.heapUsedMiB.toFixed(1)} MiB; ` +
        `after the snapshot's GC: rss ${r.rssAfterGcMiB.toFixed(1)} MiB, heap used ${r.heapUsedAfterGcMiB.toFixed(1)} MiB`,
    );
  const rows = [...large.kinds.entries()]
    .map(([kind, l]) => {
      const s = small.kinds.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, count: l.count - s.count, bytes: l.bytes - s.bytes };
    })
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 15);
  console.log('live heap growth 50 -> 5000 nodes by kind (snapshot self sizes):');
  for (const row of rows)
    console.log(
      `  ${(row.bytes / 1024).toFixed(0).padStart(7)} KiB  ${String(row.count).padStart(7)}  ${row.kind}`,
    );
}

if (process.argv[2] === 'child') await child();
else if (process.argv[2] === 'prober') await proberParent();
else {
  await parent(false);
  await parent(true);
}
