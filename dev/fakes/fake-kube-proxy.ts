// A fake kube-proxy for tests and the demo: /metrics on one port and /healthz + /livez on
// another, like the real one (10249 and 10256). It exposes the real families with their real
// label sets, HELP texts ("[ALPHA] " prefix of component-base), bucket layouts and
// client_golang number formatting (strconv 'g', e.g. 1.7040672e+09), and the real healthz
// JSON with Go time.Time strings. Tests move its sync timestamps and health; see the setters.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { urlHost } from '../../src/url-host.ts';

export interface FakeKubeProxyOptions {
  /** Loopback address to bind, e.g. 127.0.3.1. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly metricsPort?: number;
  readonly healthzPort?: number;
  /** Default ['IPv4']; ['IPv4', 'IPv6'] for dual stack. */
  readonly ipFamilies?: readonly string[];
  /** false imitates kube-proxy releases whose sync gauges had no ip_family label. */
  readonly ipFamilyLabel?: boolean;
  /** kube-proxy's healthTimeout: a change queued longer than this without a sync makes it unhealthy. Default 60. */
  readonly healthTimeoutSeconds?: number;
  /** Clock in seconds since the epoch; default the real clock. Fix it for exact assertions. */
  readonly now?: () => number;
}

export interface SyncState {
  /** kubeproxy_sync_proxy_rules_last_timestamp_seconds: the last completed sync. */
  readonly lastTimestamp: number;
  /** kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds: the last change queued. */
  readonly lastQueuedTimestamp: number;
}

export interface FakeKubeProxy {
  readonly host: string;
  readonly metricsPort: number;
  readonly healthzPort: number;
  readonly metricsUrl: string;
  readonly healthzUrl: string;
  readonly livezUrl: string;
  /** The exact body of the last /metrics answer (generated or overridden). */
  readonly lastMetricsBody: string | Buffer | undefined;
  readonly requests: { metrics: number; healthz: number; livez: number };
  /** Sets the sync gauges of one ip_family, or of all when omitted; ends a hangSync(). */
  setSync(state: Partial<SyncState>, ipFamily?: string): void;
  /** Completes a sync now taking `durationSeconds`: observed in the histograms, nothing pending. */
  sync(durationSeconds?: number, ipFamily?: string): void;
  /** The sync loop stops: last_timestamp freezes while changes keep being queued (now). */
  hangSync(): void;
  /** Forces /healthz and /livez to 200 (true) or 503 (false); undefined = computed like kube-proxy. */
  setHealthy(healthy: boolean | undefined): void;
  /** nodeEligible=false (node being deleted) makes /healthz (not /livez) answer 503. */
  setNodeEligible(eligible: boolean): void;
  setIpFamilies(ipFamilies: readonly string[]): void;
  /** rest_client_requests_total{code,host,method} = count. */
  setRestClientRequests(code: string, method: string, count: number): void;
  /** Serve this exact /metrics body (malformed, huge…) instead of the generated one; undefined restores. */
  setMetricsBody(body: string | Buffer | undefined): void;
  /** Accept requests but never answer them (a hung kube-proxy), until set back to false. */
  hangMetrics(hang?: boolean): void;
  hangHealthz(hang?: boolean): void;
  /** The exposition the next /metrics request would get (without an override). */
  metricsText(): string;
  stop(): Promise<void>;
}

interface FamilyState {
  lastTimestamp: number;
  lastQueuedTimestamp: number;
  /** kube-proxy's oldestPendingQueued: first change queued since the last sync. */
  oldestPending: number | undefined;
  syncDurations: number[];
  fullSyncDurations: number[];
  partialSyncDurations: number[];
  networkProgramming: number[];
}

const SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i); // ExponentialBuckets(0.001, 2, 15)
const NETWORK_PROGRAMMING_BUCKETS = [
  0.25,
  0.5,
  ...Array.from({ length: 59 }, (_, i) => 1 + i),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
];
const REST_CLIENT_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const API_HOST = '10.96.0.1:443';

/** strconv.FormatFloat(v, 'g', -1, 64) with client_golang's spellings of the specials. */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  // Shortest 'g' switches to the exponent form below 1e-4 and from 1e6 on.
  if (exponent >= -4 && exponent < 6) return String(value);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Go's time.Time.String() with a monotonic reading: "2006-01-02 15:04:05.999999999 -0700 MST m=+1.000000001". */
