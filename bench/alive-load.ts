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

export const aliveLoad: Benchmark = async ({ quick, log }) => {
  const durationSeconds = quick ? 7 : 30;
  const fleet = await FleetClient.start();
  let result: autocannon.Result;
  let arrivals: number[] = [];
  let started = 0;
  let finished = 0;
  let cpu = 0;
  let rss = 0;
  try {
    const base = await fleet.target(TARGET_HOST);
    const prober = await startProber({
      host: PROBER_HOST,
      env: { KUBENURSE_CHECK_INTERVAL: `${INTERVAL_MS}ms`, KUBENURSE_CACHE_TTL: `${TTL_MS}ms`, KUBENURSE_EXTRA_CHECKS: `round:${base}/alive-round/0` },
    });
    try {
      await sleep(500);
      log(`alive-load: ${CONNECTIONS} connections for ${durationSeconds} s against ${prober.baseUrl}/alive`);
      const cpuBefore = cpuMs(prober.pid);
      started = Date.now();
      result = await autocannon({ url: `${prober.baseUrl}/alive`, connections: CONNECTIONS, duration: durationSeconds, timeout: 10 });
      finished = Date.now();
      cpu = cpuMs(prober.pid) - cpuBefore;
      rss = rssBytes(prober.pid) / MiB;
      arrivals = ((await fleet.stats()).arrivals['alive-round'] ?? []).filter((time) => time >= started && time <= finished);
    } finally {
      await prober.stop();
    }
  } finally {
    await fleet.stop();
  }

  const windows = (finished - started) / TTL_MS;
  const maxRounds = maxInWindow(arrivals, TTL_MS);
  const roundGaps = gaps(arrivals);
  const minGap = roundGaps.length ? Math.min(...roundGaps) : Number.NaN;
  const latency = result.latency as autocannon.Histogram & { p99: number; p50: number };
  const rows = [
    ['concurrent connections', CONNECTIONS],
    ['duration', `${fmt((finished - started) / 1000, 1)} s`],
    ['requests answered', result.requests.total],
    ['requests/s (mean)', fmt(result.requests.average, 0)],
    ['latency p50 / p99 / max', `${latency.p50} / ${latency.p99} / ${latency.max} ms`],
    ['errors / timeouts / non-2xx', `${result.errors} / ${result.timeouts} / ${result.non2xx}`],
    ['rounds executed (seen at the check target)', arrivals.length],
    [`TTL windows (${TTL_MS / 1000} s) in the run`, fmt(windows, 1)],
    ['most rounds in any TTL window', maxRounds],
    ['shortest gap between two rounds', `${fmt(minGap, 0)} ms`],
    ['prober CPU during the run', `${fmt(cpu, 0)} ms (${fmt((cpu / (finished - started)) * 100, 0)} % of one core)`],
    ['prober RSS at the end', `${fmt(rss, 1)} MiB`],
  ];
  const markdown = [
    `One prober (production bundle, \`KUBENURSE_CHECK_INTERVAL=${INTERVAL_MS / 1000}s\`, \`KUBENURSE_CACHE_TTL=${TTL_MS / 1000}s\`, one extra check whose target on ${TARGET_HOST} records each request: one request = one round). autocannon in the benchmark process opens ${CONNECTIONS} keep-alive connections to \`/alive\` for ${durationSeconds} s. Both share the machine's CPUs, so latency includes autocannon's own load.`,
    '',
    table(['figure', 'value'], rows),
  ].join('\n');
  return {
    id: 'alive-load',
    title: '5. /alive under load',
    command: 'npm run bench -- --only alive-load',
    goals: [
      { what: '/alive under 1,000 callers: most rounds in one TTL window', target: '1', measured: String(maxRounds), met: maxRounds === 1 },
      { what: '/alive under 1,000 callers: errors + timeouts', target: '0', measured: String(result.errors + result.timeouts), met: result.errors + result.timeouts === 0 },
    ],
    markdown,
    data: { connections: CONNECTIONS, durationMs: finished - started, requests: result.requests, latency: result.latency, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, rounds: arrivals.length, windows, maxRounds, minGap, cpuMs: cpu, rssMiB: rss },
  };
};

if (isMain(import.meta.url)) await runStandalone(aliveLoad);
