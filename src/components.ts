// The check components every mode needs — the long-running prober (app.ts) and the one-shot
// command (oneshot/run.ts) — built in one place so both probe exactly alike.
import type { Config } from './config.ts';
import type { ProberContext } from './context.ts';
import { builtinChecks } from './checks/builtin.ts';
import { RoundRunner } from './checks/round.ts';
import { LayerChecks } from './checks/node-paths.ts';
import type { RoundExecutor } from './checks/scheduler.ts';
import type { CheckSource } from './checks/types.ts';
import type { KubeProxyMonitor } from './kubeproxy/index.ts';
import { LayerDiagnosis } from './layers.ts';
import type { Logger } from './log.ts';
import { ProbeMetrics } from './metrics.ts';
import type { Neighbourhood } from './neighbours/index.ts';
import { Prober } from './probe/http.ts';
import { buildTrust } from './probe/tls.ts';
import { NEIGHBOURHOOD_SKIPPED, type ProberState } from './state.ts';

/** Slack on top of the per-request deadline before a whole round is cut off. */
const ROUND_SLACK_MS = 1000;

export interface Components {
  readonly ctx: ProberContext;
  /** Runs one round; with node paths or all IP families on, the round carries its verdicts. */
  readonly runner: RoundExecutor;
  readonly sources: readonly CheckSource[];
  /** The neighbourhood and kube-proxy state, typed; /alive, the status page and the one-shot read it. */
  readonly state: ProberState;
  /** undefined when KUBENURSE_CHECK_NEIGHBOURHOOD=false. */
  readonly neighbourhood: Neighbourhood | undefined;
  readonly kubeProxy: KubeProxyMonitor | undefined;
}

export interface ComponentOptions {
  readonly legacyMetrics: boolean;
  readonly incomingChecks: () => number;
}

export async function buildComponents(
  config: Config,
  logger: Logger,
  options: ComponentOptions,
): Promise<Components> {
  const trust = buildTrust(config);
  if (!trust.serviceAccountCa)
    logger.info(
      { dir: config.serviceAccountDir },
      'no service-account ca.crt; trusting system roots and KUBENURSE_EXTRA_CA only',
    );
  const metrics = new ProbeMetrics({
    buckets: config.histogramBuckets,
    legacyMetrics: options.legacyMetrics,
    victoriaMetricsHistogram: config.victoriaMetricsHistogram,
    neighbourTrace: config.neighbourTraceMetrics,
    incomingChecks: options.incomingChecks,
  });
  const prober = new Prober({
    metrics,
    trust,
    timeoutMs: config.checkTimeoutMs,
    reuseConnections: config.reuseConnections,
    proxy: config.proxy,
  });
  const ctx: ProberContext = { config, metrics, logger, prober };

  const sources: CheckSource[] = [builtinChecks(ctx)];
  // Loaded only when used: client-node is most of the prober's memory.
  const neighbourhood = config.checkNeighbourhood
    ? (await import('./neighbours/index.ts')).createNeighbourhood(ctx)
    : undefined;
  if (neighbourhood) sources.push(neighbourhood);
  // Upstream has neither setting: with both off nothing here exists, not even the gauge.
  const layerChecks =
    neighbourhood && (config.checkNodePaths || config.checkAllIpFamilies)
      ? new LayerChecks(ctx, () => neighbourhood.selected())
      : undefined;
  if (layerChecks) sources.push(layerChecks);
  const diagnosis = layerChecks ? new LayerDiagnosis(metrics, layerChecks) : undefined;
  const kubeProxy = (await import('./kubeproxy/index.ts')).createKubeProxyMonitor(ctx);
  if (kubeProxy) sources.push(kubeProxy);
  const rounds = new RoundRunner({
    sources,
    metrics,
    logger,
    roundTimeoutMs: config.checkTimeoutMs + ROUND_SLACK_MS,
  });
  const runner = diagnosis ? diagnosis.observe(rounds) : rounds;
  const state: ProberState = {
    neighbourhood: () => neighbourhood?.view() ?? NEIGHBOURHOOD_SKIPPED,
    kubeProxy: () => kubeProxy?.view(),
  };
  return { ctx, runner, sources, state, neighbourhood, kubeProxy };
}
