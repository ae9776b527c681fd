// Passive kube-proxy monitoring: two checks that a round runs next to the probes (same
// Prober, so the same httpclient metrics, deadline and error events), the derived gauges,
// the /alive fields, and the re-exposed families for /metrics.
//
// /metrics never waits on kube-proxy: render() returns the text prepared by the last
// scrape. A failed scrape drops it (and the derived sync-lag series) instead of serving
// stale data. Nothing here counts kubenurse_errors_total: the round does that from the
// outcomes, which use the prober's events plus `parse_error` for a body we cannot parse.
import { performance } from 'node:perf_hooks';
import type { Check, CheckOutcome, CheckSource } from '../checks/types.ts';
import type { ProberContext } from '../context.ts';
import {
  registerKubeProxyMetrics,
  type ExpositionSource,
  type KubeProxyMetrics,
} from '../metrics.ts';
import { redactUrls } from '../redact.ts';
import { syncLagSeconds } from './derive.ts';
import {
  HEALTHZ_BODY_LIMIT,
  lastUpdatedAgeSeconds,
  parseHealthz,
  type KubeProxyHealth,
} from './healthz.ts';
import {
  DEFAULT_PARSE_LIMITS,
  parseExposition,
  type MetricFamily,
  type ParseLimits,
} from './parse.ts';
import { renderFamilies, selectPassthrough, seriesNames } from './render.ts';
import { errorMessage } from '../error-text.ts';

export const KUBE_PROXY_METRICS_TYPE = 'kube_proxy_metrics';
export const KUBE_PROXY_HEALTHZ_TYPE = 'kube_proxy_healthz';
/** errors_total event of a scrape whose body is not a valid exposition / healthz JSON. */
export const PARSE_ERROR_EVENT = 'parse_error';

export interface KubeProxyMonitor extends CheckSource, ExpositionSource {
  /** What the last scrapes found; /alive shows it as kube_proxy. */
  view(): KubeProxyAlive;
}

export interface KubeProxyTargets {
  readonly metricsUrl: string | undefined;
  readonly healthzUrl: string | undefined;
}

export interface KubeProxyAlive {
  /** null: that target is not monitored. */
  readonly metrics_up: boolean | null;
  readonly healthz_up: boolean | null;
  readonly sync_lag_seconds: Record<string, number>;
  readonly healthz_last_updated_age_seconds: number | null;
  readonly node_eligible: boolean | null;
}

export class KubeProxyCollector implements KubeProxyMonitor {
  private readonly ctx: ProberContext;
  private readonly targets: KubeProxyTargets;
  private readonly parseLimits: Partial<ParseLimits>;
  private readonly checkList: Check[] = [];

  private readonly gauges: KubeProxyMetrics;

  private passthrough = '';
  private metricsUp = false;
  private healthzUp = false;
  private syncLag = new Map<string, number>();
  private ageSeconds: number | undefined;
  private nodeEligible: boolean | undefined;

  constructor(
    ctx: ProberContext,
    targets: KubeProxyTargets,
    parseLimits: Partial<ParseLimits> = {},
  ) {
    this.ctx = ctx;
    this.targets = targets;
    this.parseLimits = { ...parseLimits, maxBytes: ctx.config.kubeProxyMaxBytes };
    this.gauges = registerKubeProxyMetrics(
      ctx.metrics,
      { metrics: targets.metricsUrl !== undefined, healthz: targets.healthzUrl !== undefined },
      this,
    );
    if (targets.metricsUrl !== undefined) {
      const url = targets.metricsUrl;
      this.checkList.push({
        type: KUBE_PROXY_METRICS_TYPE,
        run: (signal) => this.guard(KUBE_PROXY_METRICS_TYPE, () => this.scrapeMetrics(url, signal)),
      });
    }
    if (targets.healthzUrl !== undefined) {
      const url = targets.healthzUrl;
      this.checkList.push({
        type: KUBE_PROXY_HEALTHZ_TYPE,
        run: (signal) => this.guard(KUBE_PROXY_HEALTHZ_TYPE, () => this.scrapeHealthz(url, signal)),
      });
    }
  }

  checks(): readonly Check[] {
    return this.checkList;
  }

  render(): string {
    return this.passthrough;
  }

  view(): KubeProxyAlive {
    return {
      metrics_up: this.targets.metricsUrl === undefined ? null : this.metricsUp,
      healthz_up: this.targets.healthzUrl === undefined ? null : this.healthzUp,
      sync_lag_seconds: Object.fromEntries(this.syncLag),
      healthz_last_updated_age_seconds: this.ageSeconds ?? null,
      node_eligible: this.nodeEligible ?? null,
    };
  }

