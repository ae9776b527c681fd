import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_BUCKETS,
  ENV_VARS,
  parseConfig,
  configSummary,
} from '../../src/config.ts';

const noSa = { KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent-sa-dir' };

function fails(env: Record<string, string>, variable: string, pattern: RegExp): void {
  let error: unknown;
  try {
    parseConfig({ ...noSa, ...env });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const configError = error as ConfigError;
  expect(configError.variable).toBe(variable);
  expect(configError.message).toMatch(pattern);
  expect(configError.message).not.toContain('\n');
}

describe('parseConfig defaults (kubenurse 1.15 semantics)', () => {
  const config = parseConfig(noSa);

  it('timing', () => {
    expect(config.checkIntervalMs).toBe(5000);
    expect(config.checkTimeoutMs).toBe(5000);
    expect(config.cacheTtlMs).toBe(3000);
    expect(config.shutdownDurationMs).toBe(5000);
  });

  it('server', () => {
    expect(config.bindAddress).toBeUndefined();
    expect(config.port).toBe(8080);
    expect(config.tlsPort).toBe(8443);
    expect(config.useTls).toBe(false);
  });

  it('checks are on unless exactly "false"; toggles off unless exactly "true"', () => {
    expect(
      config.checkApiServerDirect &&
        config.checkApiServerDns &&
        config.checkMeIngress &&
        config.checkMeService &&
        config.checkNeighbourhood,
    ).toBe(true);
    expect(
      config.allowUnschedulable ||
        config.insecure ||
        config.reuseConnections ||
        config.legacyMetrics ||
        config.neighbourReadyOnly,
    ).toBe(false);
    const other = parseConfig({
      ...noSa,
      KUBENURSE_CHECK_ME_SERVICE: 'False',
      KUBENURSE_INSECURE: 'yes',
      KUBENURSE_CHECK_ME_INGRESS: 'false',
      KUBENURSE_REUSE_CONNECTIONS: 'true',
    });
    expect(other.checkMeService).toBe(true);
    expect(other.insecure).toBe(false);
    expect(other.checkMeIngress).toBe(false);
    expect(other.reuseConnections).toBe(true);
  });

  it('apiserver, neighbours, buckets', () => {
    expect(config.apiServerDns).toBe('kubernetes.default.svc.cluster.local');
    expect(config.neighbourLimit).toBe(10);
    expect(config.histogramBuckets).toEqual([...DEFAULT_BUCKETS]);
    expect(config.serviceUrl).toBe('');
    expect(config.ingressUrl).toBe('');
    expect(config.extraChecks).toEqual([]);
    // Unset, the pod name is the host name (in a pod, that is the pod's name).
    expect(config.podName).toBe(hostname());
  });

  it('kube-proxy targets come from the host IP', () => {
    expect(config.kubeProxyMetricsUrl).toBeUndefined();
    const withHost = parseConfig({ ...noSa, KUBENURSE_HOST_IP: '10.1.2.3' });
    expect(withHost.kubeProxyMetricsUrl).toBe('http://10.1.2.3:10249/metrics');
    expect(withHost.kubeProxyHealthzUrl).toBe('http://10.1.2.3:10256/healthz');
    const v6 = parseConfig({ ...noSa, KUBENURSE_HOST_IP: 'fd00::1' });
    expect(v6.kubeProxyMetricsUrl).toBe('http://[fd00::1]:10249/metrics');
    expect(
      withHost.kubeProxyMetricsFilter.test('kubeproxy_sync_proxy_rules_duration_seconds'),
    ).toBe(true);
    expect(withHost.kubeProxyMetricsFilter.test('go_goroutines')).toBe(false);
    expect(withHost.kubeProxyMetricsFilter.test('xkubeproxy_a')).toBe(false);
  });

  it('namespace falls back to the service-account namespace file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'namespace'), 'kube-nurse\n');
    expect(parseConfig({ KUBENURSE_SERVICE_ACCOUNT_DIR: dir }).namespace).toBe('kube-nurse');
    expect(
      parseConfig({ KUBENURSE_SERVICE_ACCOUNT_DIR: dir, KUBENURSE_NAMESPACE: 'other' }).namespace,
    ).toBe('other');
  });
});

describe('parseConfig values', () => {
  it('parses every documented value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const caPath = join(dir, 'ca.pem');
    writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = parseConfig({
      ...noSa,
      KUBENURSE_CHECK_INTERVAL: '10s',
      KUBENURSE_CHECK_TIMEOUT: '1500ms',
      KUBENURSE_CACHE_TTL: '0',
      KUBENURSE_SHUTDOWN_DURATION: '1m',
      KUBENURSE_BIND_ADDRESS: '127.0.0.2',
      KUBENURSE_PORT: '18080',
      KUBENURSE_SERVICE_URL: 'http://kubenurse.kube-nurse.svc.cluster.local:8080/',
      KUBENURSE_INGRESS_URL: 'https://kubenurse.example.com',
      KUBENURSE_EXTRA_CHECKS: 'google:https://example.org/x:1|local:http://127.0.0.1:9/y',
      KUBENURSE_HISTOGRAM_BUCKETS: '0.001, .01,1',
      KUBENURSE_NEIGHBOUR_LIMIT: '0',
      KUBENURSE_EXTRA_CA: caPath,
      KUBENURSE_KUBE_PROXY_METRICS: 'kubeproxy_sync_.*',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    });
    expect(config.checkIntervalMs).toBe(10_000);
    expect(config.checkTimeoutMs).toBe(1500);
    expect(config.cacheTtlMs).toBe(0);
    expect(config.shutdownDurationMs).toBe(60_000);
    expect(config.bindAddress).toBe('127.0.0.2');
    expect(config.port).toBe(18080);
    expect(config.serviceUrl).toBe('http://kubenurse.kube-nurse.svc.cluster.local:8080');
    expect(config.extraChecks).toEqual([
      { name: 'google', url: 'https://example.org/x:1' },
      { name: 'local', url: 'http://127.0.0.1:9/y' },
    ]);
    expect(config.histogramBuckets).toEqual([0.001, 0.01, 1]);
    expect(config.neighbourLimit).toBe(0);
    expect(config.extraCaPem).toContain('BEGIN CERTIFICATE');
    expect(config.apiServerHost).toBe('10.96.0.1');
  });

  it("ignores the kubelet's KUBENURSE_PORT service link of a Service named kubenurse", () => {
    expect(parseConfig({ ...noSa, KUBENURSE_PORT: 'tcp://10.96.12.34:8080' }).port).toBe(8080);
  });

  it('a short interval caps the default timeout', () => {
    expect(parseConfig({ ...noSa, KUBENURSE_CHECK_INTERVAL: '2s' }).checkTimeoutMs).toBe(2000);
  });

  it('the summary carries no CA material', () => {
    const summary = JSON.stringify(configSummary(parseConfig(noSa)));
    expect(summary).not.toContain('BEGIN');
  });
});

