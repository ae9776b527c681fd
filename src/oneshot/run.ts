// One check round without a server: the same components the prober wires in app.ts
// (built-in checks, neighbour discovery, kube-proxy scrape, RoundRunner), run once.
import type { Config } from '../config.ts';
import type { ProberContext } from '../context.ts';
import { builtinChecks } from '../checks/builtin.ts';
import { RoundRunner, type RoundResult } from '../checks/round.ts';
import type { AliveContributor, CheckSource } from '../checks/types.ts';
import type { Logger } from '../log.ts';
import { ProbeMetrics } from '../metrics.ts';
import { Prober } from '../probe/http.ts';
import { buildTrust } from '../probe/tls.ts';
import { aliveExtras, type AliveExtras } from '../status/snapshot.ts';

/** Same slack as the prober's rounds (app.ts). */
const ROUND_SLACK_MS = 1000;
/** Discovery lists pods and nodes once before the round; a slow apiserver gets this long. */
export const DISCOVERY_WAIT_MS = 10_000;
const DISCOVERY_STARTING = 'neighbour discovery starting';

export interface OneShotResult {
  readonly round: RoundResult;
  /** undefined when KUBENURSE_CHECK_NEIGHBOURHOOD=false. */
  readonly neighbourhoodState: string | undefined;
  readonly extras: AliveExtras;
}

async function waitForDiscovery(contributor: AliveContributor, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = contributor.aliveFields().neighbourhood_state;
    if (typeof state !== 'string' || !state.startsWith(DISCOVERY_STARTING)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function runOnce(config: Config, logger: Logger, discoveryWaitMs = DISCOVERY_WAIT_MS): Promise<OneShotResult> {
  const trust = buildTrust(config);
  const metrics = new ProbeMetrics({ buckets: config.histogramBuckets, legacyMetrics: false, incomingChecks: () => 0 });
  const prober = new Prober({ metrics, trust, timeoutMs: config.checkTimeout, reuseConnections: config.reuseConnections });
  const ctx: ProberContext = { config, metrics, logger, prober };

  const sources: CheckSource[] = [builtinChecks(ctx)];
  const contributors: AliveContributor[] = [];
  const neighbourhood = config.checkNeighbourhood ? (await import('../neighbours/index.ts')).createNeighbourhood(ctx) : undefined;
  if (neighbourhood) {
    sources.push(neighbourhood);
    contributors.push(neighbourhood);
  }
  const kubeProxy = (await import('../kubeproxy/index.ts')).createKubeProxyMonitor(ctx);
  if (kubeProxy) {
    sources.push(kubeProxy);
    contributors.push(kubeProxy);
  }

  try {
    if (neighbourhood) {
      neighbourhood.start();
      await waitForDiscovery(neighbourhood, discoveryWaitMs);
    }
    const runner = new RoundRunner({ sources, metrics, logger, roundTimeoutMs: config.checkTimeout + ROUND_SLACK_MS });
    const round = await runner.run();
    const extras = aliveExtras(contributors);
    return { round, neighbourhoodState: neighbourhood ? (extras.neighbourhoodState ?? 'unknown') : undefined, extras };
  } finally {
    await neighbourhood?.stop();
    await prober.close();
  }
}
