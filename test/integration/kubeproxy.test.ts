// kube-proxy monitoring end to end in one process: a fake kube-proxy on 127.0.3.x, the real
// Prober, real ProbeMetrics and the real round runner.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { requireCommand } from '../../scripts/preflight/components.ts';
import { RoundRunner } from '../../src/checks/round.ts';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { parseConfig } from '../../src/config.ts';
import type { ProberContext } from '../../src/context.ts';
import { proberContext } from '../../dev/prober-context.ts';
import { createKubeProxyMonitor, type KubeProxyMonitor } from '../../src/kubeproxy/index.ts';
import { parseExposition, type MetricFamily } from '../../src/kubeproxy/parse.ts';
import {
  startFakeKubeProxy,
  type FakeKubeProxy,
  type FakeKubeProxyOptions,
} from '../../dev/fakes/fake-kube-proxy.ts';

const T0 = 1_704_067_200.25; // 2024-01-01T00:00:00.25Z
let clock = T0;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  clock = T0;
});

interface Harness {
  readonly fake: FakeKubeProxy;
  readonly ctx: ProberContext;
  readonly monitor: KubeProxyMonitor;
  round(): Promise<ReadonlyMap<string, CheckOutcome>>;
  exposition(): Promise<MetricFamily[]>;
  value(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

async function setup(
  env: Record<string, string> = {},
  fakeOptions: FakeKubeProxyOptions = {},
): Promise<Harness> {
  const fake = await startFakeKubeProxy({ host: '127.0.3.1', now: () => clock, ...fakeOptions });
  cleanups.push(() => fake.stop());
  const config = parseConfig({
    KUBENURSE_KUBE_PROXY_METRICS_URL: fake.metricsUrl,
    KUBENURSE_KUBE_PROXY_HEALTHZ_URL: fake.healthzUrl,
    KUBENURSE_CHECK_TIMEOUT: '1s',
    KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent',
    ...env,
  });
  const ctx = proberContext(config);
  const { metrics, logger, prober } = ctx;
  cleanups.push(() => prober.close());
  const monitor = createKubeProxyMonitor(ctx);
  if (!monitor) throw new Error('createKubeProxyMonitor returned undefined with both URLs set');
  const runner = new RoundRunner({
    sources: [monitor],
    metrics,
    logger,
    roundTimeoutMs: config.checkTimeoutMs + 1000,
  });
  const exposition = async () => parseExposition(await metrics.render(), { maxSamples: 100_000 });
  return {
    fake,
    ctx,
    monitor,
    round: async () => (await runner.run()).outcomes,
    exposition,
    async value(name, labels = {}) {
      for (const family of await exposition()) {
        for (const sample of family.samples) {
          if (sample.name !== name) continue;
          const own = Object.fromEntries(sample.labels);
          if (
            Object.entries(labels).every(([k, v]) => own[k] === v) &&
            Object.keys(own).length === Object.keys(labels).length
          )
            return sample.value;
        }
      }
      return undefined;
    },
  };
}

/** promtool may remark on naming (exit 3); a parse error (exit 1) would fail a real scrape. */
function expectPromtoolAccepts(text: string): void {
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(promtool.error, 'promtool (Debian package prometheus) must be installed').toBeUndefined();
  expect(promtool.stderr + promtool.stdout).not.toMatch(/parsing error|error while linting/);
  expect([0, 3]).toContain(promtool.status);
}

function kubeProxyAlive(monitor: KubeProxyMonitor): Record<string, unknown> {
  return { ...monitor.view() };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

describe('kube-proxy passthrough', () => {
  it('re-exposes the selected families unchanged: names, labels, values, types, HELP, buckets', async () => {
    const h = await setup({}, { ipFamilies: ['IPv4', 'IPv6'] });
    const outcomes = await h.round();
    expect(outcomes.get('kube_proxy_metrics')).toMatchObject({ status: 'ok' });
    const source = String(h.fake.lastMetricsBody);
    const sourceFamilies = parseExposition(source);
    const passed = parseExposition(h.monitor.render());

    expect(passed.map((f) => f.name)).toEqual(
      sourceFamilies.filter((f) => /^(kubeproxy_|rest_client_)/.test(f.name)).map((f) => f.name),
    );
    expect(passed.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'kubeproxy_sync_proxy_rules_duration_seconds',
        'kubeproxy_network_programming_duration_seconds',
        'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
        'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
        'kubeproxy_sync_proxy_rules_iptables_total',
        'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
        'rest_client_requests_total',
        'rest_client_request_duration_seconds',
      ]),
    );
    for (const family of passed)
      expect(family).toEqual(sourceFamilies.find((f) => f.name === family.name));
    // Byte for byte: every re-exposed line is a line of kube-proxy's own answer.
    const sourceLines = new Set(lines(source));
    for (const line of lines(h.monitor.render())) expect(sourceLines.has(line), line).toBe(true);
    // 2 ip families × (80 network-programming buckets + +Inf + sum + count) survive intact.
    expect(
      passed.find((f) => f.name === 'kubeproxy_network_programming_duration_seconds')?.samples,
    ).toHaveLength(2 * 83);
  });

  it('never passes process_*, go_* or unmatched families, and honours a custom filter', async () => {
    const h = await setup({
      KUBENURSE_KUBE_PROXY_METRICS:
        'rest_client_requests_total|go_.*|process_.*|kubernetes_build_info',
    });
    await h.round();
    expect(parseExposition(h.monitor.render()).map((f) => f.name)).toEqual([
      'kubernetes_build_info',
      'rest_client_requests_total',
    ]);
  });

  it('merges into /metrics without any family collision (our parser and promtool agree)', async () => {
    const h = await setup();
    await h.round();
    const text = await h.ctx.metrics.render();
    const families = parseExposition(text, { maxSamples: 100_000 });
    const names = families.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'process_cpu_seconds_total',
        'kubeproxy_sync_proxy_rules_duration_seconds',
        'kubenurse_kube_proxy_up',
        'kubenurse_httpclient_requests_total',
      ]),
    );
    expect(names.filter((n) => n.startsWith('go_'))).toEqual([]);
    // Our process_cpu_seconds_total, not kube-proxy's 12.34.
    expect(
      families.find((f) => f.name === 'process_cpu_seconds_total')?.samples[0]?.value,
    ).not.toBe(12.34);

    const promtool = spawnSync(requireCommand('promtool'), ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
    });
    expect(promtool.error).toBeUndefined();
    expect(promtool.stderr + promtool.stdout).not.toMatch(/parsing error|error while linting/);
    expect([0, 3]).toContain(promtool.status); // 3 = lint remarks only (naming), never a parse error
  });
});

