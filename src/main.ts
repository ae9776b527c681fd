// Process entry: env → config (exit 2 on bad configuration), start, graceful SIGTERM.
import { setTimeout as sleep } from 'node:timers/promises';
import { configFromEnvOrExit } from './config.ts';
import { createLogger } from './log.ts';
import { startApp, type App } from './app.ts';

const config = configFromEnvOrExit();
const logger = createLogger(config.logLevel);

process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason }, 'unhandled rejection');
});

let app: App;
try {
  app = await startApp(config, logger);
} catch (error) {
  logger.fatal({ err: error }, 'could not start');
  process.exit(1);
}

/** After the drain window, at most this long to close everything (below one second). */
const STOP_BUDGET_MS = 900;

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(
    { signal, shutdownDurationMs: config.shutdownDurationMs },
    'shutting down: /ready answers 503 from now on',
  );
  app.beginShutdown();
  // Load balancers and neighbours see 503 on /ready and drain before the server goes away.
  await sleep(config.shutdownDurationMs);
  // The kubelet's grace period (15 s in our DaemonSet) is what we must stay under: whatever is
  // still not closed after the budget (a stuck client, a slow agent) is left to process.exit.
  const stopped = await Promise.race([app.stop().then(() => true), sleep(STOP_BUDGET_MS, false)]);
  if (stopped) logger.info('stopped');
  else logger.warn({ budgetMs: STOP_BUDGET_MS }, 'stop did not finish in time; exiting anyway');
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
