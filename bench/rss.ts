// Benchmark 2b: steady RSS of one prober (the production bundle) with 50 neighbours at the
// default 5 s interval, and where that memory goes.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './lib/children.ts';
import { startCluster } from './lib/cluster.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { describeImageRuntime, IMAGE_RUNTIME } from './lib/image-runtime.ts';
import { startProber } from './lib/prober-process.ts';
import { bareNodeRss, dependencyRss, readRss, type Rss } from './lib/rss-parts.ts';
import {
  createMemoryCgroup,
  privateNodeBinary,
  type CgroupMemory,
  type MemoryCgroup,
} from './lib/cgroup.ts';
import { NODE } from './lib/children.ts';
import { isMain, runStandalone, table, type Benchmark } from './lib/report.ts';
import { fmt, percentile, slope } from './lib/stats.ts';

const API_HOST = '127.0.5.20';
const SELF_IP = '127.0.5.30';
const NEIGHBOURS = 50;
/** Extra runs as the image runs it, to fit what each neighbour costs. */
const SLOPE_NEIGHBOURS = [10, 200] as const;
const GOAL_MIB = 80;
/** Pods (and neighbour servers) in the cluster: every run lists the same ones, the limit varies. */
const PODS = Math.max(NEIGHBOURS, ...SLOPE_NEIGHBOURS);
const NEIGHBOUR_PREFIX = '127.0.7';

interface Steady {
  readonly label: string;
  readonly neighbours: number;
  readonly samples: Rss[];
  readonly steadyMiB: number;
  readonly maxMiB: number;
  readonly last: Rss;
  readonly probesPerRound: number;
  readonly heap?: Record<string, number>;
  /** Last reading of the prober's own memory cgroup, for the runs in one. */
  readonly cgroup?: CgroupMemory;
  /** Median working set (usage − inactive file) over the second half. */
  readonly workingSetMiB?: number;
}

function heapFigures(metricsText: string): Record<string, number> {
  const pick = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1] ?? Number.NaN) /
    (1024 * 1024);
  return {
    heapTotalMiB: pick('nodejs_heap_size_total_bytes'),
    heapUsedMiB: pick('nodejs_heap_size_used_bytes'),
    externalMiB: pick('nodejs_external_memory_bytes'),
  };
}

