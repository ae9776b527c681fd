// The real prober process against the fake apiserver on loopback: /alive, /metrics, token
// rotation, the incoming-check gauge, SIGTERM, and bad configuration.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import { startProber, type ProberProcess } from '../../dev/process/prober-process.ts';
import { readUntil } from '../support/eventually.ts';

const PROBER_HOST = '127.0.1.20';
const PROBER_PORT = 18080;

let api: FakeApiServer;
let broken: Server;
let brokenPort: number;
let prober: ProberProcess;
let baseEnv: Record<string, string>;

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${prober.baseUrl}${path}`, {
    headers: { 'user-agent': 'process-test' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function metricsText(): Promise<string> {
  return (await fetch(`${prober.baseUrl}/metrics`)).text();
}

beforeAll(async () => {
  // 127.0.0.1 so that the name "localhost" (api_server_dns) reaches it; its port is ephemeral.
  api = await FakeApiServer.start({ host: '127.0.0.1' });
  broken = createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((resolve) => broken.listen(0, '127.0.1.21', resolve));
  brokenPort = (broken.address() as AddressInfo).port;
  const saDir = api.writeServiceAccountDir('kube-nurse');
  baseEnv = {
    ...api.inClusterEnv(saDir),
    KUBERNETES_SERVICE_DNS: 'localhost',
    KUBENURSE_BIND_ADDRESS: PROBER_HOST,
    KUBENURSE_PORT: String(PROBER_PORT),
    KUBENURSE_POD_NAME: 'kubenurse-test',
    KUBENURSE_CHECK_INTERVAL: '1s',
    KUBENURSE_CACHE_TTL: '500ms',
    KUBENURSE_SHUTDOWN_DURATION: '3s',
    KUBENURSE_SERVICE_URL: `http://${PROBER_HOST}:${PROBER_PORT}`,
    KUBENURSE_INGRESS_URL: `http://${PROBER_HOST}:${PROBER_PORT}/`,
    // Credentials in a URL must never reach a log line (they are still sent).
    KUBENURSE_EXTRA_CHECKS: `broken:http://alice:hunter2@127.0.1.21:${brokenPort}/health?apikey=s3cr3t`,
    KUBENURSE_CHECK_NEIGHBOURHOOD: 'false',
    KUBENURSE_CHECK_KUBE_PROXY: 'false',
    KUBENURSE_LEGACY_METRICS: 'true',
  };
  prober = startProber(baseEnv);
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
  broken?.close();
  await api?.close();
});

