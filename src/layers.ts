// Per-neighbour layer verdicts (docs/layers.md): after every round, the outcomes of the path_,
// node_ and per-family checks of each selected neighbour go through verdict(); the result is
// a gauge and a field of the round that /alive (neighbour_verdicts), the status page and
// `check` read.
import type { RoundResult } from './checks/round.ts';
import type { RoundExecutor } from './checks/scheduler.ts';
import type { CheckOutcome } from './checks/types.ts';
import type { NeighbourPlan } from './checks/node-paths.ts';
import type { ProbeMetrics } from './metrics.ts';
import { reachOf, verdict, type Verdict } from './verdict.ts';

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

export class LayerDiagnosis {
  private readonly metrics: ProbeMetrics;
  private readonly plans: PlanSource;

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
    return { ...result, verdicts };
  }
}