describe('kube-proxy derived gauges', () => {
  it('follow the sync timestamps per ip_family, and drop an ip_family that disappears', async () => {
    const h = await setup({}, { ipFamilies: ['IPv4', 'IPv6'] });
    h.fake.setSync({ lastTimestamp: T0 - 100, lastQueuedTimestamp: T0 - 57.5 }, 'IPv4');
    h.fake.setSync({ lastTimestamp: T0 - 100, lastQueuedTimestamp: T0 - 101 }, 'IPv6');
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(1);
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv4' })).toBe(
      42.5,
    );
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv6' })).toBe(0);

    // The sync loop hangs: last_timestamp stays, changes keep being queued, the lag grows.
    h.fake.hangSync();
    clock = T0 + 30;
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv4' })).toBe(130);
    clock = T0 + 90;
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv6' })).toBe(190);
    expect(kubeProxyAlive(h.monitor).sync_lag_seconds).toEqual({ IPv4: 190, IPv6: 190 });

    h.fake.sync(0.004);
    h.fake.setIpFamilies(['IPv4']);
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv4' })).toBe(0);
    expect(
      await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv6' }),
    ).toBeUndefined();
    expect(kubeProxyAlive(h.monitor).sync_lag_seconds).toEqual({ IPv4: 0 });
  });

  it('uses ip_family="" for kube-proxy releases without the label', async () => {
    const h = await setup({}, { ipFamilyLabel: false });
    h.fake.setSync({ lastTimestamp: T0 - 10, lastQueuedTimestamp: T0 - 4 });
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: '' })).toBe(6);
  });

  it('records the scrape duration of both targets', async () => {
    const h = await setup();
    await h.round();
    expect(
      await h.value('kubenurse_kube_proxy_scrape_duration_seconds', { target: 'metrics' }),
    ).toBeGreaterThan(0);
    expect(
      await h.value('kubenurse_kube_proxy_scrape_duration_seconds', { target: 'healthz' }),
    ).toBeGreaterThan(0);
    expect(
      await h.value('kubenurse_httpclient_requests_total', {
        type: 'kube_proxy_metrics',
        code: '200',
      }),
    ).toBe(1);
    expect(
      await h.value('kubenurse_httpclient_requests_total', {
        type: 'kube_proxy_healthz',
        code: '200',
      }),
    ).toBe(1);
  });
});

