// Benchmark 5: /alive under load. 1,000 concurrent callers (autocannon) hammer one prober's
// /alive; the prober has one check whose target counts requests, so every round it runs is
// seen at the target. Single flight + the result cache must keep it at one round per TTL window.
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetClient } from './lib/fleet-client.ts';
import { startProber } from './lib/prober-process.ts';
import { cpuMs, MiB, rssBytes } from './lib/proc.ts';
import { isMain, runStandalone, table, type Benchmark } from './lib/report.ts';
import { fmt, gaps, maxInWindow } from './lib/stats.ts';

const TARGET_HOST = '127.0.5.7';
const PROBER_HOST = '127.0.5.8';
const CONNECTIONS = 1000;
const TTL_MS = 3000;
const INTERVAL_MS = 5000;
const START_RESOLUTION_MS = 2;

const aliveLoad: Benchmark = async ({ quick, log }) => {
  const durationSeconds = quick ? 7 : 30;
  const fleet = await FleetClient.start();
  let result: autocannon.Result;
  let arrivals: number[];
  let started = 0;
  let finished = 0;
  let cpu: number;
  let rss: number;
  let pollFailures = 0;
  const roundStarts = new Set<number>();
  const errorSeconds = new Map<number, number>();
  const errorKinds = new Map<string, number>();
  try {
    const base = await fleet.target(TARGET_HOST);
    const prober = await startProber({
      host: PROBER_HOST,
      env: {
        KUBENURSE_CHECK_INTERVAL: `${INTERVAL_MS}ms`,
        KUBENURSE_CACHE_TTL: `${TTL_MS}ms`,
        KUBENURSE_EXTRA_CHECKS: `round:${base}/alive-round/0`,
      },
    });
    try {
      // /alive answers 500 until the first round has finished (as kubenurse): start after it.
      const until = Date.now() + 30_000;
      for (;;) {
        const answer = await fetch(`${prober.baseUrl}/alive`);
        await answer.arrayBuffer();
        if (answer.status === 200) break;
        if (Date.now() > until) throw new Error('/alive did not answer 200 within 30 s');
        await sleep(100);
      }
      log(
        `alive-load: ${CONNECTIONS} connections for ${durationSeconds} s against ${prober.baseUrl}/alive`,
      );
      const cpuBefore = cpuMs(prober.pid);
      started = Date.now();
      // The prober's own record of each round's start, read from /status.json by a light poller.
      let polling = true;
      const poller = (async () => {
        while (polling) {
          try {
            const status = (await (
              await fetch(`${prober.baseUrl}/status.json`, { signal: AbortSignal.timeout(5000) })
            ).json()) as { round?: { startedAt: string } | null };
            if (status.round) roundStarts.add(Date.parse(status.round.startedAt));
          } catch {
            pollFailures++;
          }
          await sleep(250);
        }
      })();
      result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: `${prober.baseUrl}/alive`,
            connections: CONNECTIONS,
            duration: durationSeconds,
            timeout: 10,
          },
          (error, done) =>
            error
              ? reject(error instanceof Error ? error : new Error(String(error)))
              : resolve(done),
        );
        instance.on('reqError', (error: Error & { code?: string }) => {
          const second = Math.floor((Date.now() - started) / 1000);
          errorSeconds.set(second, (errorSeconds.get(second) ?? 0) + 1);
          errorKinds.set(
            error.code ?? error.message,
            (errorKinds.get(error.code ?? error.message) ?? 0) + 1,
          );
        });
      });
      finished = Date.now();
      polling = false;
      await poller;
      cpu = cpuMs(prober.pid) - cpuBefore;
      rss = rssBytes(prober.pid) / MiB;
      arrivals = ((await fleet.stats()).arrivals['alive-round'] ?? []).filter(
        (time) => time >= started && time <= finished,
      );
    } finally {
      await prober.stop();
    }
  } finally {
    await fleet.stop();
  }

  const windows = (finished - started) / TTL_MS;
  const starts = [...roundStarts].filter((time) => time >= started - TTL_MS && time <= finished);
  // startedAt has 1 ms resolution and is stamped a moment after the scheduler decided to start
  // the round, so two starts exactly one TTL apart can read 2,999 ms apart: allow 2 ms.
  const maxRounds = maxInWindow(starts, TTL_MS - START_RESOLUTION_MS);
  const startGaps = gaps(starts);
  const minGap = startGaps.length ? Math.min(...startGaps) : Number.NaN;
  const arrivalGaps = gaps(arrivals);
  const minArrivalGap = arrivalGaps.length ? Math.min(...arrivalGaps) : Number.NaN;
  const errorTimeline = [...errorSeconds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([second, count]) => `${second} s: ${count}`)
    .join(', ');
  const kinds = [...errorKinds.entries()].map(([kind, count]) => `${kind} × ${count}`).join(', ');
  const latency = result.latency as autocannon.Histogram & { p99: number; p50: number };
  const rows = [
    ['concurrent connections', CONNECTIONS],
    ['duration', `${fmt((finished - started) / 1000, 1)} s`],
    ['requests answered', result.requests.total],
    ['requests/s (mean)', fmt(result.requests.average, 0)],
    ['latency p50 / p99 / max', `${latency.p50} / ${latency.p99} / ${latency.max} ms`],
    [
      'errors (autocannon counts a timeout as an error too) / timeouts / non-2xx',
      `${result.errors} / ${result.timeouts} / ${result.non2xx}`,
    ],
    ['errors by kind', kinds || 'none'],
    ['errors by second of the run', errorTimeline || 'none'],
    ['rounds executed (check requests seen at the target)', arrivals.length],
    [
      'rounds started (distinct round.startedAt in /status.json, polled every 250 ms)',
      `${starts.length} (${pollFailures} failed polls)`,
    ],
    [`TTL windows (${TTL_MS / 1000} s) in the run`, fmt(windows, 1)],
    [
      `most rounds started in any TTL window (prober clock; window ${TTL_MS - START_RESOLUTION_MS} ms for the 1 ms timestamp resolution)`,
      maxRounds,
    ],
    ['shortest gap between two round starts (prober clock)', `${fmt(minGap, 0)} ms`],
    [
      'shortest gap between two check requests at the target',
      `${fmt(minArrivalGap, 0)} ms (includes connect jitter)`,
    ],
    [
      'prober CPU during the run',
      `${fmt(cpu, 0)} ms (${fmt((cpu / (finished - started)) * 100, 0)} % of one core)`,
    ],
    ['prober RSS at the end', `${fmt(rss, 1)} MiB`],
  ];
  const markdown = [
    `One prober (production bundle, \`KUBENURSE_CHECK_INTERVAL=${INTERVAL_MS / 1000}s\`, ` +
      `\`KUBENURSE_CACHE_TTL=${TTL_MS / 1000}s\`, one extra check whose target on ${TARGET_HOST} ` +
      `records each request: one request = one round). autocannon in the benchmark process opens ` +
      `${CONNECTIONS} keep-alive connections to \`/alive\` for ${durationSeconds} s. Both share ` +
      `the machine's CPUs, so latency includes autocannon's own load.`,
    '',
    table(['figure', 'value'], rows),
  ].join('\n');
  return {
    id: 'alive-load',
    title: '5. /alive under load',
    command: 'npm run bench -- --only alive-load',
    goals: [
      {
        what: '/alive under 1,000 callers: most rounds in one TTL window',
        target: '1',
        measured: String(maxRounds),
        met: maxRounds === 1,
      },
      {
        what: '/alive under 1,000 callers: failed requests (errors, timeouts included)',
        target: '0',
        measured: String(result.errors),
        met: result.errors === 0,
      },
    ],
    markdown,
    data: {
      connections: CONNECTIONS,
      durationMs: finished - started,
      requests: result.requests,
      latency: result.latency,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      rounds: arrivals.length,
      roundStarts: starts,
      windows,
      maxRounds,
      minGap,
      minArrivalGap,
      errorSeconds: Object.fromEntries(errorSeconds),
      errorKinds: Object.fromEntries(errorKinds),
      cpuMs: cpu,
      rssMiB: rss,
    },
  };
};

if (isMain(import.meta.url)) await runStandalone(aliveLoad);