describe('bad configuration names the variable, the value and what is expected', () => {
  it.each([
    [{ KUBENURSE_CHECK_INTERVAL: '5' }, 'KUBENURSE_CHECK_INTERVAL', /Go duration/],
    [{ KUBENURSE_CHECK_INTERVAL: '0s' }, 'KUBENURSE_CHECK_INTERVAL', /positive/],
    [{ KUBENURSE_CHECK_INTERVAL: '-5s' }, 'KUBENURSE_CHECK_INTERVAL', /positive/],
    [
      { KUBENURSE_CHECK_TIMEOUT: '10s' },
      'KUBENURSE_CHECK_TIMEOUT',
      /no longer than KUBENURSE_CHECK_INTERVAL/,
    ],
    [{ KUBENURSE_CACHE_TTL: 'soon' }, 'KUBENURSE_CACHE_TTL', /Go duration/],
    [{ KUBENURSE_SHUTDOWN_DURATION: '5 s' }, 'KUBENURSE_SHUTDOWN_DURATION', /Go duration/],
    [{ KUBENURSE_NEIGHBOUR_LIMIT: 'ten' }, 'KUBENURSE_NEIGHBOUR_LIMIT', /whole number/],
    [{ KUBENURSE_NEIGHBOUR_LIMIT: '-1' }, 'KUBENURSE_NEIGHBOUR_LIMIT', /whole number/],
    [{ KUBENURSE_PORT: '70000' }, 'KUBENURSE_PORT', /whole number from 1 to 65535/],
    [{ KUBENURSE_HISTOGRAM_BUCKETS: '1,0.5' }, 'KUBENURSE_HISTOGRAM_BUCKETS', /ascending/],
    [{ KUBENURSE_HISTOGRAM_BUCKETS: '0.1,,1' }, 'KUBENURSE_HISTOGRAM_BUCKETS', /positive numbers/],
    [{ KUBENURSE_HISTOGRAM_BUCKETS: 'a,b' }, 'KUBENURSE_HISTOGRAM_BUCKETS', /positive numbers/],
    [{ KUBENURSE_EXTRA_CHECKS: 'nocolon' }, 'KUBENURSE_EXTRA_CHECKS', /name:url/],
    [{ KUBENURSE_EXTRA_CHECKS: 'a:ftp://x' }, 'KUBENURSE_EXTRA_CHECKS', /http/],
    [{ KUBENURSE_EXTRA_CHECKS: 'me_service:http://x' }, 'KUBENURSE_EXTRA_CHECKS', /reserved/],
    [{ KUBENURSE_EXTRA_CHECKS: 'a b:http://x' }, 'KUBENURSE_EXTRA_CHECKS', /must match/],
    [
      { KUBENURSE_EXTRA_CA: '/nonexistent/ca.pem' },
      'KUBENURSE_EXTRA_CA',
      /readable PEM file \(ENOENT\)/,
    ],
    [{ KUBENURSE_SERVICE_URL: 'kubenurse:8080' }, 'KUBENURSE_SERVICE_URL', /absolute http/],
    [{ KUBENURSE_INGRESS_URL: 'not a url' }, 'KUBENURSE_INGRESS_URL', /absolute http/],
    [{ KUBENURSE_USE_TLS: 'true' }, 'KUBENURSE_USE_TLS', /KUBENURSE_CERT_FILE/],
    [{ KUBENURSE_HOST_IP: 'node-1' }, 'KUBENURSE_HOST_IP', /IPv4 or IPv6/],
    [{ KUBENURSE_KUBE_PROXY_METRICS: '(' }, 'KUBENURSE_KUBE_PROXY_METRICS', /regular expression/],
    [{ KUBENURSE_KUBE_PROXY_MAX_BYTES: '1' }, 'KUBENURSE_KUBE_PROXY_MAX_BYTES', /whole number/],
    [{ KUBENURSE_LOG_LEVEL: 'loud' }, 'KUBENURSE_LOG_LEVEL', /one of/],
    [{ KUBERNETES_SERVICE_PORT: 'https' }, 'KUBERNETES_SERVICE_PORT', /port number/],
  ])('%j', (env, variable, pattern) => {
    fails(env, variable, pattern);
  });

  it('an extra CA file without a certificate is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    writeFileSync(join(dir, 'junk.pem'), 'hello');
    fails({ KUBENURSE_EXTRA_CA: join(dir, 'junk.pem') }, 'KUBENURSE_EXTRA_CA', /CERTIFICATE/);
  });
});

describe('ENV_VARS', () => {
  it('documents every variable config.ts reads', async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
    const read = new Set(
      [...source.matchAll(/\(\s*'((?:KUBENURSE|KUBERNETES)_[A-Z_]+)'/g)].map((match) => match[1]),
    );
    for (const name of read) expect(Object.keys(ENV_VARS)).toContain(name);
  });
});