  /** A check must never throw; an unexpected bug becomes an error outcome, not a crashed round. */
  private async guard(type: string, scrape: () => Promise<CheckOutcome>): Promise<CheckOutcome> {
    const started = performance.now();
    try {
      return await scrape();
    } catch (error) {
      this.ctx.logger.error({ err: error, type }, 'kube-proxy scrape failed unexpectedly');
      if (type === KUBE_PROXY_METRICS_TYPE) this.metricsFailed();
      else this.healthzFailed();
      return {
        status: 'error',
        event: 'round_trip_error',
        message: `internal error: ${String(error)}`,
        durationMs: performance.now() - started,
      };
    }
  }

  private async scrapeMetrics(url: string, signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    try {
      const result = await this.ctx.prober.probe(
        { type: KUBE_PROXY_METRICS_TYPE, url, bodyLimit: this.ctx.config.kubeProxyMaxBytes },
        signal,
      );
      if (result.outcome.status !== 'ok') {
        this.metricsFailed();
        return result.outcome;
      }
      let families: MetricFamily[];
      try {
        families = parseExposition(result.body ?? '', {
          ...DEFAULT_PARSE_LIMITS,
          ...this.parseLimits,
        });
      } catch (error) {
        this.metricsFailed();
        return parseErrorOutcome(url, `invalid exposition: ${errorMessage(error)}`, result.outcome);
      }
      const ownNames = new Set(
        this.ctx.metrics.registry.getMetricsAsArray().flatMap((metric) => seriesNames(metric.name)),
      );
      this.passthrough = renderFamilies(
        selectPassthrough(families, this.ctx.config.kubeProxyMetricsFilter, ownNames),
      );
      this.metricsUp = true;
      this.gauges.up?.set(1);
      this.setSyncLag(syncLagSeconds(families));
      return result.outcome;
    } finally {
      this.gauges.scrapeDuration.set({ target: 'metrics' }, (performance.now() - started) / 1000);
    }
  }

  private async scrapeHealthz(url: string, signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    try {
      const result = await this.ctx.prober.probe(
        { type: KUBE_PROXY_HEALTHZ_TYPE, url, bodyLimit: HEALTHZ_BODY_LIMIT },
        signal,
      );
      let health: KubeProxyHealth | undefined;
      let parseError: string | undefined;
      // A 503 carries the same JSON, and its lastUpdated is the interesting one.
      if (result.body !== undefined && result.statusCode !== undefined) {
        try {
          health = parseHealthz(result.body);
        } catch (error) {
          parseError = errorMessage(error);
        }
      }
      const answeredOk = result.outcome.status === 'ok' && health !== undefined;
      this.healthzUp = answeredOk;
      this.gauges.healthzUp?.set(answeredOk ? 1 : 0);
      this.setHealth(health);

      if (result.outcome.status === 'ok' && parseError !== undefined) {
        return parseErrorOutcome(url, parseError, result.outcome);
      }
      if (result.outcome.status === 'error' && health !== undefined) {
        return {
          ...result.outcome,
          message: `${result.outcome.message} (${describeHealth(health)})`,
        };
      }
      return result.outcome;
    } finally {
      this.gauges.scrapeDuration.set({ target: 'healthz' }, (performance.now() - started) / 1000);
    }
  }

  private metricsFailed(): void {
    this.passthrough = '';
    this.metricsUp = false;
    this.gauges.up?.set(0);
    this.setSyncLag(new Map());
  }

  private healthzFailed(): void {
    this.healthzUp = false;
    this.gauges.healthzUp?.set(0);
    this.setHealth(undefined);
  }

  private setHealth(health: KubeProxyHealth | undefined): void {
    this.ageSeconds = health === undefined ? undefined : lastUpdatedAgeSeconds(health);
    this.nodeEligible = health?.nodeEligible;
    this.gauges.healthzAge?.setOrForget(this.ageSeconds);
  }

  /** Sets the current ip_families and removes the series of those that disappeared. */
  private setSyncLag(lag: Map<string, number>): void {
    for (const ipFamily of this.syncLag.keys()) {
      if (!lag.has(ipFamily)) this.gauges.syncLag?.remove({ ip_family: ipFamily });
    }
    for (const [ipFamily, seconds] of lag)
      this.gauges.syncLag?.set({ ip_family: ipFamily }, seconds);
    this.syncLag = lag;
  }
}

function describeHealth(health: KubeProxyHealth): string {
  const age = lastUpdatedAgeSeconds(health);
  const synced =
    age === undefined
      ? 'kube-proxy has not synced yet'
      : `kube-proxy last synced ${age.toFixed(1)}s ago`;
  return health.nodeEligible === false ? `${synced}, node not eligible` : synced;
}

/** The transfer worked but the body is not what kube-proxy sends: keep the probe's timings. */
function parseErrorOutcome(
  url: string,
  problem: string,
  transferred: { durationMs: number; phases?: Readonly<Record<string, number>> },
): CheckOutcome {
  return {
    status: 'error',
    event: PARSE_ERROR_EVENT,
    message: redactUrls(`${url}: ${problem}`),
    durationMs: transferred.durationMs,
    target: new URL(url).host,
    ...(transferred.phases ? { phases: transferred.phases } : {}),
  };
}
