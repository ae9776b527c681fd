// Benchmark 3: no leak under churn. The production bundle runs 10,000 rounds at a short
// interval while neighbour pods (and their nodes) leave and join through the fake apiserver;
// RSS and the /metrics series count are sampled over time, plotted, and summarised.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './lib/children.ts';
import { startCluster } from './lib/cluster.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { chartSize, lineChartSvg, svgToPng } from './lib/plot.ts';
import { startProber } from './lib/prober-process.ts';
import { readRss } from './lib/rss-parts.ts';
import { isMain, RESULTS_DIR, runStandalone, table, type Benchmark } from './lib/report.ts';
import { fmt, slope } from './lib/stats.ts';

const API_HOST = '127.0.5.21';
const SELF_IP = '127.0.5.31';
const TARGET_HOST = '127.0.5.32';
const POOL = 60;
const INITIAL = 30;
const LIMIT = 10;
const INTERVAL_MS = 50;
const CHURN_EVERY_MS = 500;
const SAMPLE_EVERY_MS = 2000;

interface Sample {
  readonly seconds: number;
  readonly rounds: number;
  readonly rssMiB: number;
  readonly series: number;
  readonly pathTypes: number;
  readonly pods: number;
}

/** Sample lines and distinct path_ types of an exposition. */
export function seriesStats(text: string): { series: number; pathTypes: number } {
  let series = 0;
  const types = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    series++;
    const type = /type="(path_[^"]*)"/.exec(line)?.[1];
    if (type !== undefined) types.add(type);
  }
  return { series, pathTypes: types.size };
}

const CAPPED_NODE_OPTIONS = '--max-old-space-size=64 --max-semi-space-size=1';

interface ChurnRun {
  readonly samples: Sample[];
  readonly joins: number;
  readonly leaves: number;
  readonly errors: number;
}

