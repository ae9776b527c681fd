// Every metric name, label and bucket of the prober in one place: the probe families in
// ProbeMetrics, then one register*Metrics() per optional component (discovery, kube-proxy,
// status page), which that component calls once with the prober's registry. Names and labels
// are kubenurse's own so existing dashboards, alerts and ServiceMonitors keep working.
// A new metric goes here too, never as a `new Gauge()` next to the code that sets it.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Verdict } from './verdict.ts';
import { VmHistogram } from './vm-histogram.ts';

export const METRIC_PREFIX = 'kubenurse_';

export const TRACE_EVENTS = [
  'dns_start',
  'dns_done',
  'connect_start',
  'connect_done',
  'tls_handshake_start',
  'tls_handshake_done',
  'got_conn',
  'wrote_request',
  'got_first_resp_byte',
] as const;
export type TraceEvent = (typeof TRACE_EVENTS)[number];

/** Something that contributes ready-made exposition text to /metrics (kube-proxy passthrough). */
export interface ExpositionSource {
  render(): string;
}

/**
 * KUBENURSE_NEIGHBOUR_TRACE_METRICS: what the per-event trace histogram records for the
 * per-neighbour types (path_<node>, node_<node>, and their per-family variants), which are
 * most of a prober's series (docs/neighbours.md, "Series"):
 * - full: one set per neighbour, as upstream;
 * - aggregated: one set for all neighbours, under type="path_*" (resp. "node_*");
 * - off: none for neighbours.
 * Duration histogram, requests and errors stay per neighbour in every mode.
 */
export type NeighbourTraceMode = 'full' | 'aggregated' | 'off';

const NEIGHBOUR_TYPE = /^(path|node)_/;

export interface MetricsOptions {
  readonly buckets: readonly number[];
  readonly legacyMetrics: boolean;
  /**
   * KUBENURSE_VICTORIAMETRICS_HISTOGRAM=true: the duration histograms use VictoriaMetrics'
   * `vmrange` buckets (same names, labels, `_sum` and `_count`) instead of `le` buckets.
   */
  readonly victoriaMetricsHistogram?: boolean;
  /** Default 'full' (upstream's series). */
  readonly neighbourTrace?: NeighbourTraceMode;
  /** Counts distinct neighbours that probed us recently; read at scrape time. */
  readonly incomingChecks: () => number;
}

/** What both histogram kinds offer (prom-client's Histogram has this shape). */
interface DurationHistogram<L extends string> {
  observe(labels: Partial<Record<L, string>>, value: number): void;
  remove(labels: Partial<Record<L, string>>): void;
}

/**
 * The prober's metrics. Every series carries a `type` label; forgetType() drops all of a
 * type's series at once, so a neighbour that leaves the selection leaves no ghost series.
 */
export class ProbeMetrics {
  readonly registry = new Registry();
  private readonly requestDuration: DurationHistogram<'type'>;
  private readonly traceDuration: DurationHistogram<'type' | 'event'>;
  private readonly requestsTotal: Counter<'type' | 'code'>;
  private readonly errorsTotal: Counter<'type' | 'event'>;
  private readonly legacyDuration: DurationHistogram<'type'> | undefined;
  /** The duration histograms in VictoriaMetrics mode; rendered after the registry. */
  private readonly vmHistograms: VmHistogram<string>[] = [];
  private readonly neighbourTrace: NeighbourTraceMode;
  /** Registered only when there are verdicts (node paths or all IP families on). */
  private verdictGauge: Gauge<'neighbour' | 'layer'> | undefined;
  /** neighbour → the layer its verdict series carries now. */
  private readonly verdictLayers = new Map<string, string>();
  private readonly extraSources: ExpositionSource[] = [];
  /** type → the second label values (event / code) each family has emitted for it. */
  private readonly seen = new Map<
    string,
    { trace: Set<string>; codes: Set<string>; errors: Set<string> }
  >();

