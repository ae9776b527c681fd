// An in-process ProberContext (config, metrics, silent logger, Prober) for tests and
// benchmarks that drive one component directly instead of starting a prober process.
// Trusts no CA, reuses no connection: each test adds what it needs on top.
import type { Logger } from '../src/log.ts';
import { createLogger } from '../src/log.ts';
import type { Config } from '../src/config.ts';
import type { ProberContext } from '../src/context.ts';
import { ProbeMetrics } from '../src/metrics.ts';
import { Prober } from '../src/probe/http.ts';

export function proberContext(
  config: Config,
  options: { logger?: Logger; timeoutMs?: number } = {},
): ProberContext {
  const metrics = new ProbeMetrics({
    buckets: config.histogramBuckets,
    legacyMetrics: false,
    incomingChecks: () => 0,
  });
  const prober = new Prober({
    metrics,
    trust: { ca: [], insecure: false },
    timeoutMs: options.timeoutMs ?? config.checkTimeoutMs,
    reuseConnections: false,
  });
  return { config, metrics, logger: options.logger ?? createLogger('silent'), prober };
}
