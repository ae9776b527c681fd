// Benchmark 1: timing accuracy of our probe against the truth, against blackbox_exporter and
// against the floor of bare Node.
//
// A target server (own process) waits a known time before answering. Three probers probe it
// in turn, one probe at a time, N times per delay, each over a fresh connection: ours (the
// prober's own Prober class), bare Node (net.connect + a hand-written GET, first 'data' chunk)
// — both in driver processes started with the image's Node flags and env — and
// blackbox_exporter's http_2xx module. The target records the hold it really applied per
// request id, so each error is reported both against the nominal injected delay and against
// that actual hold. A second part fires bursts of probes at once, as a round does, and
// compares each probe's error with a lone probe's.
import { startBlackbox, BLACKBOX_PHASES, type RunningBlackbox } from './lib/blackbox.ts';
import { DriverClient } from './lib/driver-client.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { describeImageRuntime, IMAGE_RUNTIME } from './lib/image-runtime.ts';
import type { DriverProbe } from './lib/probe-driver.ts';
import { isMain, runStandalone, table, type Benchmark, type Goal } from './lib/report.ts';
import { fmt, summarize, type Summary } from './lib/stats.ts';

const TARGET_HOST = '127.0.5.1';
const BLACKBOX_HOST = '127.0.5.2';
/** 20 ms: the hold of the side-by-side comparison in issue #17. */
const DELAYS_MS = [0, 20, 200] as const;
const WARMUP = 5;
/** Probes in one burst: about what a round starts at once (K = 10 neighbours). */
const BURST = 10;
const BURST_DELAY_MS = 20;

const PROBERS = ['ours', 'bare', 'blackbox'] as const;
type ProberName = (typeof PROBERS)[number];
const LABELS: Record<ProberName, string> = {
  ours: 'kubenurse-ts',
  bare: 'bare Node (net, first data)',
  blackbox: 'blackbox_exporter',
};

interface Sample {
  readonly key: string;
  readonly firstByteMs: number;
  /** ours: headers parsed (the request duration); undefined for the others. */
  readonly headersMs?: number;
  readonly totalMs: number;
  holdMs: number;
  readonly phases: Record<'resolve' | 'connect' | 'tls' | 'processing' | 'transfer', number>;
}

/** Our trace events (ms since start) → blackbox's phase split, computed the way blackbox does. */
export function oursAsBlackboxPhases(
  events: Readonly<Record<string, number>>,
  totalMs: number,
): Sample['phases'] {
  const dnsDone = events.dns_done ?? events.connect_start ?? 0;
  const resolve =
    events.dns_done !== undefined && events.dns_start !== undefined
      ? events.dns_done - events.dns_start
      : 0;
  const gotConn = events.got_conn ?? Number.NaN;
  const tls = events.tls_handshake_done !== undefined ? gotConn - dnsDone : 0;
  const firstByte = events.got_first_resp_byte ?? Number.NaN;
  return {
    resolve,
    connect: (events.connect_done ?? gotConn) - dnsDone,
    tls,
    processing: firstByte - gotConn,
    transfer: totalMs - firstByte,
  };
}

function driverSample(key: string, result: DriverProbe): Sample {
  return {
    key,
    firstByteMs: result.firstByteMs,
    headersMs: result.headersMs,
    totalMs: result.totalMs,
    holdMs: Number.NaN,
    phases: oursAsBlackboxPhases(result.phases, result.totalMs),
  };
}

async function blackboxSample(
  blackbox: RunningBlackbox,
  key: string,
  url: string,
): Promise<Sample | undefined> {
  const result = await blackbox.probe(url);
  if (!result.success) return undefined;
  const p = result.phases;
  const phases = {
    resolve: p.resolve * 1000,
    connect: p.connect * 1000,
    tls: p.tls * 1000,
    processing: p.processing * 1000,
    transfer: p.transfer * 1000,
  };
  return {
    key,
    firstByteMs: phases.resolve + phases.connect + phases.tls + phases.processing,
    totalMs: result.durationSeconds * 1000,
    holdMs: Number.NaN,
    phases,
  };
}

