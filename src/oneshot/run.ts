// One check round without a server: the same components the prober wires in app.ts
// (built-in checks, neighbour discovery, kube-proxy scrape, RoundRunner), run once.
import type { Config } from '../config.ts';
import type { RoundResult } from '../checks/round.ts';
import type { AliveContributor } from '../checks/types.ts';
import { buildComponents } from '../components.ts';
import type { Logger } from '../log.ts';
import { aliveExtras, type AliveExtras } from '../status/snapshot.ts';

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

export async function runOnce(
  config: Config,
  logger: Logger,
  discoveryWaitMs = DISCOVERY_WAIT_MS,
): Promise<OneShotResult> {
  const { ctx, runner, contributors, neighbourhood } = await buildComponents(config, logger, {
    legacyMetrics: false,
    incomingChecks: () => 0,
  });
  try {
    if (neighbourhood) {
      neighbourhood.start();
      await waitForDiscovery(neighbourhood, discoveryWaitMs);
    }
    const round = await runner.run();
    const extras = aliveExtras(contributors);
    return {
      round,
      neighbourhoodState: neighbourhood ? (extras.neighbourhoodState ?? 'unknown') : undefined,
      extras,
    };
  } finally {
    await neighbourhood?.stop();
    await ctx.prober.close();
  }
}