describe('kube-proxy healthz', () => {
  it('is up with age 0 while healthy; a 503 (queued change older than the health timeout) sets up=0, the age and errors_total', async () => {
    const h = await setup();
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_healthz_up')).toBe(1);
    expect(await h.value('kubenurse_kube_proxy_healthz_last_updated_age_seconds')).toBe(0);

    h.fake.setSync({ lastTimestamp: T0 - 90, lastQueuedTimestamp: T0 - 80 });
    const outcomes = await h.round();
    const healthz = outcomes.get('kube_proxy_healthz');
    expect(healthz).toMatchObject({ status: 'error', event: 'status_code_503' });
    expect(healthz?.status === 'error' && healthz.message).toMatch(
      /^503 Service Unavailable \(kube-proxy last synced 90\.0s ago\)/,
    );
    expect(await h.value('kubenurse_kube_proxy_healthz_up')).toBe(0);
    expect(await h.value('kubenurse_kube_proxy_healthz_last_updated_age_seconds')).toBe(90);
    expect(
      await h.value('kubenurse_errors_total', {
        type: 'kube_proxy_healthz',
        event: 'status_code_503',
      }),
    ).toBe(1);
    expect(
      await h.value('kubenurse_httpclient_requests_total', {
        type: 'kube_proxy_healthz',
        code: '503',
      }),
    ).toBe(1);
    expect(kubeProxyAlive(h.monitor)).toMatchObject({
      healthz_up: false,
      healthz_last_updated_age_seconds: 90,
      node_eligible: true,
      metrics_up: true,
    });
    // The metrics scrape is unaffected by an unhealthy healthz.
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(1);

    h.fake.sync();
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_healthz_up')).toBe(1);
    expect(await h.value('kubenurse_kube_proxy_healthz_last_updated_age_seconds')).toBe(0);
    expect(
      await h.value('kubenurse_errors_total', {
        type: 'kube_proxy_healthz',
        event: 'status_code_503',
      }),
    ).toBe(1);
  });

  it('reports a node that is not eligible (being deleted) as 503 with node_eligible=false', async () => {
    const h = await setup();
    h.fake.setNodeEligible(false);
    const outcomes = await h.round();
    expect(outcomes.get('kube_proxy_healthz')).toMatchObject({
      status: 'error',
      event: 'status_code_503',
    });
    expect(kubeProxyAlive(h.monitor)).toMatchObject({ healthz_up: false, node_eligible: false });
  });

  it('counts a 200 whose body is not kube-proxy JSON as parse_error', async () => {
    const fakeHealth = createServer((socket) => {
      socket.once('data', () =>
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
        ),
      );
    });
    await new Promise<void>((resolve) => fakeHealth.listen(0, '127.0.3.2', resolve));
    cleanups.push(() => new Promise((resolve) => fakeHealth.close(() => resolve())));
    const port = (fakeHealth.address() as { port: number }).port;
    const h = await setup({ KUBENURSE_KUBE_PROXY_HEALTHZ_URL: `http://127.0.3.2:${port}/healthz` });
    const outcomes = await h.round();
    expect(outcomes.get('kube_proxy_healthz')).toMatchObject({
      status: 'error',
      event: 'parse_error',
    });
    expect(await h.value('kubenurse_kube_proxy_healthz_up')).toBe(0);
    // Unknown is absent, not NaN: threshold alerts never fire on NaN.
    expect(await h.value('kubenurse_kube_proxy_healthz_last_updated_age_seconds')).toBeUndefined();
    expect(
      await h.value('kubenurse_errors_total', { type: 'kube_proxy_healthz', event: 'parse_error' }),
    ).toBe(1);
  });
});