async function runChurn(
  targetRounds: number,
  nodeOptions: string,
  quick: boolean,
): Promise<ChurnRun> {
  const fleet = await FleetClient.start();
  const samples: Sample[] = [];
  let joins = 0;
  let leaves = 0;
  let errors = 0;
  try {
    const base = await fleet.target(TARGET_HOST);
    const port = await freePort(SELF_IP);
    const cluster = await startCluster({
      apiHost: API_HOST,
      selfIp: SELF_IP,
      neighbourPrefix: '127.0.5',
      neighbourBase: 150,
      neighbourServers: POOL,
      initialNeighbours: INITIAL,
      port,
      fleet,
    });
    try {
      const prober = await startProber({
        host: SELF_IP,
        port,
        env: {
          ...cluster.proberEnv,
          KUBENURSE_NEIGHBOUR_LIMIT: String(LIMIT),
          KUBENURSE_CHECK_INTERVAL: `${INTERVAL_MS}ms`,
          KUBENURSE_CACHE_TTL: '0s',
          KUBENURSE_LOG_LEVEL: 'error',
          // One request per round at this target counts rounds exactly.
          KUBENURSE_EXTRA_CHECKS: `round:${base}/churn-round/0`,
          ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
        },
      });
      const started = Date.now();
      let running = true;
      const churner = (async () => {
        while (running) {
          await sleep(CHURN_EVERY_MS);
          const present = [...cluster.present];
          const absent = Array.from({ length: POOL }, (_, i) => i).filter(
            (i) => !cluster.present.has(i),
          );
          const leaving = present[Math.floor(Math.random() * present.length)];
          const joining = absent[Math.floor(Math.random() * absent.length)];
          if (leaving !== undefined) {
            cluster.removeNeighbour(leaving);
            leaves++;
          }
          if (joining !== undefined) {
            cluster.addNeighbour(joining);
            joins++;
          }
        }
      })();
      try {
        const deadline = started + (quick ? 5 : 30) * 60_000;
        for (;;) {
          await sleep(SAMPLE_EVERY_MS);
          const rounds = (await fleet.stats()).counts['churn-round'] ?? 0;
          let text = '';
          try {
            text = await (
              await fetch(`${prober.baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })
            ).text();
          } catch {
            errors++;
          }
          const { series, pathTypes } = seriesStats(text);
          samples.push({
            seconds: (Date.now() - started) / 1000,
            rounds,
            rssMiB: readRss(prober.pid).rssMiB,
            series,
            pathTypes,
            pods: cluster.present.size,
          });
          if (rounds >= targetRounds) break;
          if (Date.now() > deadline)
            throw new Error(`only ${rounds} rounds after ${(Date.now() - started) / 1000} s`);
        }
      } finally {
        running = false;
        await churner;
        await prober.stop();
      }
    } finally {
      await cluster.stop();
    }
  } finally {
    await fleet.stop();
  }
  return { samples, joins, leaves, errors };
}

export const churn: Benchmark = async ({ quick, log }) => {
  const targetRounds = quick ? 1000 : 10_000;
  const uncappedRounds = quick ? 300 : 1500;
  log(`churn: ${uncappedRounds} rounds without a heap cap`);
  const uncapped = await runChurn(uncappedRounds, '', quick);
  log(
    `churn: ${targetRounds} rounds at ${INTERVAL_MS} ms with ` +
      `NODE_OPTIONS=${CAPPED_NODE_OPTIONS}, one pod leaves and one joins every ${CHURN_EVERY_MS} ` +
      `ms`,
  );
  const { samples, joins, leaves, errors } = await runChurn(
    targetRounds,
    CAPPED_NODE_OPTIONS,
    quick,
  );
  const last = samples.at(-1) as Sample;
  const warm = samples.filter((s) => s.rounds >= last.rounds * 0.2);
  const warmStart = warm[0] as Sample;
  const rssSlopePer1000 =
    slope(
      warm.map((s) => s.rounds),
      warm.map((s) => s.rssMiB),
    ) * 1000;
  const seriesSlopePer1000 =
    slope(
      warm.map((s) => s.rounds),
      warm.map((s) => s.series),
    ) * 1000;
  const maxPathTypes = Math.max(...samples.map((s) => s.pathTypes));
  const maxSeries = Math.max(...samples.map((s) => s.series));
  const minSeries = Math.min(...samples.filter((s) => s.series > 0).map((s) => s.series));
  const warmRss = warm.map((s) => s.rssMiB);

  const options = {
    title: `Churn: ${last.rounds.toLocaleString('en-US')} rounds, neighbours leaving and joining (K = ${LIMIT})`,
    xLabel: 'rounds executed',
    panels: [
      {
        yLabel: 'RSS (MiB)',
        series: [
          {
            name: `RSS, NODE_OPTIONS=${CAPPED_NODE_OPTIONS}`,
            color: '#c0392b',
            points: samples.map((s) => [s.rounds, s.rssMiB] as const),
          },
          {
            name: 'RSS, no heap cap (first rounds only)',
            color: '#f39c12',
            points: uncapped.samples.map((s) => [s.rounds, s.rssMiB] as const),
          },
        ],
      },
      {
        yLabel: '/metrics series',
        series: [
          {
            name: 'series (sample lines)',
            color: '#2471a3',
            points: samples.map((s) => [s.rounds, s.series] as const),
          },
        ],
      },
      {
        yLabel: 'count',
        series: [
          {
            name: 'path_ types in /metrics',
            color: '#1e8449',
            points: samples.map((s) => [s.rounds, s.pathTypes] as const),
          },
          {
            name: 'neighbour pods in the apiserver',
            color: '#7d3c98',
            points: samples.map((s) => [s.rounds, s.pods] as const),
          },
        ],
      },
    ],
  };
  const { width, height } = chartSize(options);
  const svg = lineChartSvg(options);
  writeFileSync(join(RESULTS_DIR, 'churn.svg'), svg);
  let plotNote: string;
  try {
    const tool = svgToPng(svg, join(RESULTS_DIR, 'churn.png'), width, height);
    plotNote = `![churn plot](bench/results/churn.png) (drawn as bench/results/churn.svg, converted with ${tool})`;
  } catch (error) {
    plotNote = `PNG not written (${String(error)}); the SVG is bench/results/churn.svg`;
  }

  const every = Math.max(1, Math.floor(samples.length / 10));
  const sampleRows = samples
    .filter((_, i) => i % every === 0 || i === samples.length - 1)
    .map((s) => [s.rounds, fmt(s.seconds, 0), fmt(s.rssMiB, 1), s.series, s.pathTypes, s.pods]);
  const markdown = [
    `The production bundle (NODE_OPTIONS=\`${CAPPED_NODE_OPTIONS}\`: a heap cap, see the ` +
      `analysis above) as a pod on a simulated node; a pool of ${POOL} neighbour servers on ` +
      `127.0.5.150–${150 + POOL - 1}, ${INITIAL} of them listed as pods (with their nodes) in ` +
      `the fake apiserver at any time. Every ${CHURN_EVERY_MS} ms one random pod and its node ` +
      `are deleted and one absent one is added (${leaves} leaves, ${joins} joins in total). ` +
      `\`KUBENURSE_NEIGHBOUR_LIMIT=${LIMIT}\`, \`KUBENURSE_CHECK_INTERVAL=${INTERVAL_MS}ms\`, ` +
      `\`KUBENURSE_CACHE_TTL=0s\`; an extra check counts rounds at its target. Every ` +
      `${SAMPLE_EVERY_MS / 1000} s: RSS (/proc) and a scrape of /metrics (${errors} failed ` +
      `scrapes).`,
    '',
    `Without a heap cap (same setup, ${uncapped.samples.at(-1)?.rounds ?? 0} rounds): RSS ` +
      `${fmt(uncapped.samples[0]?.rssMiB, 1)} → ${fmt(uncapped.samples.at(-1)?.rssMiB, 1)} MiB. ` +
      `At this benchmark's rate (~${fmt((last.rounds / last.seconds) * (LIMIT + 1), 0)} ` +
      `probes/s, each a fresh connection and a new undici Client) V8 grows its old generation ` +
      `instead of collecting: the live heap after collections stays flat, the committed heap ` +
      `does not. A heap cap keeps it collecting; the capped run below is the leak test: a leak ` +
      `would end in an out-of-memory crash, and RSS would climb.`,
    '',
    plotNote,
    '',
    table(
      ['figure', 'value'],
      [
        ['rounds', last.rounds],
        ['wall time', `${fmt(last.seconds, 0)} s`],
        [
          `RSS after warm-up (20 % of the rounds, round ${warmStart.rounds})`,
          `${fmt(warmStart.rssMiB, 1)} MiB`,
        ],
        [
          'RSS after warm-up: min / max / end',
          `${fmt(Math.min(...warmRss), 1)} / ${fmt(Math.max(...warmRss), 1)} / ${fmt(last.rssMiB, 1)} MiB`,
        ],
        [
          'RSS trend after warm-up (least squares)',
          `${fmt(rssSlopePer1000, 2)} MiB per 1,000 rounds`,
        ],
        ['series min / max', `${minSeries} / ${maxSeries}`],
        ['series trend after warm-up', `${fmt(seriesSlopePer1000, 1)} per 1,000 rounds`],
        ['most path_ types ever in /metrics', `${maxPathTypes} (K = ${LIMIT})`],
      ],
    ),
    '',
    'Samples (every ~10th):',
    '',
    table(['rounds', 's', 'RSS MiB', 'series', 'path_ types', 'pods listed'], sampleRows),
  ].join('\n');
  return {
    id: 'churn',
    title: '3. No leak under churn',
    command: 'npm run bench -- --only churn',
    goals: [
      {
        what: 'churn: path_ types in /metrics bounded by K',
        target: `≤ ${LIMIT}`,
        measured: String(maxPathTypes),
        met: maxPathTypes <= LIMIT,
      },
      {
        what: 'churn: RSS flat after warm-up',
        target: '|trend| < 1 MiB per 1,000 rounds',
        measured: `${fmt(rssSlopePer1000, 2)} MiB / 1,000 rounds`,
        met: Math.abs(rssSlopePer1000) < 1,
      },
    ],
    markdown,
    data: {
      uncapped: uncapped.samples,
      nodeOptions: CAPPED_NODE_OPTIONS,
      samples,
      rssSlopePer1000,
      seriesSlopePer1000,
      maxPathTypes,
      maxSeries,
      joins,
      leaves,
      errors,
    },
  };
};

if (isMain(import.meta.url)) await runStandalone(churn);