  constructor(options: MetricsOptions) {
    const buckets = [...options.buckets];
    this.neighbourTrace = options.neighbourTrace ?? 'full';
    collectDefaultMetrics({ register: this.registry });
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
    ): DurationHistogram<L> => {
      if (!options.victoriaMetricsHistogram)
        return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
      const vm = new VmHistogram<L>({ name, help, labelNames });
      this.vmHistograms.push(vm);
      return vm;
    };
    this.requestDuration = histogram(
      `${METRIC_PREFIX}httpclient_request_duration_seconds`,
      'Duration of a probe request, from start until the response headers arrived, by check type.',
      ['type'],
    );
    this.traceDuration = histogram(
      `${METRIC_PREFIX}httpclient_trace_request_duration_seconds`,
      'Time from probe start to each request phase event, by check type.',
      ['type', 'event'],
    );
    this.requestsTotal = new Counter({
      name: `${METRIC_PREFIX}httpclient_requests_total`,
      help: 'Probe requests by check type and HTTP status code (round_trip_error when no response).',
      labelNames: ['type', 'code'],
      registers: [this.registry],
    });
    this.errorsTotal = new Counter({
      name: `${METRIC_PREFIX}errors_total`,
      help: 'Failed checks by check type and the event (phase or status) that failed.',
      labelNames: ['type', 'event'],
      registers: [this.registry],
    });
    new Gauge({
      name: `${METRIC_PREFIX}neighbourhood_incoming_checks`,
      help: 'Distinct neighbours that checked this prober in the last 60 seconds.',
      registers: [this.registry],
      collect() {
        this.set(options.incomingChecks());
      },
    });
    this.legacyDuration = options.legacyMetrics
      ? histogram(
          `${METRIC_PREFIX}request_duration`,
          'Pre-1.13 kubenurse check duration by check type (KUBENURSE_LEGACY_METRICS=true).',
          ['type'],
        )
      : undefined;
  }

  private labelsOf(type: string) {
    let entry = this.seen.get(type);
    if (!entry) {
      entry = { trace: new Set(), codes: new Set(), errors: new Set() };
      this.seen.set(type, entry);
    }
    return entry;
  }

  observeTrace(type: string, event: TraceEvent, seconds: number): void {
    let traceType = type;
    if (this.neighbourTrace !== 'full') {
      const neighbour = NEIGHBOUR_TYPE.exec(type);
      if (neighbour) {
        if (this.neighbourTrace === 'off') return;
        // One bounded set for every neighbour; never forgotten (it is not a neighbour's).
        traceType = `${neighbour[1] as string}_*`;
      }
    }
    this.labelsOf(traceType).trace.add(event);
    this.traceDuration.observe({ type: traceType, event }, seconds);
  }

  observeResponse(type: string, code: number, seconds: number): void {
    this.labelsOf(type).codes.add(String(code));
    this.requestsTotal.inc({ type, code: String(code) });
    this.requestDuration.observe({ type }, seconds);
  }

  countRoundTripError(type: string): void {
    this.labelsOf(type).codes.add('round_trip_error');
    this.requestsTotal.inc({ type, code: 'round_trip_error' });
  }

  countError(type: string, event: string): void {
    this.labelsOf(type).errors.add(event);
    this.errorsTotal.inc({ type, event });
  }

  /** The legacy histogram timed the whole check, failures included, like kubenurse < 1.13. */
  observeCheck(type: string, seconds: number): void {
    if (!this.legacyDuration) return;
    this.labelsOf(type);
    this.legacyDuration.observe({ type }, seconds);
  }

  /**
   * kubenurse_neighbour_verdict{neighbour,layer} = 1: one series per selected neighbour, whose
   * layer label says which layer is at fault ("none" when every path answers). A neighbour that
   * left the selection, or whose layer changed, loses its old series in the same call.
   */
  setVerdicts(verdicts: ReadonlyMap<string, Verdict>): void {
    this.verdictGauge ??= new Gauge({
      name: `${METRIC_PREFIX}neighbour_verdict`,
      help: 'Which layer this prober blames for each neighbour it checks (1 on the current layer; none = healthy).',
      labelNames: ['neighbour', 'layer'],
      registers: [this.registry],
    });
    for (const [neighbour, layer] of [...this.verdictLayers]) {
      if (verdicts.get(neighbour)?.layer === layer) continue;
      this.verdictGauge.remove({ neighbour, layer });
      this.verdictLayers.delete(neighbour);
    }
    for (const [neighbour, { layer }] of verdicts) {
      this.verdictGauge.set({ neighbour, layer }, 1);
      this.verdictLayers.set(neighbour, layer);
    }
  }

  /** Types that have series right now. */
  knownTypes(): string[] {
    return [...this.seen.keys()];
  }

  forgetType(type: string): void {
    const entry = this.seen.get(type);
    if (!entry) return;
    for (const event of entry.trace) this.traceDuration.remove({ type, event });
    for (const code of entry.codes) this.requestsTotal.remove({ type, code });
    for (const event of entry.errors) this.errorsTotal.remove({ type, event });
    this.requestDuration.remove({ type });
    this.legacyDuration?.remove({ type });
    this.seen.delete(type);
  }

  addSource(source: ExpositionSource): void {
    this.extraSources.push(source);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const own = await this.registry.metrics();
    return [
      own,
      ...this.vmHistograms.map((vm) => vm.render()),
      ...this.extraSources.map((source) => source.render()),
    ]
      .filter((text) => text !== '')
      .join('\n');
  }
}

/** Neighbour discovery's families (neighbours/discovery.ts). */
export interface DiscoveryMetrics {
  /** Failed list or watch attempts, by resource. */
  readonly errorsTotal: Counter<'resource'>;
}

