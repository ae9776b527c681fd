// Benchmark 1: timing accuracy of our probe against the truth and against blackbox_exporter.
//
// A target server (own process) waits a known time before answering. Our probe (the
// prober's own Prober class, in a driver process) and blackbox_exporter's http_2xx module
// probe it alternately, one probe at a time, N times per delay, each over a fresh connection.
// The target records the hold it really applied per request id, so each error is reported
// both against the nominal injected delay and against that actual hold.
import { startBlackbox, BLACKBOX_PHASES } from './lib/blackbox.ts';
import { DriverClient } from './lib/driver-client.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { isMain, runStandalone, table, type Benchmark, type Goal } from './lib/report.ts';
import { fmt, summarize, type Summary } from './lib/stats.ts';

const TARGET_HOST = '127.0.5.1';
const BLACKBOX_HOST = '127.0.5.2';
export const DELAYS_MS = [0, 10, 50, 200] as const;
const WARMUP = 5;

interface Sample {
  readonly firstByteMs: number;
  readonly totalMs: number;
  readonly holdMs: number;
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

export const accuracy: Benchmark = async ({ quick, log }) => {
  const n = quick ? 20 : 200;
  const fleet = await FleetClient.start();
  const driver = await DriverClient.start();
  const blackbox = await startBlackbox(BLACKBOX_HOST);
  const samples = { ours: new Map<number, Sample[]>(), blackbox: new Map<number, Sample[]>() };
  const failures = { ours: 0, blackbox: 0 };
  try {
    const base = await fleet.target(TARGET_HOST);
    let id = 0;
    const ours = async (delay: number, keep: boolean) => {
      const key = `o${++id}`;
      const result = await driver.probe(`${base}/acc/${delay}?id=${key}`);
      if (!result.ok) {
        failures.ours++;
        return;
      }
      if (keep)
        samples.ours.get(delay)?.push({
          firstByteMs: result.firstByteMs,
          totalMs: result.totalMs,
          holdMs: Number.NaN,
          phases: oursAsBlackboxPhases(result.phases, result.totalMs),
          key,
        } as Sample & { key: string });
    };
    const bb = async (delay: number, keep: boolean) => {
      const key = `b${++id}`;
      const result = await blackbox.probe(`${base}/acc/${delay}?id=${key}`);
      if (!result.success) {
        failures.blackbox++;
        return;
      }
      const p = result.phases;
      const phases = {
        resolve: p.resolve * 1000,
        connect: p.connect * 1000,
        tls: p.tls * 1000,
        processing: p.processing * 1000,
        transfer: p.transfer * 1000,
      };
      const firstByteMs = phases.resolve + phases.connect + phases.tls + phases.processing;
      if (keep)
        samples.blackbox.get(delay)?.push({
          firstByteMs,
          totalMs: result.durationSeconds * 1000,
          holdMs: Number.NaN,
          phases,
          key,
        } as Sample & { key: string });
    };
    for (const delay of DELAYS_MS) {
      samples.ours.set(delay, []);
      samples.blackbox.set(delay, []);
    }
    log(`accuracy: ${n} probes per delay and prober, delays ${DELAYS_MS.join(', ')} ms`);
    for (let i = -WARMUP; i < n; i++) {
      for (const delay of DELAYS_MS) {
        // Alternate who goes first so neither always probes right after the other.
        if (i % 2 === 0) {
          await ours(delay, i >= 0);
          await bb(delay, i >= 0);
        } else {
          await bb(delay, i >= 0);
          await ours(delay, i >= 0);
        }
      }
    }
    const { holds } = await fleet.stats();
    for (const list of [...samples.ours.values(), ...samples.blackbox.values()]) {
      for (const sample of list as (Sample & { key: string })[])
        (sample as { holdMs: number }).holdMs = holds[sample.key] ?? Number.NaN;
    }
  } finally {
    await blackbox.stop();
    await driver.stop();
    await fleet.stop();
  }

  const rows: (string | number)[][] = [];
  const phaseRows: (string | number)[][] = [];
  const goals: Goal[] = [];
  const data: Record<string, unknown> = { n, failures };
  for (const delay of DELAYS_MS) {
    const summaries: Record<string, Record<string, Summary>> = {};
    for (const who of ['ours', 'blackbox'] as const) {
      const list = samples[who].get(delay) ?? [];
      const s = {
        firstByteVsInjected: summarize(list.map((x) => x.firstByteMs - delay)),
        firstByteVsHold: summarize(
          list.map((x) => x.firstByteMs - x.holdMs).filter(Number.isFinite),
        ),
        totalVsInjected: summarize(list.map((x) => x.totalMs - delay)),
        holdSlack: summarize(list.map((x) => x.holdMs - delay).filter(Number.isFinite)),
        ...Object.fromEntries(
          BLACKBOX_PHASES.map((phase) => [phase, summarize(list.map((x) => x.phases[phase]))]),
        ),
      } as Record<string, Summary>;
      summaries[who] = s;
      const name = who === 'ours' ? 'kubenurse-ts' : 'blackbox_exporter';
      rows.push([
        `${delay} ms`,
        name,
        s.firstByteVsInjected?.n ?? 0,
        fmt(s.firstByteVsInjected?.p50, 3),
        fmt(s.firstByteVsInjected?.p99, 3),
        fmt(s.firstByteVsHold?.p50, 3),
        fmt(s.firstByteVsHold?.p99, 3),
        fmt(s.totalVsInjected?.p50, 3),
        fmt(s.totalVsInjected?.p99, 3),
        fmt(s.holdSlack?.p50, 3),
      ]);
      phaseRows.push([
        `${delay} ms`,
        name,
        ...BLACKBOX_PHASES.map((phase) => `${fmt(s[phase]?.p50, 3)} / ${fmt(s[phase]?.p99, 3)}`),
      ]);
    }
    data[`delay_${delay}`] = summaries;
    const ourP50 = summaries.ours?.firstByteVsHold?.p50 ?? Number.NaN;
    const bbP50 = summaries.blackbox?.firstByteVsHold?.p50 ?? Number.NaN;
    goals.push({
      what: `accuracy at ${delay} ms: p50 error vs actual hold (ours / blackbox)`,
      target: '≤ 1 ms and ≤ blackbox',
      measured: `${fmt(ourP50, 3)} / ${fmt(bbP50, 3)} ms`,
      met: ourP50 <= 1 && ourP50 <= bbP50,
    });
  }

  const markdown = [
    `Target: a Node HTTP server in its own process on ${TARGET_HOST} that waits the injected delay (setTimeout) before answering 200; it also records the hold it really applied per request. Probers: **kubenurse-ts** = \`src/probe/http.ts\` \`Prober\` in a driver process (fresh connection per probe, the default); **blackbox_exporter** = Debian's binary on ${BLACKBOX_HOST}, module \`http_2xx\` (Go creates a client per probe, so a fresh connection too), asked through \`/probe\`. They alternate, one probe at a time: ${n} kept probes per delay and prober after ${WARMUP} warm-up rounds. Failures: ours ${failures.ours}, blackbox ${failures.blackbox}.`,
    '',
    'Errors in ms (nearest-rank percentiles). *First byte* is like for like: ours = `outcome.durationMs` (start → response headers, what `kubenurse_httpclient_request_duration_seconds` records); blackbox = resolve + connect + tls + processing. *Total* = ours: the whole `probe()` call including reading the body and closing; blackbox: `probe_duration_seconds`. *Actual hold* subtracts what the target really waited (its timer fires a little late: last column), so that error is only connect + request + response + prober overhead on loopback.',
    '',
    table(
      [
        'injected',
        'prober',
        'n',
        'first byte − injected p50',
        'p99',
        'first byte − actual hold p50',
        'p99',
        'total − injected p50',
        'p99',
        'target hold − injected p50',
      ],
      rows,
    ),
    '',
    "Phase breakdown, p50 / p99 in ms, blackbox's phase definitions (`probe_http_duration_seconds{phase}`); ours derived from our trace events the same way: connect = got_conn − connect_start, processing = got_first_resp_byte − got_conn, transfer = end of probe() − got_first_resp_byte.",
    '',
    table(['injected', 'prober', ...BLACKBOX_PHASES], phaseRows),
  ].join('\n');

  return {
    id: 'accuracy',
    title: '1. Timing accuracy vs the truth and vs blackbox_exporter',
    command: 'npm run bench -- --only accuracy',
    goals,
    markdown,
    data,
  };
};

if (isMain(import.meta.url)) await runStandalone(accuracy);
