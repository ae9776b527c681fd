// Probes through a real forward proxy (absolute-form GET and CONNECT), written here for the test.
// Target names are not loopback names, so the prober must not resolve them: only the proxy does,
// mapping them onto loopback servers.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeMetrics } from '../../src/metrics.ts';
import { Prober } from '../../src/probe/http.ts';
import { proxySettingsFromEnv } from '../../src/probe/proxy.ts';
import { buildTrust } from '../../src/probe/tls.ts';
import { createTestCa } from '../../dev/fakes/pki.ts';

const servers: Server[] = [];
const names = new Map<string, string>(); // target host name → loopback address
let proxyPort = 0;
let httpPort = 0;
let httpsPort = 0;
const seen: Array<{ method: string; url: string; auth: string | undefined }> = [];
let ca: ReturnType<typeof createTestCa>;

async function listen(server: Server, host: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  ca = createTestCa();
  names.set('neighbour.test', '127.0.1.41');
  names.set('apiserver.test', '127.0.1.42');
  httpPort = await listen(
    createServer((_req, res) => res.writeHead(200).end()),
    '127.0.1.41',
  );
  const cert = ca.issue('apiserver', ['apiserver.test']);
  httpsPort = await listen(
    createHttpsServer({ cert: cert.cert, key: cert.key }, (_req, res) =>
      res.writeHead(200).end('{}'),
    ),
    '127.0.1.42',
  );

  const proxy = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers['proxy-authorization'],
    });
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      {
        host: names.get(target.hostname),
        port: target.port,
        path: target.pathname,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end();
  });
  proxy.on('connect', (req, socket) => {
    seen.push({ method: 'CONNECT', url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const address = names.get(host);
    if (!address) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), address, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  proxyPort = await listen(proxy, '127.0.1.40');
});

afterAll(() => {
  for (const server of servers) server.close();
});

function proberWith(env: Record<string, string>) {
  const metrics = new ProbeMetrics({ buckets: [1], legacyMetrics: false, incomingChecks: () => 0 });
  const trust = buildTrust({
    serviceAccountDir: '/nonexistent',
    extraCaPem: ca.caCert,
    insecure: false,
  });
  return new Prober({
    metrics,
    trust,
    timeoutMs: 3000,
    reuseConnections: false,
    proxy: proxySettingsFromEnv(env),
  });
}

describe('probes through HTTP_PROXY / HTTPS_PROXY', () => {
  it('plain HTTP goes through the proxy as an absolute-form request, with proxy credentials', async () => {
    const prober = proberWith({ HTTP_PROXY: `http://user:p%40ss@127.0.1.40:${proxyPort}` });
    const { outcome } = await prober.probe({
      type: 'path_x',
      url: `http://neighbour.test:${httpPort}/alwayshappy`,
    });
    expect(outcome.status).toBe('ok');
    expect(seen.at(-1)).toEqual({
      method: 'GET',
      url: `http://neighbour.test:${httpPort}/alwayshappy`,
      auth: `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    });
  });

  it('HTTPS is tunnelled with CONNECT and the target certificate is still verified', async () => {
    const prober = proberWith({ HTTPS_PROXY: `127.0.1.40:${proxyPort}` });
    const { outcome } = await prober.probe({
      type: 'api_server_dns',
      url: `https://apiserver.test:${httpsPort}/version`,
    });
    expect(outcome.status).toBe('ok');
    expect(seen.at(-1)).toMatchObject({ method: 'CONNECT', url: `apiserver.test:${httpsPort}` });
    if (outcome.status !== 'ok') return;
    expect(Object.keys(outcome.phases ?? {})).toEqual(
      expect.arrayContaining([
        'connect_done',
        'tls_handshake_start',
        'tls_handshake_done',
        'got_conn',
        'wrote_request',
        'got_first_resp_byte',
      ]),
    );
    expect(outcome.phases?.dns_start).toBeUndefined();
  });

  it('a refused CONNECT is a connect_done failure naming the proxy answer', async () => {
    const prober = proberWith({ HTTPS_PROXY: `http://127.0.1.40:${proxyPort}` });
    const { outcome } = await prober.probe({ type: 'x', url: 'https://unknown.test/version' });
    expect(outcome).toMatchObject({ status: 'error', event: 'connect_done' });
    expect(outcome.status === 'error' && outcome.message).toMatch(
      /proxy refused CONNECT unknown\.test:443: HTTP\/1\.1 403/,
    );
  });

  it('loopback targets go direct even with a proxy set (NO_PROXY rules: unit tests)', async () => {
    const before = seen.length;
    const prober = proberWith({ HTTP_PROXY: `http://127.0.1.40:${proxyPort}` });
    const { outcome } = await prober.probe({ type: 'x', url: `http://127.0.1.41:${httpPort}/` });
    expect(outcome.status).toBe('ok');
    expect(seen.length).toBe(before);
  });
});