export const accuracy: Benchmark = async ({ quick, log }) => {
  const n = quick ? 20 : 200;
  const bursts = quick ? 4 : 30;
  const fleet = await FleetClient.start();
  const drivers = {
    ours: await DriverClient.start(IMAGE_RUNTIME),
    bare: await DriverClient.start(IMAGE_RUNTIME),
  };
  const blackbox = await startBlackbox(BLACKBOX_HOST);
  const samples = new Map<string, Sample[]>();
  const lone = (who: ProberName, delay: number) => `${who} ${delay}`;
  const burstKey = (who: ProberName) => `${who} burst`;
  const failures: Record<ProberName, number> = { ours: 0, bare: 0, blackbox: 0 };
  try {
    const base = await fleet.target(TARGET_HOST);
    let id = 0;
    /** Probes `count` URLs at once with `who`; kept samples go to `into`. */
    const run = async (who: ProberName, delay: number, count: number, into?: string) => {
      const keys = Array.from({ length: count }, () => `${who[0]}${++id}`);
      const urls = keys.map((key) => `${base}/acc/${delay}?id=${key}`);
      const results =
        who === 'blackbox'
          ? await Promise.all(
              urls.map((url, i) => blackboxSample(blackbox, keys[i] as string, url)),
            )
          : (await drivers[who].burst(urls, who)).map((result, i) =>
              result.ok ? driverSample(keys[i] as string, result) : undefined,
            );
      for (const sample of results) {
        if (!sample) failures[who]++;
        else if (into) samples.get(into)?.push(sample);
      }
    };
    for (const who of PROBERS) {
      for (const delay of DELAYS_MS) samples.set(lone(who, delay), []);
      samples.set(burstKey(who), []);
    }
    log(`accuracy: ${n} probes per delay and prober, delays ${DELAYS_MS.join(', ')} ms`);
    for (let i = -WARMUP; i < n; i++) {
      for (const delay of DELAYS_MS) {
        // Rotate who goes first so that no prober always probes right after the same other.
        for (let k = 0; k < PROBERS.length; k++) {
          const who = PROBERS[
            (((i + k) % PROBERS.length) + PROBERS.length) % PROBERS.length
          ] as ProberName;
          await run(who, delay, 1, i >= 0 ? lone(who, delay) : undefined);
        }
      }
    }
    log(`accuracy: ${bursts} bursts of ${BURST} probes at once per prober, ${BURST_DELAY_MS} ms`);
    for (let i = -1; i < bursts; i++) {
      for (let k = 0; k < PROBERS.length; k++) {
        const who = PROBERS[
          (((i + k) % PROBERS.length) + PROBERS.length) % PROBERS.length
        ] as ProberName;
        await run(who, BURST_DELAY_MS, BURST, i >= 0 ? burstKey(who) : undefined);
      }
    }
    const { holds } = await fleet.stats();
    for (const list of samples.values())
      for (const sample of list) sample.holdMs = holds[sample.key] ?? Number.NaN;
  } finally {
    await blackbox.stop();
    await drivers.ours.stop();
    await drivers.bare.stop();
    await fleet.stop();
  }

  const overHold = (list: readonly Sample[]) =>
    summarize(list.map((x) => x.firstByteMs - x.holdMs).filter(Number.isFinite));
  const rows: (string | number)[][] = [];
  const phaseRows: (string | number)[][] = [];
  const goals: Goal[] = [];
  const data: Record<string, unknown> = { n, bursts, burst: BURST, failures };
  for (const delay of DELAYS_MS) {
    const summaries: Partial<Record<ProberName, Record<string, Summary>>> = {};
    for (const who of PROBERS) {
      const list = samples.get(lone(who, delay)) ?? [];
      const s = {
        firstByteVsInjected: summarize(list.map((x) => x.firstByteMs - delay)),
        firstByteVsHold: overHold(list),
        headersVsHold: summarize(
          list.map((x) => (x.headersMs ?? Number.NaN) - x.holdMs).filter(Number.isFinite),
        ),
        totalVsInjected: summarize(list.map((x) => x.totalMs - delay)),
        holdSlack: summarize(list.map((x) => x.holdMs - delay).filter(Number.isFinite)),
        ...Object.fromEntries(
          BLACKBOX_PHASES.map((phase) => [phase, summarize(list.map((x) => x.phases[phase]))]),
        ),
      } as Record<string, Summary>;
      summaries[who] = s;
      rows.push([
        `${delay} ms`,
        LABELS[who],
        s.firstByteVsHold?.n ?? 0,
        fmt(s.firstByteVsHold?.p50, 3),
        fmt(s.firstByteVsHold?.mean, 3),
        fmt(s.firstByteVsHold?.p99, 3),
        fmt(s.firstByteVsInjected?.p50, 3),
        fmt(s.totalVsInjected?.p50, 3),
        fmt(s.totalVsInjected?.mean, 3),
        fmt(s.holdSlack?.p50, 3),
        s.headersVsHold?.n
          ? `${fmt(s.headersVsHold.p50, 3)} / ${fmt(s.headersVsHold.mean, 3)}`
          : '–',
      ]);
      phaseRows.push([
        `${delay} ms`,
        LABELS[who],
        ...BLACKBOX_PHASES.map((phase) => `${fmt(s[phase]?.p50, 3)} / ${fmt(s[phase]?.p99, 3)}`),
      ]);
    }
    data[`delay_${delay}`] = summaries;
    const ours = summaries.ours?.firstByteVsHold;
    const bb = summaries.blackbox?.firstByteVsHold;
    goals.push({
      what: `accuracy at ${delay} ms: first byte − actual hold, p50 and mean (ours / blackbox)`,
      target: '≤ 1 ms and ≤ blackbox, both',
      measured: `p50 ${fmt(ours?.p50, 3)} / ${fmt(bb?.p50, 3)}, mean ${fmt(ours?.mean, 3)} / ${fmt(bb?.mean, 3)} ms`,
      met:
        ours !== undefined &&
        bb !== undefined &&
        ours.p50 <= 1 &&
        ours.p50 <= bb.p50 &&
        ours.mean <= bb.mean,
    });
  }

  const burstRows: (string | number)[][] = [];
  const burstData: Record<string, unknown> = {};
  for (const who of PROBERS) {
    const alone = overHold(samples.get(lone(who, BURST_DELAY_MS)) ?? []);
    const together = overHold(samples.get(burstKey(who)) ?? []);
    burstData[who] = { alone, together };
    burstRows.push([
      LABELS[who],
      together.n,
      `${fmt(alone.p50, 3)} / ${fmt(alone.mean, 3)}`,
      `${fmt(together.p50, 3)} / ${fmt(together.mean, 3)}`,
      fmt(together.p99, 3),
      fmt(together.mean - alone.mean, 3),
    ]);
  }
  data.bursts = burstData;

  const markdown = [
    `Target: a Node HTTP server in its own process on ${TARGET_HOST} that waits the injected ` +
      `delay (setTimeout) before answering 200; it also records the hold it really applied per ` +
      `request. Probers: **kubenurse-ts** = \`src/probe/http.ts\` \`Prober\` in a driver process ` +
      `(fresh connection per probe, the default); **bare Node** = \`net.connect\`, a ` +
      `hand-written GET and the first \`'data'\` chunk as the first byte, in a second driver ` +
      `process — the floor any Node prober pays for the event loop, libuv and streams; both ` +
      `drivers run with the image's runtime (\`${describeImageRuntime()}\`, read from the ` +
      `Dockerfile). **blackbox_exporter** = Debian's binary on ${BLACKBOX_HOST}, module ` +
      `\`http_2xx\` (Go creates a client per probe, so a fresh connection too), asked through ` +
      `\`/probe\`. They take turns, one probe at a time, the order rotating: ${n} kept probes ` +
      `per delay and prober after ${WARMUP} warm-up rounds. Failures: ours ${failures.ours}, ` +
      `bare ${failures.bare}, blackbox ${failures.blackbox}.`,
    '',
    'Errors in ms (nearest-rank percentiles and the mean). *First byte* is like for like, ' +
      "Go's `GotFirstResponseByte` (the first response byte read from the connection): ours = " +
      "the `got_first_resp_byte` trace event (the connection's first readable data after the " +
      'request was written); blackbox = resolve + connect + tls + processing (its processing ' +
      "phase ends at `GotFirstResponseByte`); bare = the first `'data'` chunk. *Request " +
      'duration* (last column, ours only) = `outcome.durationMs`, start → headers parsed by ' +
      'undici, what `kubenurse_httpclient_request_duration_seconds` records (Go: until ' +
      '`RoundTrip` returns). *Actual hold* subtracts what the target really waited (its timer ' +
      'fires a little late: the column before the last), so that error is only connect + ' +
      "request + response + prober overhead on loopback: the prober's own floor. *Total* = " +
      'ours: the whole `probe()` call including reading the body and closing; blackbox: ' +
      '`probe_duration_seconds`.',
    '',
    table(
      [
        'injected',
        'prober',
        'n',
        'first byte − actual hold p50',
        'mean',
        'p99',
        'first byte − injected p50',
        'total − injected p50',
        'mean',
        'target hold − injected p50',
        'request duration − actual hold p50 / mean',
      ],
      rows,
    ),
    '',
    "Phase breakdown, p50 / p99 in ms, blackbox's phase definitions " +
      '(`probe_http_duration_seconds{phase}`); ours and bare derived from trace events the same ' +
      'way: connect = got_conn − connect_start, processing = got_first_resp_byte − got_conn, ' +
      'transfer = end of the probe − got_first_resp_byte.',
    '',
    table(['injected', 'prober', ...BLACKBOX_PHASES], phaseRows),
    '',
    `**Probes started together.** ${bursts} bursts of ${BURST} probes started at once per ` +
      `prober (${BURST_DELAY_MS} ms hold, fresh connections; blackbox: ${BURST} concurrent ` +
      `\`/probe\` requests), taking turns with the other probers, against the lone probes at ` +
      `${BURST_DELAY_MS} ms above. First byte − actual hold in ms.`,
    '',
    table(
      [
        'prober',
        'n',
        'lone p50 / mean',
        `in a burst of ${BURST} p50 / mean`,
        'burst p99',
        'burst − lone mean',
      ],
      burstRows,
    ),
  ].join('\n');

  return {
    id: 'accuracy',
    title: '1. Timing accuracy vs the truth, blackbox_exporter and bare Node',
    command: 'npm run bench -- --only accuracy',
    goals,
    markdown,
    data,
  };
};

if (isMain(import.meta.url)) await runStandalone(accuracy);
