// Node flags compared in pairs (issue #17): the production bundle probing as in the CPU
// benchmark (20 extra checks at a 1 s interval against one target), once with the image's
// runtime and once with extra flags, taking turns, N pairs. Per run: CPU per probe over the
// window and RSS at its end, so a memory saving is weighed against its CPU cost in one run.
//
//   npm exec -- node bench/flag-pairs.ts --extra=--lite-mode [--pairs 3] [--window 20]
//
// Not part of `npm run bench`; figures recorded in BENCHMARKS.md 2b with this command.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { FleetClient } from './lib/fleet-client.ts';
import { cpuMs, MiB, rssBytes } from './lib/proc.ts';
import { describeImageRuntime, IMAGE_RUNTIME } from './lib/image-runtime.ts';
import { startProber } from './lib/prober-process.ts';
import { fmt } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    extra: { type: 'string', multiple: true, default: [] },
    pairs: { type: 'string', default: '3' },
    window: { type: 'string', default: '20' },
  },
});
const PROBES_PER_ROUND = 20;
const windowMs = Number(values.window) * 1000;
const warmupMs = 5000;

const fleet = await FleetClient.start();
const lines = [
  `image runtime: ${describeImageRuntime()}; extra: ${values.extra.join(' ')}; window ${windowMs / 1000} s`,
  '| run | flags | probes | CPU ms per probe | RSS MiB at end |',
  '| --- | --- | --- | --- | --- |',
];
try {
  const base = await fleet.target('127.0.5.3');
  const extraChecks = Array.from(
    { length: PROBES_PER_ROUND },
    (_, i) => `c${i}:${base}/flags/0?c=${i}`,
  ).join('|');
  for (let pair = 0; pair < Number(values.pairs); pair++) {
    for (const extra of pair % 2 === 0 ? [false, true] : [true, false]) {
      const prober = await startProber({
        host: '127.0.5.5',
        nodeFlags: [...IMAGE_RUNTIME.nodeFlags, ...(extra ? values.extra : [])],
        env: {
          ...IMAGE_RUNTIME.env,
          KUBENURSE_CHECK_INTERVAL: '1s',
          KUBENURSE_CACHE_TTL: '0s',
          KUBENURSE_EXTRA_CHECKS: extraChecks,
        },
      });
      try {
        await sleep(warmupMs);
        await fleet.stats(true);
        const before = cpuMs(prober.pid);
        await sleep(windowMs);
        const used = cpuMs(prober.pid) - before;
        const probes = (await fleet.stats(true)).counts.flags ?? 0;
        const flags = extra ? values.extra.join(' ') : 'image';
        const rss = fmt(rssBytes(prober.pid) / MiB, 1);
        lines.push(`| ${pair + 1} | ${flags} | ${probes} | ${fmt(used / probes, 3)} | ${rss} |`);
      } finally {
        await prober.stop();
      }
    }
  }
} finally {
  await fleet.stop();
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
