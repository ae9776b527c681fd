// Wiring: builds every component from a Config and owns the start/stop order.
import type { Config } from './config.ts';
import { configSummary } from './config.ts';
import type { ProberContext } from './context.ts';
import { builtinChecks } from './checks/builtin.ts';
import { RoundRunner } from './checks/round.ts';
import { Scheduler } from './checks/scheduler.ts';
import type { AliveContributor, CheckSource } from './checks/types.ts';
import { IncomingChecks } from './incoming.ts';
import type { Logger } from './log.ts';
import { ProbeMetrics } from './metrics.ts';
import { Prober } from './probe/http.ts';
import { buildTrust } from './probe/tls.ts';
import { startServer, type RunningServer } from './server.ts';
import { StatusPage } from './status/index.ts';

/** Slack on top of the per-request deadline before a whole round is cut off. */
const ROUND_SLACK_MS = 1000;

export interface App {
  readonly scheduler: Scheduler;
  readonly server: RunningServer;
  /** /ready goes 503 now; the caller waits the shutdown duration, then calls stop(). */
  beginShutdown(): void;
  stop(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  logger.info({ config: configSummary(config) }, 'starting kubenurse-ts');
  if (config.exposeMetadata) logger.warn('KUBENURSE_EXPOSE_METADATA is accepted for compatibility but not supported; ignoring it');
  if (config.victoriaMetricsHistogram) logger.warn('KUBENURSE_VICTORIAMETRICS_HISTOGRAM is accepted for compatibility but not supported; Prometheus histograms are exported');

  const trust = buildTrust(config);
  if (!trust.serviceAccountCa) logger.info({ dir: config.serviceAccountDir }, 'no service-account ca.crt; trusting system roots and KUBENURSE_EXTRA_CA only');
  const incoming = new IncomingChecks();
  const metrics = new ProbeMetrics({ buckets: config.histogramBuckets, legacyMetrics: config.legacyMetrics, incomingChecks: () => incoming.count() });
  const prober = new Prober({ metrics, trust, timeoutMs: config.checkTimeout, reuseConnections: config.reuseConnections, proxy: config.proxy });
  const ctx: ProberContext = { config, metrics, logger, prober };

  const sources: CheckSource[] = [builtinChecks(ctx)];
  const contributors: AliveContributor[] = [];

  const neighbourhood = config.checkNeighbourhood ? (await import('./neighbours/index.ts')).createNeighbourhood(ctx) : undefined;
  if (neighbourhood) {
    sources.push(neighbourhood);
    contributors.push(neighbourhood);
  } else {
    contributors.push({ aliveFields: () => ({ neighbourhood_state: 'skipped', neighbourhood: [] }) });
  }

  const kubeProxy = (await import('./kubeproxy/index.ts')).createKubeProxyMonitor(ctx);
  if (kubeProxy) {
    sources.push(kubeProxy);
    contributors.push(kubeProxy);
  }

  const runner = new RoundRunner({ sources, metrics, logger, roundTimeoutMs: config.checkTimeout + ROUND_SLACK_MS });
  const status = new StatusPage({ config, logger, metrics, contributors, nodeName: () => neighbourhood?.ownNode() ?? config.nodeName });
  const scheduler = new Scheduler({ executor: status.observe(runner), intervalMs: config.checkInterval, cacheTtlMs: config.cacheTtl, logger });

  let shuttingDown = false;
  const server = await startServer({
    config,
    logger,
    scheduler,
    metrics,
    incoming,
    contributors,
    ready: () => !shuttingDown && (neighbourhood?.nodeReady() ?? true),
    extend: (app) => status.mount(app, scheduler),
  });
  neighbourhood?.start();
  scheduler.start();
  logger.info({ bind: config.bindAddress, port: config.port, tlsPort: config.useTls ? config.tlsPort : undefined }, 'listening');

  return {
    scheduler,
    server,
    beginShutdown() {
      shuttingDown = true;
    },
    async stop() {
      shuttingDown = true;
      await scheduler.stop();
      await neighbourhood?.stop();
      await server.close();
      await status.close();
      await prober.close();
    },
  };
}
