// A process that only runs our probe (src/probe/http.ts, the prober's own code) on request,
// so its timings are not disturbed by the benchmark's bookkeeping. Forked by DriverClient.
import { performance } from 'node:perf_hooks';
import { DEFAULT_BUCKETS } from '../../src/config.ts';
import { ProbeMetrics } from '../../src/metrics.ts';
import { Prober } from '../../src/probe/http.ts';

export interface DriverProbe {
  readonly ok: boolean;
  readonly error?: string;
  /** outcome.durationMs: probe start → response headers (what the request histogram records). */
  readonly firstByteMs: number;
  /** probe() call start → body read and connection released. */
  readonly totalMs: number;
  /** Trace events, ms since probe start. */
  readonly phases: Record<string, number>;
}

const metrics = new ProbeMetrics({
  buckets: DEFAULT_BUCKETS,
  legacyMetrics: false,
  incomingChecks: () => 0,
});
const prober = new Prober({
  metrics,
  trust: { ca: [], insecure: false },
  timeoutMs: 5000,
  reuseConnections: false,
});

async function probe(url: string): Promise<DriverProbe> {
  const start = performance.now();
  const { outcome } = await prober.probe({ type: 'bench', url });
  const totalMs = performance.now() - start;
  if (outcome.status === 'skipped')
    return { ok: false, error: 'skipped', firstByteMs: Number.NaN, totalMs, phases: {} };
  const phases = (outcome.phases ?? {}) as Record<string, number>;
  if (outcome.status === 'error')
    return { ok: false, error: outcome.message, firstByteMs: outcome.durationMs, totalMs, phases };
  return { ok: true, firstByteMs: outcome.durationMs, totalMs, phases };
}

process.on('message', (raw) => {
  const { seq, url } = raw as { seq: number; url: string };
  void probe(url).then((result) => process.send?.({ seq, result }));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ seq: 0, result: 'ready' });
