// The probe against real servers on loopback (127.0.1.0/24 belongs to the core tests).
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeMetrics } from '../../src/metrics.ts';
import { Prober } from '../../src/probe/http.ts';
import { buildTrust } from '../../src/probe/tls.ts';
import { createTestCa } from '../../dev/fakes/pki.ts';

const HOST = '127.0.1.1';
const servers: Array<Server | TcpServer> = [];

function listen<T extends Server | TcpServer>(server: T, host = HOST): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

function makeProber(options: { timeoutMs?: number; ca?: string; reuse?: boolean } = {}) {
  const metrics = new ProbeMetrics({
    buckets: [0.005, 0.05, 0.5, 5],
    legacyMetrics: false,
    incomingChecks: () => 0,
  });
  const trust = buildTrust({
    serviceAccountDir: '/nonexistent',
    extraCaPem: options.ca,
    insecure: false,
  });
  const prober = new Prober({
    metrics,
    trust,
    timeoutMs: options.timeoutMs ?? 2000,
    reuseConnections: options.reuse ?? false,
  });
  return { metrics, prober };
}

let httpPort = 0;
let httpsPort = 0;
let untrustedPort = 0;
let hangPort = 0;
/** Called when the server that never answers has received a request's bytes. */
let onHangRequest: (() => void) | undefined;
let refusedPort = 0;
let ca: ReturnType<typeof createTestCa>;
let seenAuthorization: string | undefined;
/** Per TLS connection the HTTPS server accepted: whether it resumed an earlier session. */
const resumedHandshakes: boolean[] = [];

beforeAll(async () => {
  ca = createTestCa();
  const other = createTestCa('some other CA');
  const app = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => {
    seenAuthorization = req.headers.authorization;
    if (req.url === '/unavailable') res.writeHead(503).end('no');
    else if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(64 * 1024, 'x'));
    else if (req.url === '/version')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"major":"1"}');
    else res.writeHead(200).end();
  };
  httpPort = await listen(createHttpServer(app));
  const own = ca.issue('server', ['localhost', HOST, '127.0.0.1', '::1']);
  const https = createHttpsServer({ cert: own.cert, key: own.key }, app);
  https.on('secureConnection', (socket) => resumedHandshakes.push(socket.isSessionReused()));
  httpsPort = await listen(https);
  const foreign = other.issue('foreign', [HOST]);
  untrustedPort = await listen(createHttpsServer({ cert: foreign.cert, key: foreign.key }, app));
  // Accepts the connection and the request but never answers: a deadline has to end it.
  hangPort = await listen(createTcpServer((socket) => socket.on('data', () => onHangRequest?.())));
  const closed = createTcpServer();
  refusedPort = await listen(closed, '127.0.1.2');
  await new Promise((resolve) => closed.close(resolve));
});

afterAll(() => {
  for (const server of servers) server.close();
});

