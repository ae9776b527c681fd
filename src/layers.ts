// Per-neighbour layer verdicts (docs/layers.md): after every round, the outcomes of the path_,
// node_ and per-family checks of each selected neighbour go through verdict(); the result is
// a gauge, an /alive key and a field of the round that the status page and `check` read.
import type { RoundResult } from './checks/round.ts';
import type { RoundExecutor } from './checks/scheduler.ts';
import type { AliveContributor, CheckOutcome } from './checks/types.ts';
import type { NeighbourPlan } from './checks/node-paths.ts';
import { dictionary } from './dictionary.ts';
import type { ProbeMetrics } from './metrics.ts';
import { reachOf, verdict, type Verdict } from './verdict.ts';

/** The additive /alive key: neighbour node → { layer, detail }. */
export const ALIVE_VERDICTS_KEY = 'neighbour_verdicts';

export function verdictsOf(
  plans: readonly NeighbourPlan[],
  outcomes: ReadonlyMap<string, CheckOutcome>,
): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  const outcome = (type: string | undefined) =>
    type === undefined ? undefined : outcomes.get(type);
  for (const plan of plans) {
    out.set(
      plan.node,
      verdict(
        plan.families.map(({ family, podType, nodeType }) => ({
          family,
          pod: reachOf(outcome(podType)),
          node: reachOf(outcome(nodeType)),
        })),
      ),
    );
  }
  return out;
}

export interface PlanSource {
  /** The plan of the round that just ran (read right after it, before the next starts). */
  plan(): readonly NeighbourPlan[];
}

export class LayerDiagnosis implements AliveContributor {
  private readonly metrics: ProbeMetrics;
  private readonly plans: PlanSource;
  private last: ReadonlyMap<string, Verdict> = new Map();

  constructor(metrics: ProbeMetrics, plans: PlanSource) {
    this.metrics = metrics;
    this.plans = plans;
  }

  /** The same rounds, each with its verdicts attached and exported. */
  observe(executor: RoundExecutor): RoundExecutor {
    return {
      run: async (signal) => {
        const result = await executor.run(signal);
        return this.judge(result);
      },
    };
  }

  judge(result: RoundResult): RoundResult {
    const verdicts = verdictsOf(this.plans.plan(), result.outcomes);
    this.metrics.setVerdicts(verdicts);
    this.last = verdicts;
    return { ...result, verdicts };
  }

  aliveFields(): Record<string, unknown> {
    const byNode = dictionary<{ layer: string; detail: string }>();
    for (const [node, { layer, detail }] of this.last) byNode[node] = { layer, detail };
    return { [ALIVE_VERDICTS_KEY]: byNode };
  }
}