function goTimeString(epochSeconds: number | undefined, monotonicSeconds?: number): string {
  if (epochSeconds === undefined) return '0001-01-01 00:00:00 +0000 UTC';
  const whole = Math.floor(epochSeconds);
  const nanos = Math.round((epochSeconds - whole) * 1e9);
  const iso = new Date(whole * 1000).toISOString(); // 2024-01-02T15:04:05.000Z
  const fraction = nanos === 0 ? '' : `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
  const monotonic =
    monotonicSeconds === undefined
      ? ''
      : ` m=${monotonicSeconds < 0 ? '-' : '+'}${Math.abs(monotonicSeconds).toFixed(9)}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction} +0000 UTC${monotonic}`;
}

function labelText(labels: readonly (readonly [string, string])[]): string {
  return labels.length === 0
    ? ''
    : `{${labels.map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',')}}`;
}

class Exposition {
  readonly lines: string[] = [];
  /** client_golang prints no HELP/TYPE for a vector without children: headers wait for a sample. */
  private header: string[] = [];

  family(name: string, type: string, help: string): this {
    this.header = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
    return this;
  }

  sample(name: string, labels: readonly (readonly [string, string])[], value: number): this {
    this.lines.push(...this.header.splice(0), `${name}${labelText(labels)} ${goFloat(value)}`);
    return this;
  }

  histogram(
    name: string,
    labels: readonly (readonly [string, string])[],
    buckets: readonly number[],
    observations: readonly number[],
  ): this {
    for (const le of buckets)
      this.sample(
        `${name}_bucket`,
        [...labels, ['le', goFloat(le)]],
        observations.filter((o) => o <= le).length,
      );
    this.sample(`${name}_bucket`, [...labels, ['le', '+Inf']], observations.length);
    this.sample(
      `${name}_sum`,
      labels,
      observations.reduce((sum, o) => sum + o, 0),
    );
    this.sample(`${name}_count`, labels, observations.length);
    return this;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export async function startFakeKubeProxy(
  options: FakeKubeProxyOptions = {},
): Promise<FakeKubeProxy> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => Date.now() / 1000);
  const healthTimeout = options.healthTimeoutSeconds ?? 60;
  const labelled = options.ipFamilyLabel ?? true;
  const startedAt = now();

  const newFamilyState = (): FamilyState => ({
    lastQueuedTimestamp: startedAt - 1,
    lastTimestamp: startedAt,
    oldestPending: undefined,
    syncDurations: [0.0042, 0.0031, 0.0125],
    fullSyncDurations: [0.0125],
    partialSyncDurations: [0.0042, 0.0031],
    networkProgramming: [0.31, 1.2, 0.8],
  });
  const families = new Map<string, FamilyState>();
  const setIpFamilies = (list: readonly string[]): void => {
    const keys = labelled ? list : [''];
    for (const key of [...families.keys()]) if (!keys.includes(key)) families.delete(key);
    for (const key of keys) if (!families.has(key)) families.set(key, newFamilyState());
  };
  setIpFamilies(options.ipFamilies ?? ['IPv4']);

  let hung = false;
  let forcedHealth: boolean | undefined;
  let nodeEligible = true;
  let metricsOverride: string | Buffer | undefined;
  let lastMetricsBody: string | Buffer | undefined;
  let metricsHang = false;
  let healthzHang = false;
  const healthzCodes = new Map<string, number>();
  const livezCodes = new Map<string, number>();
  const restClient = new Map<string, number>([
    ['200|GET', 1529],
    ['201|POST', 12],
    ['200|PATCH', 3],
    ['500|GET', 1],
  ]);
  const requests = { metrics: 0, healthz: 0, livez: 0 };
  const pending: ServerResponse[] = [];

  const familyKeys = (ipFamily: string | undefined): string[] =>
    ipFamily === undefined ? [...families.keys()] : [labelled ? ipFamily : ''];
  const ipLabel = (key: string): [string, string][] => (labelled ? [['ip_family', key]] : []);

  const proxyHealthy = (): { healthy: boolean; lastUpdated: number | undefined } => {
    const current = now();
    let lastUpdated: number | undefined;
    let healthy = true;
    for (const state of families.values()) {
      if (lastUpdated === undefined || state.lastTimestamp > lastUpdated)
        lastUpdated = state.lastTimestamp;
      if (state.oldestPending !== undefined && current - state.oldestPending >= healthTimeout)
        healthy = false;
    }
    return { healthy: forcedHealth ?? healthy, lastUpdated };
  };

  const metricsText = (): string => {
    const current = now();
    if (hung) for (const state of families.values()) state.lastQueuedTimestamp = current;
    const out = new Exposition();
    const perFamily = (
      name: string,
      type: string,
      help: string,
      value: (state: FamilyState) => number,
    ): void => {
      out.family(name, type, help);
      for (const [key, state] of families) out.sample(name, ipLabel(key), value(state));
    };
    const histogramPerFamily = (
      name: string,
      help: string,
      buckets: readonly number[],
      observations: (state: FamilyState) => number[],
    ): void => {
      out.family(name, 'histogram', help);
      for (const [key, state] of families)
        out.histogram(name, ipLabel(key), buckets, observations(state));
    };

    out.family(
      'go_gc_duration_seconds',
      'summary',
      'A summary of the pause duration of garbage collection cycles.',
    );
    for (const [q, v] of [
      ['0', 2.4e-5],
      ['0.25', 3.9e-5],
      ['0.5', 5.1e-5],
      ['0.75', 8.3e-5],
      ['1', 0.000312],
    ] as const)
      out.sample('go_gc_duration_seconds', [['quantile', q]], v);
    out
      .sample('go_gc_duration_seconds_sum', [], 0.0041)
      .sample('go_gc_duration_seconds_count', [], 61);
    out
      .family('go_goroutines', 'gauge', 'Number of goroutines that currently exist.')
      .sample('go_goroutines', [], 48);
    out
      .family('go_info', 'gauge', 'Information about the Go environment.')
      .sample('go_info', [['version', 'go1.22.5']], 1);

    histogramPerFamily(
      'kubeproxy_network_programming_duration_seconds',
      '[ALPHA] In Cluster Network Programming Latency in seconds',
      NETWORK_PROGRAMMING_BUCKETS,
      (s) => s.networkProgramming,
    );
    out.family(
      'kubeproxy_proxy_healthz_total',
      'counter',
      '[ALPHA] Cumulative proxy healthz HTTP status',
    );
    for (const [code, count] of healthzCodes)
      out.sample('kubeproxy_proxy_healthz_total', [['code', code]], count);
    out.family(
      'kubeproxy_proxy_livez_total',
      'counter',
      '[ALPHA] Cumulative proxy livez HTTP status',
    );
    for (const [code, count] of livezCodes)
      out.sample('kubeproxy_proxy_livez_total', [['code', code]], count);
    histogramPerFamily(
      'kubeproxy_sync_full_proxy_rules_duration_seconds',
      '[ALPHA] SyncProxyRules latency in seconds for full resyncs',
      SYNC_BUCKETS,
      (s) => s.fullSyncDurations,
    );
    histogramPerFamily(
      'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      '[ALPHA] SyncProxyRules latency in seconds for partial resyncs',
      SYNC_BUCKETS,
      (s) => s.partialSyncDurations,
    );
    histogramPerFamily(
      'kubeproxy_sync_proxy_rules_duration_seconds',
      '[ALPHA] SyncProxyRules latency in seconds',
      SYNC_BUCKETS,
      (s) => s.syncDurations,
    );
    out
      .family(
        'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
        'gauge',
        '[ALPHA] Pending proxy rules Endpoint changes',
      )
      .sample('kubeproxy_sync_proxy_rules_endpoint_changes_pending', [], hung ? 7 : 0);
    out
      .family(
        'kubeproxy_sync_proxy_rules_endpoint_changes_total',
        'counter',
        '[ALPHA] Cumulative proxy rules Endpoint changes',
      )
      .sample('kubeproxy_sync_proxy_rules_endpoint_changes_total', [], 214);
    perFamily(
      'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
      'counter',
      '[ALPHA] Cumulative proxy iptables partial restore failures',
      () => 0,
    );
    perFamily(
      'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      'counter',
      '[ALPHA] Cumulative proxy iptables restore failures',
      () => 0,
    );
    out.family(
      'kubeproxy_sync_proxy_rules_iptables_total',
      'gauge',
      '[ALPHA] Total number of iptables rules owned by kube-proxy',
    );
    for (const key of families.keys()) {
      out.sample(
        'kubeproxy_sync_proxy_rules_iptables_total',
        [...ipLabel(key), ['table', 'filter']],
        9,
      );
      out.sample(
        'kubeproxy_sync_proxy_rules_iptables_total',
        [...ipLabel(key), ['table', 'nat']],
        84,
      );
    }
    perFamily(
      'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      'gauge',
      '[ALPHA] The last time a sync of proxy rules was queued',
      (s) => s.lastQueuedTimestamp,
    );
    perFamily(
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      'gauge',
      '[ALPHA] The last time proxy rules were successfully synced',
      (s) => s.lastTimestamp,
    );
    out.family(
      'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
      'gauge',
      '[ALPHA] Number of services with a Local traffic policy and no endpoints',
    );
    for (const key of families.keys()) {
      out.sample(
        'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
        [...ipLabel(key), ['traffic_policy', 'external']],
        0,
      );
      out.sample(
        'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
        [...ipLabel(key), ['traffic_policy', 'internal']],
        0,
      );
    }
    out
      .family(
        'kubeproxy_sync_proxy_rules_service_changes_pending',
        'gauge',
        '[ALPHA] Pending proxy rules Service changes',
      )
      .sample('kubeproxy_sync_proxy_rules_service_changes_pending', [], hung ? 2 : 0);
    out
      .family(
        'kubeproxy_sync_proxy_rules_service_changes_total',
        'counter',
        '[ALPHA] Cumulative proxy rules Service changes',
      )
      .sample('kubeproxy_sync_proxy_rules_service_changes_total', [], 38);
    out.family(
      'kubernetes_build_info',
      'gauge',
      "[ALPHA] A metric with a constant '1' value labeled by major, minor, git version, " +
        'git commit, git tree state, build date, Go version, and compiler from which ' +
        'Kubernetes was built, and platform on which it is running.',
    );
    out.sample(
      'kubernetes_build_info',
      [
        ['build_date', '2024-06-11T20:20:18Z'],
        ['compiler', 'gc'],
        ['git_commit', '39683505b630ff2121012f3c5b16215a1449d5ed'],
        ['git_tree_state', 'clean'],
        ['git_version', 'v1.30.2'],
        ['go_version', 'go1.22.4'],
        ['major', '1'],
        ['minor', '30'],
        ['platform', 'linux/amd64'],
      ],
      1,
    );
    out
      .family(
        'process_cpu_seconds_total',
        'counter',
        'Total user and system CPU time spent in seconds.',
      )
      .sample('process_cpu_seconds_total', [], 12.34);
    out
      .family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.')
      .sample('process_resident_memory_bytes', [], 5.2690944e7);
    out
      .family(
        'process_start_time_seconds',
        'gauge',
        'Start time of the process since unix epoch in seconds.',
      )
      .sample('process_start_time_seconds', [], Math.floor(startedAt));
    out.family(
      'rest_client_request_duration_seconds',
      'histogram',
      '[ALPHA] Request latency in seconds. Broken down by verb, and host.',
    );
    out.histogram(
      'rest_client_request_duration_seconds',
      [
        [
          'url',
          `https://${API_HOST}/api/v1/nodes?fieldSelector=%7Bvalue%7D&limit=%7Bvalue%7D&resourceVersion=%7Bvalue%7D`,
        ],
        ['verb', 'GET'],
      ],
      REST_CLIENT_BUCKETS,
      [0.004, 0.012, 0.03],
    );
    out.histogram(
      'rest_client_request_duration_seconds',
      [
        ['url', `https://${API_HOST}/apis/events.k8s.io/v1/namespaces/%7Bnamespace%7D/events`],
        ['verb', 'POST'],
      ],
      REST_CLIENT_BUCKETS,
      [0.008, 0.021],
    );
    out.family(
      'rest_client_requests_total',
      'counter',
      '[ALPHA] Number of HTTP requests, partitioned by status code, method, and host.',
    );
    for (const [key, count] of restClient) {
      const [code = '', method = ''] = key.split('|');
      out.sample(
        'rest_client_requests_total',
        [
          ['code', code],
          ['host', API_HOST],
          ['method', method],
        ],
        count,
      );
    }
    return out.text();
  };

  const serve = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });

  const metricsServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('404 page not found\n');
      return;
    }
    requests.metrics++;
    if (metricsHang) {
      pending.push(res);
      return;
    }
    const body = metricsOverride ?? metricsText();
    lastMetricsBody = body;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });

  const healthServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url?.split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('404 page not found\n');
      return;
    }
    const isHealthz = path === '/healthz';
    if (isHealthz) requests.healthz++;
    else requests.livez++;
    if (healthzHang) {
      pending.push(res);
      return;
    }
    const current = now();
    const { healthy: proxyOk, lastUpdated } = proxyHealthy();
    const healthy = isHealthz ? proxyOk && (forcedHealth ?? nodeEligible) : proxyOk;
    const code = healthy ? 200 : 503;
    const counter = isHealthz ? healthzCodes : livezCodes;
    counter.set(String(code), (counter.get(String(code)) ?? 0) + 1);
    const monotonic = (t: number): number => t - startedAt + 0.123;
    const reported = healthy ? current : lastUpdated;
    const updatedText = goTimeString(
      reported,
      reported === undefined ? undefined : monotonic(reported),
    );
    // kube-proxy's spacing, which is not JSON.stringify's.
    const times =
      `"lastUpdated": ${JSON.stringify(updatedText)},` +
      `"currentTime": ${JSON.stringify(goTimeString(current, monotonic(current)))}`;
    const body = isHealthz ? `{${times}, "nodeEligible": ${nodeEligible}}` : `{${times}}`;
    res
      .writeHead(code, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' })
      .end(body);
  });

  const metricsPort = await serve(metricsServer, options.metricsPort ?? 0);
  const healthzPort = await serve(healthServer, options.healthzPort ?? 0);
  const origin = urlHost(host);

  return {
    host,
    metricsPort,
    healthzPort,
    metricsUrl: `http://${origin}:${metricsPort}/metrics`,
    healthzUrl: `http://${origin}:${healthzPort}/healthz`,
    livezUrl: `http://${origin}:${healthzPort}/livez`,
    get lastMetricsBody() {
      return lastMetricsBody;
    },
    requests,
    setSync(state, ipFamily) {
      hung = false;
      for (const key of familyKeys(ipFamily)) {
        const entry = families.get(key);
        if (!entry) continue;
        if (state.lastTimestamp !== undefined) entry.lastTimestamp = state.lastTimestamp;
        if (state.lastQueuedTimestamp !== undefined)
          entry.lastQueuedTimestamp = state.lastQueuedTimestamp;
        entry.oldestPending =
          entry.lastQueuedTimestamp > entry.lastTimestamp ? entry.lastQueuedTimestamp : undefined;
      }
    },
    sync(durationSeconds = 0.005, ipFamily) {
      hung = false;
      const current = now();
      for (const key of familyKeys(ipFamily)) {
        const entry = families.get(key);
        if (!entry) continue;
        entry.lastTimestamp = current;
        entry.oldestPending = undefined;
        entry.syncDurations.push(durationSeconds);
        entry.partialSyncDurations.push(durationSeconds);
      }
    },
    hangSync() {
      hung = true;
      const current = now();
      for (const entry of families.values()) {
        entry.lastQueuedTimestamp = current;
        entry.oldestPending ??= current;
      }
    },
    setHealthy(healthy) {
      forcedHealth = healthy;
    },
    setNodeEligible(eligible) {
      nodeEligible = eligible;
    },
    setIpFamilies,
    setRestClientRequests(code, method, count) {
      restClient.set(`${code}|${method}`, count);
    },
    setMetricsBody(body) {
      metricsOverride = body;
    },
    hangMetrics(hang = true) {
      metricsHang = hang;
    },
    hangHealthz(hang = true) {
      healthzHang = hang;
    },
    metricsText,
    async stop() {
      for (const res of pending.splice(0)) res.destroy();
      const close = (server: Server): Promise<void> =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        });
      await Promise.all([close(metricsServer), close(healthServer)]);
    },
  };
}
