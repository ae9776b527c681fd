// Wiring: builds every component from a Config and owns the start/stop order.
import type { Config } from './config.ts';
import { configSummary } from './config.ts';
import { Scheduler } from './checks/scheduler.ts';
import { buildComponents } from './components.ts';
import { IncomingChecks } from './incoming.ts';
import type { Logger } from './log.ts';
import { startServer, type RunningServer } from './server.ts';
import { StatusPage } from './status/index.ts';

export interface App {
  readonly scheduler: Scheduler;
  readonly server: RunningServer;
  /** /ready goes 503 now; the caller waits the shutdown duration, then calls stop(). */
  beginShutdown(): void;
  stop(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  logger.info({ config: configSummary(config) }, 'starting kubenurse-ts');
  if (config.exposeMetadata)
    logger.warn(
      'KUBENURSE_EXPOSE_METADATA is accepted for compatibility but not supported; ignoring it',
    );

  const incoming = new IncomingChecks();
  const { ctx, runner, state, neighbourhood } = await buildComponents(config, logger, {
    legacyMetrics: config.legacyMetrics,
    incomingChecks: () => incoming.count(),
  });
  const { metrics, prober } = ctx;

  const status = new StatusPage({
    config,
    logger,
    metrics,
    state,
    nodeName: () => neighbourhood?.ownNode() ?? config.nodeName,
  });
  const scheduler = new Scheduler({
    executor: status.observe(runner),
    intervalMs: config.checkIntervalMs,
    cacheTtlMs: config.cacheTtlMs,
    logger,
  });

  let shuttingDown = false;
  const server = await startServer({
    config,
    logger,
    scheduler,
    metrics,
    incoming,
    state,
    ready: () => !shuttingDown && (neighbourhood?.nodeReady() ?? true),
    extend: (app) => status.mount(app, scheduler),
  });
  neighbourhood?.start();
  scheduler.start();
  logger.info(
    {
      bind: server.address,
      port: config.port,
      tlsPort: config.useTls ? config.tlsPort : undefined,
    },
    'listening',
  );

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
