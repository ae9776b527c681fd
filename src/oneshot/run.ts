// One check round without a server: the same components the prober wires in app.ts
// (built-in checks, neighbour discovery, kube-proxy scrape, RoundRunner), run once.
import type { Config } from '../config.ts';
import type { RoundResult } from '../checks/round.ts';
import { buildComponents } from '../components.ts';
import type { KubeProxyAlive } from '../kubeproxy/collector.ts';
import type { Logger } from '../log.ts';
import type { Neighbourhood } from '../neighbours/index.ts';
import type { NeighbourhoodView } from '../state.ts';

/** Discovery lists pods and nodes once before the round; a slow apiserver gets this long. */
const DISCOVERY_WAIT_MS = 10_000;

export interface OneShotResult {
  readonly round: RoundResult;
  /** State `skipped` when KUBENURSE_CHECK_NEIGHBOURHOOD=false. */
  readonly neighbourhood: NeighbourhoodView;
  readonly kubeProxy: KubeProxyAlive | undefined;
}

async function waitForDiscovery(neighbourhood: Neighbourhood, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && neighbourhood.view().state.kind === 'starting')
    await new Promise((resolve) => setTimeout(resolve, 50));
}

export async function runOnce(
  config: Config,
  logger: Logger,
  discoveryWaitMs = DISCOVERY_WAIT_MS,
): Promise<OneShotResult> {
  const { ctx, runner, state, neighbourhood } = await buildComponents(config, logger, {
    legacyMetrics: false,
    incomingChecks: () => 0,
  });
  try {
    if (neighbourhood) {
      neighbourhood.start();
      await waitForDiscovery(neighbourhood, discoveryWaitMs);
    }
    const round = await runner.run();
    return { round, neighbourhood: state.neighbourhood(), kubeProxy: state.kubeProxy() };
  } finally {
    await neighbourhood?.stop();
    await ctx.prober.close();
  }
}