/** `isStale` is read at scrape time. */
export function registerDiscoveryMetrics(
  registry: Registry,
  isStale: () => boolean,
  nodeWatches?: () => { readonly node: number; readonly cluster: number },
): DiscoveryMetrics {
  if (nodeWatches)
    new Gauge({
      name: `${METRIC_PREFIX}neighbourhood_discovery_node_watches`,
      help: 'Node watches open: scope="node" one node each (the nodes the selection depends on), scope="cluster" every node.',
      labelNames: ['scope'],
      registers: [registry],
      collect() {
        const { node, cluster } = nodeWatches();
        this.set({ scope: 'node' }, node);
        this.set({ scope: 'cluster' }, cluster);
      },
    });
  new Gauge({
    name: `${METRIC_PREFIX}neighbourhood_discovery_stale`,
    help:
      '1 while neighbour discovery cannot reach the apiserver (or has not listed yet ' +
      'after a failure): checks use the last known neighbours.',
    registers: [registry],
    collect() {
      this.set(isStale() ? 1 : 0);
    },
  });
  const errorsTotal = new Counter({
    name: `${METRIC_PREFIX}neighbourhood_discovery_errors_total`,
    help: 'Failed list or watch attempts of neighbour discovery, by resource (pods, nodes).',
    labelNames: ['resource'],
    registers: [registry],
  });
  // Both series exist from the start, so rate() sees the first failure.
  errorsTotal.inc({ resource: 'pods' }, 0);
  errorsTotal.inc({ resource: 'nodes' }, 0);
  return { errorsTotal };
}

/**
 * kube-proxy monitoring's families (kubeproxy/collector.ts). Only the targets that are scraped
 * get gauges: a 0 for an unmonitored endpoint would be a lie.
 */
export interface KubeProxyMetrics {
  readonly scrapeDuration: Gauge<'target'>;
  /** Registered when kube-proxy's /metrics is scraped. */
  readonly up: Gauge | undefined;
  readonly syncLag: Gauge<'ip_family'> | undefined;
  /** Registered when kube-proxy's /healthz is scraped. */
  readonly healthzUp: Gauge | undefined;
  readonly healthzAge: AbsentWhenUnknownGauge | undefined;
}

/** Also adds `passthrough` (kube-proxy's own families, re-exposed) to what /metrics renders. */
export function registerKubeProxyMetrics(
  metrics: ProbeMetrics,
  scraped: { readonly metrics: boolean; readonly healthz: boolean },
  passthrough: ExpositionSource,
): KubeProxyMetrics {
  const registers = [metrics.registry];
  const scrapeDuration = new Gauge({
    name: `${METRIC_PREFIX}kube_proxy_scrape_duration_seconds`,
    help: 'Duration of the last kube-proxy scrape (request, body and parsing), by target: metrics or healthz.',
    labelNames: ['target'],
    registers,
  });
  const up = scraped.metrics
    ? new Gauge({
        name: `${METRIC_PREFIX}kube_proxy_up`,
        help: '1 if the last scrape of kube-proxy /metrics succeeded and parsed, else 0.',
        registers,
      })
    : undefined;
  const syncLag = scraped.metrics
    ? new Gauge({
        name: `${METRIC_PREFIX}kube_proxy_sync_lag_seconds`,
        help:
          'kube-proxy last_queued_timestamp minus last_timestamp of its proxy-rules sync, ' +
          'by ip_family (0 when nothing waits); grows while the sync is hung.',
        labelNames: ['ip_family'],
        registers,
      })
    : undefined;
  const healthzUp = scraped.healthz
    ? new Gauge({
        name: `${METRIC_PREFIX}kube_proxy_healthz_up`,
        help: '1 if kube-proxy /healthz answered 200 with a valid body in the last scrape, else 0.',
        registers,
      })
    : undefined;
  const healthzAge = scraped.healthz
    ? new AbsentWhenUnknownGauge({
        name: `${METRIC_PREFIX}kube_proxy_healthz_last_updated_age_seconds`,
        help: 'currentTime minus lastUpdated from kube-proxy /healthz (0 while healthy); absent when unknown.',
        registers,
      })
    : undefined;
  metrics.addSource(passthrough);
  return { scrapeDuration, up, syncLag, healthzUp, healthzAge };
}

/**
 * A label-less gauge with no sample while its value is unknown. NaN would be a sample that
 * every comparison (`> 300`) silently skips, so a threshold alert could never fire on it;
 * absence is what `absent()` and dashboards understand.
 */
export class AbsentWhenUnknownGauge extends Gauge {
  private known = false;

  setOrForget(value: number | undefined): void {
    this.known = value !== undefined;
    if (value !== undefined) this.set(value);
  }

  override async get(): ReturnType<Gauge['get']> {
    const metric = await super.get();
    return this.known ? metric : { ...metric, values: [] };
  }
}

/** The status page's families (status/index.ts). */
export interface StatusPageMetrics {
  readonly neighbourReadFailures: Counter;
}

export function registerStatusPageMetrics(registry: Registry): StatusPageMetrics {
  const neighbourReadFailures = new Counter({
    name: `${METRIC_PREFIX}status_neighbour_read_failures_total`,
    help: 'Neighbours whose status could not be read for the status page (unreachable, timeout, too large or invalid).',
    registers: [registry],
  });
  return { neighbourReadFailures };
}
