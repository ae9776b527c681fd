// Benchmark 2a: CPU time per probe, ours vs blackbox_exporter, both as separate processes
// doing the same probes at the same rate against the same target.
//
// Ours: the production bundle with KUBENURSE_EXTRA_CHECKS listing PROBES_PER_ROUND checks at
// a 1 s interval, so it probes RATE times a second exactly as in production (round runner,
// metrics, logging level warn). Blackbox: every second the benchmark sends it the same
// number of concurrent /probe requests. Counted: the process's utime + stime from
// /proc/<pid>/stat over a measurement window after warm-up, divided by the probes the
// target server received from it in that window. Blackbox's figure includes serving the
// /probe HTTP request and rendering its answer; ours includes its timers, round bookkeeping
// and garbage collection: each process's whole cost for the probing it does.
import { setTimeout as sleep } from 'node:timers/promises';
import { startBlackbox } from './lib/blackbox.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { cpuMs, MiB, rssBytes } from './lib/proc.ts';
import { describeImageRuntime, IMAGE_RUNTIME } from './lib/image-runtime.ts';
import { startProber } from './lib/prober-process.ts';
import { isMain, runStandalone, table, type Benchmark } from './lib/report.ts';
import { fmt } from './lib/stats.ts';

const TARGET_HOST = '127.0.5.3';
const BLACKBOX_HOST = '127.0.5.4';
const PROBER_HOST = '127.0.5.5';
const PROBES_PER_ROUND = 20;

interface Measured {
  readonly probes: number;
  readonly cpuMs: number;
  readonly windowSeconds: number;
  readonly rssMiB: number;
}

async function measure(
  pid: number,
  fleet: FleetClient,
  tag: string,
  windowMs: number,
): Promise<Measured> {
  await fleet.stats(true);
  const cpuBefore = cpuMs(pid);
  const started = Date.now();
  await sleep(windowMs);
  const cpuAfter = cpuMs(pid);
  const elapsed = Date.now() - started;
  const stats = await fleet.stats(true);
  return {
    probes: stats.counts[tag] ?? 0,
    cpuMs: cpuAfter - cpuBefore,
    windowSeconds: elapsed / 1000,
    rssMiB: rssBytes(pid) / MiB,
  };
}

export const cpu: Benchmark = async ({ quick, log }) => {
  const windowMs = quick ? 10_000 : 60_000;
  const warmupMs = quick ? 3_000 : 10_000;
  const fleet = await FleetClient.start();
  const results: Record<string, Measured> = {};
  try {
    const base = await fleet.target(TARGET_HOST);

    log(`cpu: ours, ${PROBES_PER_ROUND} probes/s for ${windowMs / 1000} s`);
    const extra = Array.from(
      { length: PROBES_PER_ROUND },
      (_, i) => `c${i}:${base}/cpu-ours/0?c=${i}`,
    ).join('|');
    const prober = await startProber({
      host: PROBER_HOST,
      nodeFlags: IMAGE_RUNTIME.nodeFlags,
      env: {
        ...IMAGE_RUNTIME.env,
        KUBENURSE_CHECK_INTERVAL: '1s',
        KUBENURSE_CACHE_TTL: '0s',
        KUBENURSE_EXTRA_CHECKS: extra,
      },
    });
    try {
      await sleep(warmupMs);
      results.ours = await measure(prober.pid, fleet, 'cpu-ours', windowMs);
    } finally {
      await prober.stop();
    }

    log(`cpu: blackbox_exporter, ${PROBES_PER_ROUND} probes/s for ${windowMs / 1000} s`);
    const blackbox = await startBlackbox(BLACKBOX_HOST);
    let running = true;
    const loop = (async () => {
      while (running) {
        const tick = sleep(1000);
        await Promise.all(
          Array.from({ length: PROBES_PER_ROUND }, (_, i) =>
            blackbox.probe(`${base}/cpu-bb/0?c=${i}`).catch(() => undefined),
          ),
        );
        await tick;
      }
    })();
    try {
      await sleep(warmupMs);
      results.blackbox = await measure(blackbox.child.pid, fleet, 'cpu-bb', windowMs);
    } finally {
      running = false;
      await loop;
      await blackbox.stop();
    }
  } finally {
    await fleet.stop();
  }

  const perProbe = (m: Measured | undefined) =>
    m && m.probes > 0 ? m.cpuMs / m.probes : Number.NaN;
  const ours = perProbe(results.ours);
  const bb = perProbe(results.blackbox);
  const ratio = ours / bb;
  const rows = (['ours', 'blackbox'] as const).map((who) => {
    const m = results[who] as Measured;
    return [
      who === 'ours' ? 'kubenurse-ts (bundle)' : 'blackbox_exporter',
      m.probes,
      fmt(m.probes / m.windowSeconds, 1),
      fmt(m.cpuMs, 0),
      fmt(perProbe(m), 3),
      fmt((m.cpuMs / (m.windowSeconds * 1000)) * 100, 1),
      fmt(m.rssMiB, 1),
    ];
  });
  const markdown = [
    `Both probe the same target (a Node server on ${TARGET_HOST}, answering at once) at ` +
      `${PROBES_PER_ROUND} probes per second, fresh connection per probe, one after the other in ` +
      `the same run; CPU = utime + stime of the process from /proc/<pid>/stat (10 ms ticks) over ` +
      `a ${windowMs / 1000} s window after ${warmupMs / 1000} s of warm-up; probes = requests ` +
      `the target received from that process in the window.`,
    '',
    `- **kubenurse-ts**: the production bundle as the image runs it ` +
      `(\`${describeImageRuntime()}\`), \`KUBENURSE_CHECK_INTERVAL=1s\`, ` +
      `\`KUBENURSE_CACHE_TTL=0s\` (the scheduler reuses a result younger than the TTL, like ` +
      `kubenurse, so an interval below the 3 s default TTL needs a shorter TTL), ` +
      `${PROBES_PER_ROUND} \`KUBENURSE_EXTRA_CHECKS\`, everything else off. Counted: probes, ` +
      `round runner, metrics updates, timers and GC of the whole process.`,
    `- **blackbox_exporter**: ${PROBES_PER_ROUND} concurrent \`/probe?module=http_2xx\` ` +
      `requests per second from the benchmark. Counted: serving those HTTP requests, the probes ` +
      `and rendering each answer.`,
    '',
    table(
      [
        'prober',
        'probes',
        'probes/s',
        'CPU ms',
        'CPU ms per probe',
        'CPU % of one core',
        'RSS MiB at end',
      ],
      rows,
    ),
    '',
    `Ratio ours / blackbox CPU per probe: **${fmt(ratio, 2)}×**.`,
  ].join('\n');
  return {
    id: 'cpu',
    title: '2a. CPU cost per probe vs blackbox_exporter',
    command: 'npm run bench -- --only cpu',
    goals: [
      {
        what: 'CPU per probe, ours / blackbox_exporter',
        target: '≤ 2×',
        measured: `${fmt(ours, 3)} / ${fmt(bb, 3)} ms = ${fmt(ratio, 2)}×`,
        met: ratio <= 2,
      },
    ],
    markdown,
    data: {
      results,
      cpuMsPerProbe: { ours, blackbox: bb },
      ratio,
      probesPerRound: PROBES_PER_ROUND,
      windowMs,
      warmupMs,
    },
  };
};

if (isMain(import.meta.url)) await runStandalone(cpu);