describe('kube-proxy failures', () => {
  it('a malformed body: up=0, passthrough empty, sync lag dropped, parse_error naming the line', async () => {
    const h = await setup();
    h.fake.setSync({ lastTimestamp: T0 - 10, lastQueuedTimestamp: T0 - 5 });
    await h.round();
    expect(h.monitor.render()).not.toBe('');
    expect(await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv4' })).toBe(5);

    h.fake.setMetricsBody(
      '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\nkubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4} 1\n',
    );
    const outcome = (await h.round()).get('kube_proxy_metrics');
    expect(outcome).toMatchObject({ status: 'error', event: 'parse_error' });
    expect(outcome?.status === 'error' && outcome.message).toMatch(
      /invalid exposition: line 2: unterminated label value/,
    );
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(0);
    expect(h.monitor.render()).toBe('');
    expect(
      await h.value('kubenurse_kube_proxy_sync_lag_seconds', { ip_family: 'IPv4' }),
    ).toBeUndefined();
    expect(
      await h.value('kubenurse_errors_total', { type: 'kube_proxy_metrics', event: 'parse_error' }),
    ).toBe(1);
    expect(kubeProxyAlive(h.monitor)).toMatchObject({ metrics_up: false, sync_lag_seconds: {} });

    // A duplicate series is malformed too.
    h.fake.setMetricsBody('kubeproxy_x 1\nkubeproxy_x 2\n');
    expect((await h.round()).get('kube_proxy_metrics')).toMatchObject({
      status: 'error',
      event: 'parse_error',
    });

    h.fake.setMetricsBody(undefined);
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(1);
    expect(h.monitor.render()).not.toBe('');
  });

  // Each of these was once accepted and re-exposed: promtool then rejected our whole /metrics,
  // and Prometheus would have dropped every kubenurse_* series with the scrape.
  it.each([
    ['a timestamp beyond int64', 'kubeproxy_ts 1 9999999999999999999\n'],
    ['a negative timestamp beyond int64', 'kubeproxy_ts 1 -9999999999999999999\n'],
    ['a value beyond float64', 'kubeproxy_big 1e400\n'],
    [
      'a bucket bound beyond float64',
      '# TYPE kubeproxy_h histogram\nkubeproxy_h_bucket{le="1e999"} 1\nkubeproxy_h_bucket{le="+Inf"} 1\nkubeproxy_h_sum 1\nkubeproxy_h_count 1\n',
    ],
    [
      'a TYPE for a histogram part after the histogram',
      '# TYPE kubeproxy_hc histogram\nkubeproxy_hc_bucket{le="+Inf"} 1\nkubeproxy_hc_sum 1\nkubeproxy_hc_count 1\n# TYPE kubeproxy_hc_sum gauge\nkubeproxy_hc_sum{x="1"} 2\n',
    ],
    [
      'a TYPE for a histogram part before the histogram',
      '# TYPE kubeproxy_hc_sum gauge\nkubeproxy_hc_sum 2\n# TYPE kubeproxy_hc histogram\nkubeproxy_hc_bucket{le="+Inf"} 1\nkubeproxy_hc_count 1\n',
    ],
    [
      'a TYPE for a summary part after the summary',
      '# TYPE kubeproxy_s summary\nkubeproxy_s{quantile="0.5"} 1\nkubeproxy_s_sum 1\nkubeproxy_s_count 1\n# TYPE kubeproxy_s_count counter\nkubeproxy_s_count{x="1"} 1\n',
    ],
  ])(
    '%s: passthrough dropped, parse_error counted, our /metrics passes promtool',
    async (_, body) => {
      const h = await setup();
      h.fake.setMetricsBody(body);
      const outcome = (await h.round()).get('kube_proxy_metrics');
      expect(outcome).toMatchObject({ status: 'error', event: 'parse_error' });
      expect(h.monitor.render()).toBe('');
      const text = await h.ctx.metrics.render();
      expectPromtoolAccepts(text);
      expect(text).toMatch(/^kubenurse_kube_proxy_up 0$/m);
      expect(text).toMatch(
        /^kubenurse_errors_total\{type="kube_proxy_metrics",event="parse_error"\} 1$/m,
      );
      expect(text).toContain(
        'kubenurse_httpclient_request_duration_seconds_count{type="kube_proxy_metrics"}',
      );
    },
  );

  it('a valid family that shares a series name with one of ours is not passed through', async () => {
    const h = await setup({ KUBENURSE_KUBE_PROXY_METRICS: '.*' });
    h.fake.setMetricsBody(
      [
        'nodejs_eventloop_lag_seconds 5', // ours is a gauge of that name
        'nodejs_gc_duration_seconds_sum 1', // a part of our histogram
        '# TYPE nodejs_heap_size_total histogram', // near ours (…_total_bytes), but no shared name
        'nodejs_heap_size_total_bucket{le="+Inf"} 1',
        'nodejs_heap_size_total_sum 1',
        'nodejs_heap_size_total_count 1',
        'kubeproxy_fine 1',
        '',
      ].join('\n'),
    );
    expect((await h.round()).get('kube_proxy_metrics')).toMatchObject({ status: 'ok' });
    expect(parseExposition(h.monitor.render()).map((f) => f.name)).toEqual([
      'nodejs_heap_size_total',
      'kubeproxy_fine',
    ]);
    expectPromtoolAccepts(await h.ctx.metrics.render());
  });

  it('a 50 MB body fails cleanly at the byte limit', async () => {
    const h = await setup();
    h.fake.setMetricsBody(Buffer.alloc(50 * 1024 * 1024, 'kubeproxy_x 1\n'));
    const outcome = (await h.round()).get('kube_proxy_metrics');
    expect(outcome).toMatchObject({ status: 'error', event: 'round_trip_error' });
    expect(outcome?.status === 'error' && outcome.message).toMatch(
      /response body larger than 8388608 bytes/,
    );
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(0);
    expect(h.monitor.render()).toBe('');
  });

  it('a body over the series limit is a parse_error, not a crash', async () => {
    const h = await setup({ KUBENURSE_KUBE_PROXY_MAX_BYTES: String(64 * 1024 * 1024) });
    const many = Array.from({ length: 20_001 }, (_, i) => `kubeproxy_x{n="${i}"} ${i}`).join('\n');
    h.fake.setMetricsBody(many);
    const outcome = (await h.round()).get('kube_proxy_metrics');
    expect(outcome).toMatchObject({ status: 'error', event: 'parse_error' });
    expect(outcome?.status === 'error' && outcome.message).toMatch(
      /line 20001: more than 20000 samples/,
    );
  });

  it('a hung kube-proxy is cut at the probe deadline, and recovers', async () => {
    const h = await setup();
    h.fake.hangMetrics();
    h.fake.hangHealthz();
    const outcomes = await h.round();
    for (const type of ['kube_proxy_metrics', 'kube_proxy_healthz']) {
      const outcome = outcomes.get(type);
      expect(outcome).toMatchObject({ status: 'error', event: 'round_trip_error' });
      expect(outcome?.status === 'error' && outcome.message).toMatch(/timeout after 1000ms/);
    }
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(0);
    expect(await h.value('kubenurse_kube_proxy_healthz_up')).toBe(0);
    expect(kubeProxyAlive(h.monitor)).toMatchObject({
      metrics_up: false,
      healthz_up: false,
      healthz_last_updated_age_seconds: null,
    });

    h.fake.hangMetrics(false);
    h.fake.hangHealthz(false);
    await h.round();
    expect(await h.value('kubenurse_kube_proxy_up')).toBe(1);
    expect(await h.value('kubenurse_kube_proxy_healthz_up')).toBe(1);
  });

  it('kube-proxy not listening counts connect_done', async () => {
    const h = await setup();
    await h.fake.stop();
    const outcomes = await h.round();
    expect(outcomes.get('kube_proxy_metrics')).toMatchObject({
      status: 'error',
      event: 'connect_done',
    });
    expect(
      await h.value('kubenurse_errors_total', {
        type: 'kube_proxy_metrics',
        event: 'connect_done',
      }),
    ).toBe(1);
    expect(
      await h.value('kubenurse_errors_total', {
        type: 'kube_proxy_healthz',
        event: 'connect_done',
      }),
    ).toBe(1);
  });
});

describe('createKubeProxyMonitor', () => {
  function capture() {
    const logs: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    return { logs, logger };
  }

  function context(env: Record<string, string>) {
    const { logs, logger } = capture();
    const config = parseConfig({ KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent', ...env });
    return { logs, ctx: proberContext(config, { logger }) };
  }

  it('is off with one info line when KUBENURSE_CHECK_KUBE_PROXY=false', () => {
    const { logs, ctx } = context({
      KUBENURSE_CHECK_KUBE_PROXY: 'false',
      KUBENURSE_HOST_IP: '10.0.0.7',
    });
    expect(createKubeProxyMonitor(ctx)).toBeUndefined();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 30 });
    expect(logs[0]?.msg).toContain('KUBENURSE_CHECK_KUBE_PROXY=false');
  });

  it('is skipped with one info line without host IP and URLs', async () => {
    const { logs, ctx } = context({});
    expect(createKubeProxyMonitor(ctx)).toBeUndefined();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 30 });
    expect(logs[0]?.msg).toContain('no KUBENURSE_HOST_IP');
    expect(await ctx.metrics.render()).not.toContain('kube_proxy');
  });

  it('derives both targets from KUBENURSE_HOST_IP', () => {
    const { ctx } = context({ KUBENURSE_HOST_IP: '10.0.0.7' });
    const monitor = createKubeProxyMonitor(ctx);
    expect(monitor?.checks().map((c) => c.type)).toEqual([
      'kube_proxy_metrics',
      'kube_proxy_healthz',
    ]);
    expect(ctx.config.kubeProxyMetricsUrl).toBe('http://10.0.0.7:10249/metrics');
    expect(ctx.config.kubeProxyHealthzUrl).toBe('http://10.0.0.7:10256/healthz');
  });

  it('with only a metrics URL: one check, no healthz gauges, healthz_up null in /alive', async () => {
    const { ctx } = context({ KUBENURSE_KUBE_PROXY_METRICS_URL: 'http://127.0.3.3:1/metrics' });
    const monitor = createKubeProxyMonitor(ctx);
    expect(monitor?.checks().map((c) => c.type)).toEqual(['kube_proxy_metrics']);
    const text = await ctx.metrics.render();
    expect(text).toContain('kubenurse_kube_proxy_up 0');
    expect(text).not.toContain('kubenurse_kube_proxy_healthz');
    expect(monitor?.view()).toEqual({
      metrics_up: false,
      healthz_up: null,
      sync_lag_seconds: {},
      healthz_last_updated_age_seconds: null,
      node_eligible: null,
    });
  });
});