describe('Prober.probe', () => {
  it('measures every phase of a verified HTTPS request, from one start', async () => {
    const { metrics, prober } = makeProber({ ca: ca.caCert });
    const { outcome, statusCode } = await prober.probe({
      type: 'api_server_direct',
      url: `https://${HOST}:${httpsPort}/version`,
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(outcome.status).toBe('ok');
    expect(statusCode).toBe(200);
    expect(seenAuthorization).toBe('Bearer s3cret');
    const phases = outcome.status === 'ok' ? (outcome.phases ?? {}) : {};
    expect(Object.keys(phases).sort()).toEqual(
      [
        'connect_done',
        'connect_start',
        'got_conn',
        'got_first_resp_byte',
        'tls_handshake_done',
        'tls_handshake_start',
        'wrote_request',
      ].sort(),
    );
    const order = [
      'connect_start',
      'connect_done',
      'tls_handshake_start',
      'tls_handshake_done',
      'got_conn',
      'wrote_request',
      'got_first_resp_byte',
    ];
    for (let i = 1; i < order.length; i++)
      expect(phases[order[i] as string]).toBeGreaterThanOrEqual(
        phases[order[i - 1] as string] as number,
      );
    const text = await metrics.render();
    expect(text).toContain(
      'kubenurse_httpclient_requests_total{type="api_server_direct",code="200"} 1',
    );
    expect(text).toMatch(
      /kubenurse_httpclient_request_duration_seconds_count\{type="api_server_direct"\} 1/,
    );
    expect(text).toMatch(
      /kubenurse_httpclient_trace_request_duration_seconds_count\{type="api_server_direct",event="tls_handshake_done"\} 1/,
    );
    expect(text).not.toContain('s3cret');
    await prober.close();
  });

  it('does a full TLS handshake on every fresh connection, as Go without a session cache', async () => {
    const { prober } = makeProber({ ca: ca.caCert });
    resumedHandshakes.length = 0;
    for (let i = 0; i < 3; i++) {
      const { outcome } = await prober.probe({ type: 't', url: `https://${HOST}:${httpsPort}/` });
      expect(outcome.status).toBe('ok');
      // First byte read (Go's GotFirstResponseByte) is no later than the parsed headers.
      if (outcome.status === 'ok')
        expect(outcome.phases?.got_first_resp_byte).toBeLessThanOrEqual(outcome.durationMs);
    }
    expect(resumedHandshakes).toEqual([false, false, false]);
    await prober.close();
  });

  it('resolves names: dns_start and dns_done appear for a hostname', async () => {
    const { prober } = makeProber({ ca: ca.caCert });
    // localhost may resolve to ::1 first; the server only listens on 127.0.1.1, so use HTTP on 127.0.0.1.
    const local = createHttpServer((_req, res) => res.writeHead(200).end());
    const port = await listen(local, '127.0.0.1');
    const { outcome } = await prober.probe({
      type: 'me_service',
      url: `http://localhost:${port}/alwayshappy`,
    });
    expect(outcome.status).toBe('ok');
    if (outcome.status !== 'ok') return;
    expect(outcome.phases?.dns_start).toBeDefined();
    expect(outcome.phases?.dns_done).toBeGreaterThanOrEqual(outcome.phases?.dns_start as number);
    expect(outcome.phases?.connect_done).toBeGreaterThanOrEqual(outcome.phases?.dns_done as number);
    expect(outcome.phases?.tls_handshake_start).toBeUndefined();
  });

  it('opens a fresh connection for every probe by default, and reuses one when asked', async () => {
    const connectionHeaders: (string | undefined)[] = [];
    const counted = createHttpServer((req, res) => {
      connectionHeaders.push(req.headers.connection);
      res.writeHead(200).end();
    });
    let connections = 0;
    counted.on('connection', () => connections++);
    const port = await listen(counted);
    const fresh = makeProber();
    for (let i = 0; i < 3; i++)
      expect(
        (await fresh.prober.probe({ type: 't', url: `http://${HOST}:${port}/` })).outcome.status,
      ).toBe('ok');
    expect(connections).toBe(3);
    // As Go's Transport with DisableKeepAlives, upstream's default.
    expect(connectionHeaders).toEqual(['close', 'close', 'close']);
    const reuse = makeProber({ reuse: true });
    for (let i = 0; i < 3; i++) {
      const { outcome } = await reuse.prober.probe({ type: 't', url: `http://${HOST}:${port}/` });
      expect(outcome.status).toBe('ok');
      if (i > 0 && outcome.status === 'ok') expect(outcome.phases?.connect_done).toBeUndefined();
      if (outcome.status === 'ok') expect(outcome.phases?.got_conn).toBeDefined();
    }
    expect(connections).toBe(4);
    expect(connectionHeaders.slice(3)).toEqual(['keep-alive', 'keep-alive', 'keep-alive']);
    await reuse.prober.close();
  });

  it('a refused connection is connect_done', async () => {
    const { metrics, prober } = makeProber();
    const { outcome } = await prober.probe({
      type: 'me_service',
      url: `http://127.0.1.2:${refusedPort}/alwayshappy`,
    });
    expect(outcome).toMatchObject({ status: 'error', event: 'connect_done' });
    expect(outcome.status === 'error' && outcome.message).toMatch(/ECONNREFUSED/);
    expect(await metrics.render()).toContain(
      'kubenurse_httpclient_requests_total{type="me_service",code="round_trip_error"} 1',
    );
  });

  it('an untrusted certificate is tls_handshake_done', async () => {
    const { prober } = makeProber({ ca: ca.caCert });
    const { outcome } = await prober.probe({
      type: 'api_server_dns',
      url: `https://${HOST}:${untrustedPort}/version`,
    });
    expect(outcome).toMatchObject({ status: 'error', event: 'tls_handshake_done' });
  });

  it('verification can be switched off explicitly', async () => {
    const metrics = new ProbeMetrics({
      buckets: [1],
      legacyMetrics: false,
      incomingChecks: () => 0,
    });
    const prober = new Prober({
      metrics,
      trust: { ca: [], insecure: true },
      timeoutMs: 2000,
      reuseConnections: false,
    });
    expect(
      (await prober.probe({ type: 'x', url: `https://${HOST}:${untrustedPort}/version` })).outcome
        .status,
    ).toBe('ok');
  });

  it('a server that never answers hits the deadline, stuck waiting for the response', async () => {
    const { prober } = makeProber({ timeoutMs: 300 });
    const { outcome } = await prober.probe({
      type: 'me_ingress',
      url: `http://${HOST}:${hangPort}/alwayshappy`,
    });
    expect(outcome).toMatchObject({ status: 'error', event: 'round_trip_error' });
    expect(outcome.status === 'error' && outcome.message).toMatch(/timeout after 300ms/);
  });

  it('a TLS handshake that never completes is tls_handshake_done at the deadline', async () => {
    const { prober } = makeProber({ timeoutMs: 300 });
    const { outcome } = await prober.probe({
      type: 'api_server_direct',
      url: `https://${HOST}:${hangPort}/version`,
    });
    expect(outcome).toMatchObject({ status: 'error', event: 'tls_handshake_done' });
  });

  it('a non-200 answer is status_code_<N>', async () => {
    const { metrics, prober } = makeProber();
    const { outcome, statusCode } = await prober.probe({
      type: 'me_service',
      url: `http://${HOST}:${httpPort}/unavailable`,
    });
    expect(statusCode).toBe(503);
    expect(outcome).toMatchObject({ status: 'error', event: 'status_code_503' });
    expect(await metrics.render()).toContain(
      'kubenurse_httpclient_requests_total{type="me_service",code="503"} 1',
    );
  });

  it('a name that does not resolve is dns_done', async () => {
    const { prober } = makeProber();
    const { outcome } = await prober.probe({
      type: 'api_server_dns',
      url: 'https://kubernetes.default.svc.invalid:443/version',
    });
    expect(outcome).toMatchObject({ status: 'error', event: 'dns_done' });
    expect(outcome.status === 'error' && outcome.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('returns a bounded body when asked, and fails a larger one', async () => {
    const { prober } = makeProber();
    const ok = await prober.probe({
      type: 'x',
      url: `http://${HOST}:${httpPort}/version`,
      bodyLimit: 1024,
    });
    expect(ok.body?.toString()).toBe('{"major":"1"}');
    const big = await prober.probe({
      type: 'x',
      url: `http://${HOST}:${httpPort}/big`,
      bodyLimit: 1024,
    });
    expect(big.outcome).toMatchObject({
      status: 'error',
      message: 'response body larger than 1024 bytes',
    });
    expect(big.body).toBeUndefined();
  });

  it('an aborted round cancels the probe cleanly', async () => {
    const { prober } = makeProber({ timeoutMs: 5000 });
    const controller = new AbortController();
    // Aborted while it waits for the answer: the request has reached the server.
    onHangRequest = () => controller.abort();
    const { outcome } = await prober.probe(
      { type: 'x', url: `http://${HOST}:${hangPort}/` },
      controller.signal,
    );
    onHangRequest = undefined;
    expect(outcome.status === 'error' && outcome.message).toMatch(/cancelled/);
  });

  it('forgetType removes every series of a type', async () => {
    const { metrics, prober } = makeProber();
    await prober.probe({ type: 'path_node-9', url: `http://${HOST}:${httpPort}/unavailable` });
    metrics.countError('path_node-9', 'status_code_503');
    await prober.probe({ type: 'me_service', url: `http://${HOST}:${httpPort}/` });
    expect(await metrics.render()).toContain('path_node-9');
    metrics.forgetType('path_node-9');
    const text = await metrics.render();
    expect(text).not.toContain('path_node-9');
    expect(text).toContain('type="me_service"');
  });
});