describe('prober process', () => {
  it("/alive has kubenurse's JSON shape and every check result", async () => {
    const alive = await readUntil(
      () => getJson('/alive?x=1'),
      (body) => (body.last_check_result as Record<string, string>).api_server_dns === 'ok',
    );
    // kubenurse's six keys in its order (the kube-proxy monitor is off here).
    expect(Object.keys(alive)).toEqual([
      'hostname',
      'headers',
      'user_agent',
      'request_uri',
      'remote_addr',
      'last_check_result',
    ]);
    expect(alive.user_agent).toBe('process-test');
    expect(alive.request_uri).toBe('/alive?x=1');
    expect((alive.headers as Record<string, string[]>)['User-Agent']).toEqual(['process-test']);
    const results = alive.last_check_result as Record<string, string>;
    // Neighbour checks off: kubenurse says so inside last_check_result, with no neighbourhood key.
    expect(results.neighbourhood_state).toBe('skipped');
    expect(results).not.toHaveProperty('neighbourhood');
    expect(results.api_server_direct).toBe('ok');
    expect(results.api_server_dns).toBe('ok');
    expect(results.me_service).toBe('ok');
    expect(results.me_ingress).toBe('ok');
    expect(results.broken).toBe('503 Service Unavailable');
  });

  it("/metrics exposes kubenurse's families with the right labels", async () => {
    const text = await readUntil(metricsText, (body) =>
      body.includes('kubenurse_errors_total{type="broken",event="status_code_503"}'),
    );
    expect(text).toMatch(/kubenurse_errors_total\{type="broken",event="status_code_503"\} \d+/);
    expect(text).toMatch(
      /kubenurse_httpclient_requests_total\{type="api_server_direct",code="200"\} \d+/,
    );
    expect(text).toMatch(
      /kubenurse_httpclient_trace_request_duration_seconds_bucket\{le="[^"]+",type="api_server_dns",event="dns_done"\}/,
    );
    expect(text).toMatch(
      /kubenurse_httpclient_request_duration_seconds_count\{type="me_service"\} \d+/,
    );
    expect(text).toMatch(/kubenurse_request_duration_count\{type="me_ingress"\} \d+/);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).not.toMatch(/kubenurse_errors_total\{type="api_server_direct"/);
  });

  it('the apiserver checks carry the service-account token, re-read after rotation', async () => {
    const before = api.requests.filter((r) => r.path === '/version').at(-1);
    expect(before?.token).toBe(api.token);
    api.setToken('rotated-token-value');
    const alive = await readUntil(
      async () => {
        const last = api.requests.filter((r) => r.path === '/version').at(-1);
        return last?.token === 'rotated-token-value' && last.status === 200;
      },
      (ok) => ok,
    );
    expect(alive).toBe(true);
    // A round that started before the rotation may still answer /alive (401 then); the next one
    // carries the rotated token.
    const body = await readUntil(
      () => getJson('/alive'),
      (b) => (b.last_check_result as Record<string, string>).api_server_direct === 'ok',
    );
    expect((body.last_check_result as Record<string, string>).api_server_direct).toBe('ok');
    expect(prober.output()).not.toContain('rotated-token-value');
  });

  it('records neighbours calling /alwayshappy', async () => {
    for (const origin of ['kubenurse-a', 'kubenurse-b', 'kubenurse-a']) {
      await fetch(`${prober.baseUrl}/alwayshappy`, {
        headers: { 'KUBENURSE-NEIGHBOUR-ORIGIN': origin },
      });
    }
    expect(await metricsText()).toMatch(/^kubenurse_neighbourhood_incoming_checks 2$/m);
  });

  it('redirects / to /alive', async () => {
    const response = await fetch(`${prober.baseUrl}/`, {
      redirect: 'manual',
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/alive');
  });

  it('logs one JSON line per failed check with type and event', () => {
    const lines = prober
      .output()
      .split('\n')
      .filter((line) => line.includes('"check failed"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({ type: 'broken', event: 'status_code_503', level: 50 });
    expect(prober.output()).not.toMatch(/"msg":"check (ok|succeeded)"/);
  });

  it('logs no credential from a configured URL (start-up summary, failed checks)', () => {
    const output = prober.output();
    expect(output).toContain('"starting kubenurse-ts"');
    expect(output).toContain('http://***@127.0.1.21');
    expect(output).not.toMatch(/alice|hunter2|s3cr3t/);
  });

  it('on SIGTERM: /ready 503 at once, serving for the shutdown duration, then exit 0', async () => {
    const ready = await fetch(`${prober.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    const signalledAt = Date.now();
    prober.child.kill('SIGTERM');
    // "At once" on a loaded machine means: before the shutdown duration is over.
    const status = await readUntil(
      async () => (await fetch(`${prober.baseUrl}/ready`)).status,
      (code) => code === 503,
      2500,
    );
    expect(status).toBe(503);
    expect((await fetch(`${prober.baseUrl}/alwayshappy`)).status).toBe(200);
    expect(await prober.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(3000);
    await expect(
      fetch(`${prober.baseUrl}/alwayshappy`, { signal: AbortSignal.timeout(1000) }),
    ).rejects.toThrow();
  });
});

describe('bad configuration', () => {
  it.each([
    [
      'KUBENURSE_CHECK_INTERVAL',
      'often',
      /KUBENURSE_CHECK_INTERVAL="often": expected a Go duration/,
    ],
    [
      'KUBENURSE_HISTOGRAM_BUCKETS',
      '1,0.1',
      /KUBENURSE_HISTOGRAM_BUCKETS="1,0.1": expected comma-separated positive numbers in strictly ascending order/,
    ],
    ['KUBENURSE_EXTRA_CHECKS', 'nocolon', /KUBENURSE_EXTRA_CHECKS/],
    [
      'KUBENURSE_EXTRA_CHECKS',
      'bad name:https://alice:hunter2@x.example/?apikey=s3cr3t',
      /^(?!.*(alice|hunter2|s3cr3t)).*KUBENURSE_EXTRA_CHECKS=".*https:\/\/\*\*\*@x\.example\/\?apikey=\*\*\*/,
    ],
  ])('%s=%s stops the process with exit 2 and one line', async (name, value, pattern) => {
    const bad = startProber({ ...baseEnv, KUBENURSE_PORT: '18081', [name]: value });
    expect(await bad.exited).toBe(2);
    const output = bad.output().trim();
    expect(output.split('\n')).toHaveLength(1);
    expect(output).toMatch(pattern);
  });
});
