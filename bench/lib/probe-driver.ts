// A process that only runs probes on request, so their timings are not disturbed by the
// benchmark's bookkeeping. Forked by DriverClient with the image's Node flags and env.
//   ours — src/probe/http.ts, the prober's own Prober (fresh connection per probe); a burst
//          of several URLs runs as one round of the prober's own RoundRunner, checks
//          started together, metrics and logging included, as in production;
//   bare — the floor of Node itself: net.connect, a hand-written GET, the first 'data' chunk
//          stamped as the first byte. No undici, no parser, no metrics: what any Node prober
//          pays for the event loop, libuv and the stream machinery.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RoundRunner } from '../../src/checks/round.ts';
import type { Check } from '../../src/checks/types.ts';
import { DEFAULT_BUCKETS } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { ProbeMetrics } from '../../src/metrics.ts';
import { Prober } from '../../src/probe/http.ts';

export type DriverMode = 'ours' | 'bare';

export interface DriverProbe {
  readonly ok: boolean;
  readonly error?: string;
  /**
   * Probe start → the first response byte read from the connection: got_first_resp_byte, what
   * Go's GotFirstResponseByte (and so blackbox_exporter's processing phase) ends at.
   */
  readonly firstByteMs: number;
  /** ours: outcome.durationMs, probe start → headers parsed (what the request histogram records). */
  readonly headersMs?: number;
  /** probe() call start → body read and connection released. */
  readonly totalMs: number;
  /** Trace events, ms since probe start. */
  readonly phases: Record<string, number>;
}

export interface DriverRequest {
  readonly seq: number;
  readonly mode: DriverMode;
  /** Probed all at once; one result per URL, in order. */
  readonly urls: readonly string[];
}

const metrics = new ProbeMetrics({
  buckets: DEFAULT_BUCKETS,
  legacyMetrics: false,
  incomingChecks: () => 0,
});
const logger = createLogger('silent');
const prober = new Prober({
  metrics,
  trust: { ca: [], insecure: false },
  timeoutMs: 5000,
  reuseConnections: false,
});

async function probeOurs(url: string): Promise<DriverProbe> {
  const start = performance.now();
  const { outcome } = await prober.probe({ type: 'bench', url });
  const totalMs = performance.now() - start;
  if (outcome.status === 'skipped')
    return { ok: false, error: 'skipped', firstByteMs: Number.NaN, totalMs, phases: {} };
  const phases = (outcome.phases ?? {}) as Record<string, number>;
  const firstByteMs = phases.got_first_resp_byte ?? outcome.durationMs;
  if (outcome.status === 'error')
    return { ok: false, error: outcome.message, firstByteMs, totalMs, phases };
  return { ok: true, firstByteMs, headersMs: outcome.durationMs, totalMs, phases };
}

/** Every URL as one check of one round, the way the prober runs its checks. */
async function roundOurs(urls: readonly string[]): Promise<DriverProbe[]> {
  const checks: Check[] = urls.map((url, i) => ({
    type: `burst_${i}`,
    run: async (signal) => (await prober.probe({ type: `burst_${i}`, url }, signal)).outcome,
  }));
  const runner = new RoundRunner({
    sources: [{ checks: () => checks }],
    metrics,
    logger,
    roundTimeoutMs: 10_000,
  });
  const start = performance.now();
  const { outcomes } = await runner.run();
  const totalMs = performance.now() - start;
  return checks.map(({ type }) => {
    const outcome = outcomes.get(type);
    if (outcome === undefined || outcome.status === 'skipped')
      return { ok: false, error: 'no outcome', firstByteMs: Number.NaN, totalMs, phases: {} };
    const phases = (outcome.phases ?? {}) as Record<string, number>;
    const firstByteMs = phases.got_first_resp_byte ?? outcome.durationMs;
    return outcome.status === 'ok'
      ? { ok: true, firstByteMs, headersMs: outcome.durationMs, totalMs, phases }
      : { ok: false, error: outcome.message, firstByteMs, totalMs, phases };
  });
}

/** One GET over a fresh connection; the response is complete after its headers and 3 bytes ("ok\n"). */
function probeBare(url: string): Promise<DriverProbe> {
  const { hostname, port, pathname, search, host } = new URL(url);
  const start = performance.now();
  const phases: Record<string, number> = {};
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    const finish = (ok: boolean, error?: string) => {
      socket.destroy();
      const totalMs = performance.now() - start;
      resolve({
        ok,
        error,
        firstByteMs: phases.got_first_resp_byte ?? Number.NaN,
        totalMs,
        phases,
      });
    };
    socket.once('connect', () => {
      phases.connect_done = performance.now() - start;
      phases.got_conn = phases.connect_done;
    });
    socket.on('data', (chunk: Buffer) => {
      phases.got_first_resp_byte ??= performance.now() - start;
      received += chunk.toString('latin1');
      const headerEnd = received.indexOf('\r\n\r\n');
      if (headerEnd >= 0 && received.length >= headerEnd + 4 + 3)
        finish(received.startsWith('HTTP/1.1 200 '), received.slice(0, 40));
    });
    socket.once('error', (error) => finish(false, error.message));
    socket.once('end', () => finish(false, 'connection closed early'));
    phases.connect_start = performance.now() - start;
    socket.write(`GET ${pathname}${search} HTTP/1.1\r\nhost: ${host}\r\nuser-agent: bare\r\n\r\n`);
  });
}

process.on('message', (raw) => {
  const { seq, mode, urls } = raw as DriverRequest;
  const results =
    mode === 'bare'
      ? Promise.all(urls.map((url) => probeBare(url)))
      : urls.length === 1
        ? Promise.all([probeOurs(urls[0] as string)])
        : roundOurs(urls);
  void results.then((list) => process.send?.({ seq, results: list }));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ seq: 0, results: [] });