export const rss: Benchmark = async ({ quick, log }) => {
  const windowMs = quick ? 30_000 : 120_000;
  const sampleEveryMs = 5000;
  const settleMs = quick ? 3000 : 6000;

  log('rss: bare node and dependency bundles');
  const bare = await bareNodeRss(settleMs);
  const parts = await dependencyRss(settleMs);

  const fleet = await FleetClient.start();
  const runs: Steady[] = [];
  let idleBundle: Rss | undefined;
  let cgroupSkipped: string | undefined;
  try {
    const port = await freePort(SELF_IP);
    const cluster = await startCluster({
      apiHost: API_HOST,
      selfIp: SELF_IP,
      neighbourPrefix: NEIGHBOUR_PREFIX,
      neighbourBase: 1,
      neighbourServers: PODS,
      initialNeighbours: PODS,
      port,
      fleet,
    });
    try {
      log('rss: bundle with every check off');
      const idle = await startProber({
        host: SELF_IP,
        port,
        nodeFlags: IMAGE_RUNTIME.nodeFlags,
        env: IMAGE_RUNTIME.env,
      });
      await sleep(settleMs);
      idleBundle = readRss(idle.pid);
      await idle.stop();

      const asShipped = {
        nodeFlags: IMAGE_RUNTIME.nodeFlags,
        env: IMAGE_RUNTIME.env,
        fromSource: false,
      };
      const variants: {
        label: string;
        neighbours: number;
        nodeFlags: readonly string[];
        env: Readonly<Record<string, string>>;
        fromSource: boolean;
        /** Run in a memory cgroup of its own; 'private' with a never-read copy of node. */
        cgroup?: 'shared-binary' | 'private-binary';
      }[] = [
        {
          label: `production bundle as the image runs it (${describeImageRuntime()})`,
          neighbours: NEIGHBOURS,
          ...asShipped,
        },
        {
          label: 'production bundle, default Node flags',
          neighbours: NEIGHBOURS,
          nodeFlags: [],
          env: {},
          fromSource: false,
        },
        {
          label: 'unbundled src/main.ts (type stripping)',
          neighbours: NEIGHBOURS,
          nodeFlags: [],
          env: {},
          fromSource: true,
        },
        ...SLOPE_NEIGHBOURS.map((neighbours) => ({
          label: `as the image runs it, ${neighbours} neighbours`,
          neighbours,
          ...asShipped,
        })),
        {
          label:
            'as the image runs it, in a memory cgroup of its own; node binary already in page ' +
            'cache (charged elsewhere)',
          neighbours: NEIGHBOURS,
          ...asShipped,
          cgroup: 'shared-binary',
        },
        {
          label:
            'as the image runs it, in a memory cgroup of its own; private node binary never ' +
            'read before (the pod faults it in)',
          neighbours: NEIGHBOURS,
          ...asShipped,
          cgroup: 'private-binary',
        },
      ];
      for (const variant of variants) {
        log(`rss: ${variant.label}, ${variant.neighbours} neighbours, ${windowMs / 1000} s`);
        let memcg: MemoryCgroup | undefined;
        if (variant.cgroup !== undefined) {
          try {
            memcg = createMemoryCgroup(`bench-rss-${process.pid}-${runs.length}`);
          } catch (error) {
            cgroupSkipped = `not measured: ${String(error)}`;
            log(`rss: ${cgroupSkipped}`);
            continue;
          }
        }
        await fleet.stats(true);
        // A 120 MB copy per run: removed again once the prober has stopped.
        const privateNode =
          variant.cgroup === 'private-binary' ? privateNodeBinary(NODE) : undefined;
        const cleanUp = () => {
          memcg?.remove();
          if (privateNode !== undefined)
            rmSync(dirname(privateNode), { recursive: true, force: true });
        };
        const prober = await startProber({
          host: SELF_IP,
          port,
          fromSource: variant.fromSource,
          nodeFlags: variant.nodeFlags,
          cgroupProcs: memcg?.procsFile,
          nodeBinary: privateNode,
          env: {
            ...cluster.proberEnv,
            KUBENURSE_NEIGHBOUR_LIMIT: String(variant.neighbours),
            KUBENURSE_CHECK_API_SERVER_DIRECT: 'true',
            ...variant.env,
          },
        }).catch((error: unknown) => {
          cleanUp();
          throw error;
        });
        const samples: Rss[] = [];
        const workingSets: number[] = [];
        let cgroup: CgroupMemory | undefined;
        const started = Date.now();
        try {
          while (Date.now() - started < windowMs) {
            await sleep(sampleEveryMs);
            samples.push(readRss(prober.pid));
            if (memcg) {
              cgroup = memcg.read();
              workingSets.push(cgroup.workingSetMiB);
            }
          }
          const heap = heapFigures(await (await fetch(`${prober.baseUrl}/metrics`)).text());
          const stats = await fleet.stats(true);
          const hits = Object.values(stats.neighbourHits).reduce((sum, n) => sum + n, 0);
          const rounds = Math.max(1, Math.round(windowMs / 5000));
          const secondHalf = samples.slice(Math.floor(samples.length / 2)).map((s) => s.rssMiB);
          runs.push({
            label: variant.label,
            neighbours: variant.neighbours,
            samples,
            steadyMiB: percentile(secondHalf, 50),
            maxMiB: Math.max(...samples.map((s) => s.rssMiB)),
            last: samples.at(-1) as Rss,
            probesPerRound: hits / rounds,
            heap,
            cgroup,
            workingSetMiB: memcg
              ? percentile(workingSets.slice(Math.floor(workingSets.length / 2)), 50)
              : undefined,
          });
          if (Object.keys(stats.neighbourHits).length < variant.neighbours)
            throw new Error(
              `only ${Object.keys(stats.neighbourHits).length} of ${variant.neighbours} neighbours were probed`,
            );
        } finally {
          await prober.stop();
          cleanUp();
        }
      }
    } finally {
      await cluster.stop();
    }
  } finally {
    await fleet.stop();
  }

  const production = runs[0] as Steady;
  const partRows = Object.entries(parts).map(([name, r]) => [
    name,
    fmt(r.rssMiB, 1),
    `+${fmt(r.rssMiB - bare.rssMiB, 1)}`,
    fmt(r.anonMiB, 1),
    fmt(r.fileMiB, 1),
  ]);
  const inCgroup = runs.filter((r) => r.workingSetMiB !== undefined);
  const shipped = runs
    .filter(
      (r) =>
        r.workingSetMiB === undefined &&
        (r === production || r.label.startsWith('as the image runs it')),
    )
    .sort((a, b) => a.neighbours - b.neighbours);
  const perNeighbour = {
    rssKiB:
      slope(
        shipped.map((r) => r.neighbours),
        shipped.map((r) => r.steadyMiB),
      ) * 1024,
    anonKiB:
      slope(
        shipped.map((r) => r.neighbours),
        shipped.map((r) => r.last.anonMiB),
      ) * 1024,
  };
  const markdown = [
    `The production bundle (built from this tree with scripts/bundle.mjs) as a pod on a ` +
      `simulated node: the fake apiserver (HTTPS, list + watch) lists ${PODS} neighbour prober ` +
      `pods (and their nodes), each a tiny HTTP server on its own loopback address ` +
      `(${NEIGHBOUR_PREFIX}.1–${PODS}), \`KUBENURSE_NEIGHBOUR_LIMIT=${NEIGHBOURS}\` (other ` +
      `counts where the row says so), default 5 s interval, \`api_server_direct\` on. RSS = ` +
      `VmRSS from /proc/<pid>/status every ${sampleEveryMs / 1000} s for ${windowMs / 1000} s; ` +
      `*steady* = median of the second half. Anon = RssAnon (heap, malloc); file = RssFile ` +
      `(mapped node binary and libraries: shared, reclaimable page cache, but counted in RSS).`,
    '',
    table(
      [
        'process',
        'steady RSS MiB',
        'max MiB',
        'anon MiB',
        'file MiB',
        'probes per round',
        'V8 heap used / total MiB',
        'external MiB',
      ],
      [
        ...runs.map((r) => [
          r.label,
          fmt(r.steadyMiB, 1),
          fmt(r.maxMiB, 1),
          fmt(r.last.anonMiB, 1),
          fmt(r.last.fileMiB, 1),
          fmt(r.probesPerRound, 1),
          `${fmt(r.heap?.heapUsedMiB, 1)} / ${fmt(r.heap?.heapTotalMiB, 1)}`,
          fmt(r.heap?.externalMiB, 1),
        ]),
        [
          'as the image runs it, every check off (no neighbours, no discovery)',
          fmt(idleBundle?.rssMiB, 1),
          '–',
          fmt(idleBundle?.anonMiB, 1),
          fmt(idleBundle?.fileMiB, 1),
          '0',
          '–',
          '–',
        ],
      ],
    ),
    '',
    `What each neighbour costs, as the image runs it (least-squares slope over ` +
      `${shipped.map((r) => r.neighbours).join(', ')} neighbours): ` +
      `**${fmt(perNeighbour.rssKiB, 0)} KiB RSS** (${fmt(perNeighbour.anonKiB, 0)} KiB anon) per ` +
      `probed neighbour.`,
    '',
    table(
      ['neighbours probed', 'steady RSS MiB', 'anon MiB', 'file MiB', 'V8 heap used / total MiB'],
      shipped.map((r) => [
        r.neighbours,
        fmt(r.steadyMiB, 1),
        fmt(r.last.anonMiB, 1),
        fmt(r.last.fileMiB, 1),
        `${fmt(r.heap?.heapUsedMiB, 1)} / ${fmt(r.heap?.heapTotalMiB, 1)}`,
      ]),
    ),
    '',
    '**What an operator sees.** Kubernetes reports `container_memory_working_set_bytes` = ' +
      "the container cgroup's usage − its inactive file pages (cAdvisor), not RSS. The prober " +
      `as the image runs it, ${NEIGHBOURS} neighbours, started inside a memory cgroup of its ` +
      "own (created under the benchmark's; cgroup v1 or v2), read every " +
      `${sampleEveryMs / 1000} s like RSS. Page cache is charged to the cgroup that faulted a ` +
      "page in first, so the node binary's pages can count only if the pod touched them first. " +
      'Two cases: the binary already cached by another process (another pod on the node runs ' +
      'the same image layer, or the pull just wrote it), and a private copy of the binary no ' +
      "one has read (the only pod running the image, once the pull's page cache is gone).",
    '',
    cgroupSkipped !== undefined
      ? `Working set ${cgroupSkipped}`
      : table(
          [
            'process',
            'steady RSS MiB',
            'steady working set MiB',
            'cgroup usage MiB',
            'anon MiB',
            'active file MiB',
            'inactive file MiB',
          ],
          inCgroup.map((r) => [
            r.label,
            fmt(r.steadyMiB, 1),
            fmt(r.workingSetMiB, 1),
            fmt(r.cgroup?.usageMiB, 1),
            fmt(r.cgroup?.anonMiB, 1),
            fmt(r.cgroup?.activeFileMiB, 1),
            fmt(r.cgroup?.inactiveFileMiB, 1),
          ]),
        ),
    '',
    'Where it goes: bare Node 24, and each dependency bundled alone exactly as the production ' +
      'bundle bundles it (esbuild, minified, tree-shaken to the symbols the prober uses), each ' +
      'in a fresh idle process. The deltas overlap (each pulls in Node internals the others ' +
      'share), so they do not add up; they rank the candidates.',
    '',
    table(
      ['process', 'RSS MiB', 'over bare Node', 'anon MiB', 'file MiB'],
      [
        [
          'bare Node (idle timer)',
          fmt(bare.rssMiB, 1),
          '0',
          fmt(bare.anonMiB, 1),
          fmt(bare.fileMiB, 1),
        ],
        ...partRows,
      ],
    ),
  ].join('\n');
  return {
    id: 'rss',
    title: `2b. Steady RSS with ${NEIGHBOURS} neighbours`,
    command: 'npm run bench -- --only rss',
    goals: [
      {
        what: `steady RSS, bundle as shipped, ${NEIGHBOURS} neighbours, 5 s interval`,
        target: `≤ ${GOAL_MIB} MiB`,
        measured: `${fmt(production.steadyMiB, 1)} MiB`,
        met: production.steadyMiB <= GOAL_MIB,
      },
    ],
    markdown,
    data: { bare, parts, idleBundle, runs, perNeighbour },
  };
};

if (isMain(import.meta.url)) await runStandalone(rss);
