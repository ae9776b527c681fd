// Redirects and URL credentials as upstream's probes see them, against real HTTP(S) servers on
// loopback (127.0.5.0/24 belongs to this file).
// Derived from upstream internal/servicecheck/transport.go (doRequest: Go's http.Client.Do,
// the Bearer token for URLs ending in /version) and internal/servicecheck/httptrace.go (what
// requests_total and the trace histograms count), with Go's net/http client.go rules.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeMetrics } from '../../src/metrics.ts';
import { Prober } from '../../src/probe/http.ts';
import { buildTrust } from '../../src/probe/tls.ts';
import { createTestCa, type TestCa } from '../../dev/fakes/pki.ts';
import { eventually } from '../support/eventually.ts';

const A = '127.0.5.1';
const B = '127.0.5.2';
const servers: Server[] = [];

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly referer: string | undefined;
}

/** A server that answers by path: /to/<status>?<location> redirects, anything else is 200. */
function redirector(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      referer: req.headers.referer,
    });
    const match = /^\/to\/(\d{3})(?:\?(.*))?$/.exec(req.url ?? '');
    if (match) {
      const location = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
      res.writeHead(Number(match[1]), location === undefined ? {} : { location });
      res.end('moved');
      return;
    }
    const loop = /^\/loop\/(\d+)$/.exec(req.url ?? '');
    if (loop) {
      res.writeHead(302, { location: `/loop/${Number(loop[1]) + 1}` }).end();
      return;
    }
    if (req.url === '/protected' && req.headers.authorization !== basic('kube:p@ss w0rd')) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200).end('ok');
  };
}

function listen(server: Server, host: string): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const to = (status: number, location?: string) =>
  `/to/${status}${location === undefined ? '' : `?${encodeURIComponent(location)}`}`;

let ca: TestCa;
function makeProber(reuse = false) {
  const metrics = new ProbeMetrics({
    buckets: [0.1, 1],
    legacyMetrics: false,
    incomingChecks: () => 0,
  });
  const trust = buildTrust({
    serviceAccountDir: '/nonexistent',
    extraCaPem: ca.caCert,
    insecure: false,
  });
  return {
    metrics,
    prober: new Prober({ metrics, trust, timeoutMs: 5000, reuseConnections: reuse }),
  };
}

const seenA: Seen[] = [];
const seenA2: Seen[] = [];
const seenB: Seen[] = [];
const seenTls: Seen[] = [];
let portA = 0;
let portA2 = 0;
let portB = 0;
let portTls = 0;

beforeAll(async () => {
  ca = createTestCa();
  portA = await listen(createServer(redirector(seenA)), A);
  portA2 = await listen(createServer(redirector(seenA2)), A);
  portB = await listen(createServer(redirector(seenB)), B);
  const cert = ca.issue('redirector', [A]);
  portTls = await listen(
    createHttpsServer({ cert: cert.cert, key: cert.key }, redirector(seenTls)),
    A,
  );
});

afterAll(() => {
  for (const server of servers) server.close();
});

function reset(): void {
  for (const list of [seenA, seenA2, seenB, seenTls]) list.length = 0;
}

describe('redirects (Go http.Client rules)', () => {
  it.each([301, 302, 303, 307, 308])(
    '%i is followed with GET; the check is ok and counts only the final answer',
    async (status) => {
      reset();
      const { metrics, prober } = makeProber();
      const { outcome, statusCode } = await prober.probe({
        type: 'me_ingress',
        url: `http://${A}:${portA}${to(status, '/alwayshappy')}`,
      });
      expect(outcome.status).toBe('ok');
      expect(statusCode).toBe(200);
      expect(seenA.map((s) => `${s.method} ${s.url}`)).toEqual([
        `GET ${to(status, '/alwayshappy')}`,
        'GET /alwayshappy',
      ]);
      const text = await metrics.render();
      expect(text).toContain('kubenurse_httpclient_requests_total{type="me_ingress",code="200"} 1');
      expect(text).not.toContain(`code="${status}"`);
      expect(text).toContain(
        'kubenurse_httpclient_request_duration_seconds_count{type="me_ingress"} 1',
      );
      // One observation per event: the phases of the final hop, timed from the first hop's start.
      expect(text).toContain(
        'kubenurse_httpclient_trace_request_duration_seconds_count{type="me_ingress",event="got_first_resp_byte"} 1',
      );
      expect(text).toContain(
        'kubenurse_httpclient_trace_request_duration_seconds_count{type="me_ingress",event="connect_done"} 1',
      );
    },
  );

  it('phases describe the final hop, timed from the start of the first', async () => {
    const { prober } = makeProber();
    // A holds its redirect until the test releases it, so the first hop has a known minimum
    // length on this process's clock: [received, answered].
    let received: number | undefined;
    let release: (() => void) | undefined;
    const holder = createServer((_req, res) => {
      received = performance.now();
      release = () => {
        answered = performance.now();
        res.writeHead(302, { location: `http://${B}:${portB}/alwayshappy` }).end();
      };
    });
    let answered = 0;
    const port = await listen(holder, A);
    const probing = prober.probe({ type: 't', url: `http://${A}:${port}/` });
    await eventually(() => expect(release).toBeDefined());
    release?.();
    const { outcome } = await probing;
    if (outcome.status !== 'ok') throw new Error('expected ok');
    const phases = outcome.phases ?? {};
    // The probe started before A received its request, and the final hop connected after A
    // answered: so the final hop's connect_start, counted from the probe's start, is at least
    // the time A held the request. The first hop's connect_start would be far smaller.
    expect(phases.connect_start).toBeGreaterThanOrEqual(answered - (received as number));
    expect(phases.connect_done).toBeGreaterThanOrEqual(phases.connect_start as number);
    // Go's GotFirstResponseByte: the first byte read, before the headers are parsed and the
    // round trip (the request duration) ends.
    expect(phases.got_first_resp_byte).toBeGreaterThanOrEqual(phases.wrote_request as number);
    expect(phases.got_first_resp_byte).toBeLessThanOrEqual(outcome.durationMs);
    expect(seenB.at(-1)?.url).toBe('/alwayshappy');
  });

  it('a relative Location resolves against the current URL, query included', async () => {
    reset();
    const { prober } = makeProber();
    const { outcome } = await prober.probe({
      type: 't',
      url: `http://${A}:${portA}${to(301, '../x/y?q=1')}`,
    });
    expect(outcome.status).toBe('ok');
    expect(seenA.at(-1)?.url).toBe('/x/y?q=1');
  });

  it('follows 10 redirects', async () => {
    reset();
    const { prober } = makeProber();
    const { outcome } = await prober.probe({ type: 't', url: `http://${A}:${portA}/loop/0` });
    // /loop/N redirects forever: the 11th answer is a redirect Go does not follow.
    expect(seenA.length).toBe(11);
    expect(outcome).toMatchObject({
      status: 'error',
      event: 'status_code_302',
      message: 'Get "/loop/11": stopped after 10 redirects',
    });
  });

  it("after 10 redirects: Go's error, the last status counted once, no round_trip_error", async () => {
    reset();
    const { metrics, prober } = makeProber();
    const { outcome, statusCode } = await prober.probe({
      type: 'loop',
      url: `http://${A}:${portA}/loop/0`,
    });
    expect(statusCode).toBe(302);
    expect(outcome.status === 'error' && outcome.message).toBe(
      'Get "/loop/11": stopped after 10 redirects',
    );
    const text = await metrics.render();
    expect(text).toContain('kubenurse_httpclient_requests_total{type="loop",code="302"} 1');
    expect(text).not.toContain('code="round_trip_error"');
  });

  it('exactly 10 redirects end in the answer of the 11th request', async () => {
    reset();
    const { prober } = makeProber();
    let location = '/alwayshappy';
    for (let i = 0; i < 9; i++) location = to(307, location);
    const { outcome } = await prober.probe({
      type: 't',
      url: `http://${A}:${portA}${to(308, location)}`,
    });
    expect(outcome.status).toBe('ok');
    expect(seenA.length).toBe(11);
  });

  it('a redirect without Location is the answer, as is', async () => {
    reset();
    const { metrics, prober } = makeProber();
    const { outcome, statusCode } = await prober.probe({
      type: 'noloc',
      url: `http://${A}:${portA}${to(301)}`,
    });
    expect(statusCode).toBe(301);
    expect(outcome).toMatchObject({ status: 'error', event: 'status_code_301' });
    expect(seenA.length).toBe(1);
    expect(await metrics.render()).toContain(
      'kubenurse_httpclient_requests_total{type="noloc",code="301"} 1',
    );
  });

  it('other 3xx codes are answers, not redirects', async () => {
    reset();
    const { prober } = makeProber();
    for (const status of [300, 304, 305, 306]) {
      const { statusCode } = await prober.probe({
        type: 't',
        url: `http://${A}:${portA}${to(status, '/alwayshappy')}`,
      });
      expect(statusCode).toBe(status);
    }
    expect(seenA.length).toBe(4);
  });

  it('a hop that cannot connect fails in its phase, named by that hop', async () => {
    const { metrics, prober } = makeProber();
    const closed = createServer();
    const port = await listen(closed, B);
    await new Promise((resolve) => closed.close(resolve));
    const { outcome } = await prober.probe({
      type: 'gone',
      url: `http://${A}:${portA}${to(302, `http://${B}:${port}/alwayshappy`)}`,
    });
    expect(outcome).toMatchObject({ status: 'error', event: 'connect_done' });
    expect(outcome.status === 'error' && outcome.message).toContain(
      `http://${B}:${port}/alwayshappy`,
    );
    const text = await metrics.render();
    expect(text).toContain(
      'kubenurse_httpclient_requests_total{type="gone",code="round_trip_error"} 1',
    );
    expect(text).not.toContain('code="302"');
  });

  it('http -> https works and sends a Referer; https -> http sends none', async () => {
    reset();
    const { prober } = makeProber();
    const up = await prober.probe({
      type: 't',
      url: `http://${A}:${portA}${to(301, `https://${A}:${portTls}/alwayshappy`)}`,
    });
    expect(up.outcome.status).toBe('ok');
    expect(seenTls.at(-1)?.referer).toBe(
      `http://${A}:${portA}${to(301, `https://${A}:${portTls}/alwayshappy`)}`,
    );
    const down = await prober.probe({
      type: 't',
      url: `https://${A}:${portTls}${to(302, `http://${A}:${portA}/alwayshappy`)}`,
    });
    expect(down.outcome.status).toBe('ok');
    expect(seenA.at(-1)?.url).toBe('/alwayshappy');
    expect(seenA.at(-1)?.referer).toBeUndefined();
  });
});

describe('the service-account token across redirects', () => {
  const token = { authorization: 'Bearer s3cret-token' };

  it('goes to the same host on any port, never to another host, and not back afterwards', async () => {
    reset();
    const { prober } = makeProber();
    // A -> A (other port) -> B -> A: Go keeps the header for the host's own ports, drops it
    // from the first hop to another domain on, for the rest of the chain.
    const back = `http://${A}:${portA}/version`;
    const viaB = `http://${B}:${portB}${to(302, back)}`;
    const viaA2 = `http://${A}:${portA2}${to(307, viaB)}`;
    const { outcome } = await prober.probe({
      type: 'api_server_direct',
      url: `http://${A}:${portA}${to(301, viaA2)}`,
      headers: token,
    });
    expect(outcome.status).toBe('ok');
    expect(seenA[0]?.authorization).toBe(token.authorization);
    expect(seenA2[0]?.authorization).toBe(token.authorization);
    expect(seenB[0]?.authorization).toBeUndefined();
    expect(seenA[1]?.url).toBe('/version');
    expect(seenA[1]?.authorization).toBeUndefined();
  });
});

describe('credentials in the URL (Go sends them as Basic auth)', () => {
  const secretUrl = (port: number, path: string) => `http://kube:p%40ss%20w0rd@${A}:${port}${path}`;

  it('a protected check passes with the decoded user:password', async () => {
    reset();
    const { prober } = makeProber();
    const { outcome } = await prober.probe({ type: 'extra', url: secretUrl(portA, '/protected') });
    expect(outcome.status).toBe('ok');
    expect(seenA[0]?.authorization).toBe(basic('kube:p@ss w0rd'));
  });

  it('an explicit Authorization header wins, as in Go', async () => {
    reset();
    const { prober } = makeProber();
    await prober.probe({
      type: 'extra',
      url: secretUrl(portA, '/alwayshappy'),
      headers: { authorization: 'Bearer t' },
    });
    expect(seenA[0]?.authorization).toBe('Bearer t');
  });

  it('a relative redirect keeps them; a redirect elsewhere has none unless its Location has its own', async () => {
    reset();
    const { prober } = makeProber();
    await prober.probe({ type: 'extra', url: secretUrl(portA, to(302, '/protected')) });
    expect(seenA.map((s) => s.authorization)).toEqual([
      basic('kube:p@ss w0rd'),
      basic('kube:p@ss w0rd'),
    ]);
    expect(seenA[1]?.referer).toBe(`http://${A}:${portA}${to(302, '/protected')}`);

    await prober.probe({
      type: 'extra',
      url: secretUrl(portA, to(302, `http://${A}:${portA2}/x`)),
    });
    expect(seenA2.at(-1)?.authorization).toBeUndefined();

    await prober.probe({
      type: 'extra',
      url: secretUrl(portA, to(302, `http://other:pw@${B}:${portB}/x`)),
    });
    expect(seenB.at(-1)?.authorization).toBe(basic('other:pw'));
  });

  it('never appear in a result, a metric or a failure message', async () => {
    const { metrics, prober } = makeProber();
    const results = [
      await prober.probe({ type: 'extra', url: `http://kube:wr0ng@${A}:${portA}/protected` }),
      await prober.probe({ type: 'extra', url: `http://kube:wr0ng@${A}:1/x` }),
      await prober.probe({ type: 'extra', url: `http://kube:wr0ng@${A}:${portA}/loop/0` }),
    ];
    expect(results[0]?.outcome).toMatchObject({ status: 'error', event: 'status_code_401' });
    const text = JSON.stringify(results) + (await metrics.render());
    expect(text).not.toMatch(/wr0ng|kube:|a3ViZTp3cjBuZw/);
  });
});

describe('KUBENURSE_REUSE_CONNECTIONS=true with probes of one origin at once', () => {
  it('gives each probe its own connection and its own phases, keeping at most two idle', async () => {
    let connections = 0;
    const held: ServerResponse[] = [];
    let waitingFor = 3;
    const holding = createServer((req, res) => {
      if (req.url === '/hold') {
        // Answer only once three requests wait at the same time: they must be on three connections.
        held.push(res);
        if (held.length === waitingFor)
          for (const each of held.splice(0)) each.writeHead(200).end();
        return;
      }
      res.writeHead(200).end();
    });
    holding.on('connection', () => connections++);
    const port = await listen(holding, B);
    const { metrics, prober } = makeProber(true);
    const probeHold = () => prober.probe({ type: 'path_n', url: `http://${B}:${port}/hold` });

    const first = await Promise.all([probeHold(), probeHold(), probeHold()]);
    expect(connections).toBe(3);
    for (const { outcome } of first) {
      if (outcome.status !== 'ok') throw new Error('expected ok');
      const phases = outcome.phases ?? {};
      // Every probe saw its own fresh connection being made and its own request written.
      for (const event of [
        'connect_start',
        'connect_done',
        'got_conn',
        'wrote_request',
        'got_first_resp_byte',
      ])
        expect(phases[event], event).toBeDefined();
      expect(phases.wrote_request).toBeGreaterThanOrEqual(phases.connect_done as number);
      expect(phases.got_first_resp_byte).toBeGreaterThanOrEqual(phases.wrote_request as number);
    }
    const text = await metrics.render();
    for (const event of ['connect_done', 'wrote_request', 'got_first_resp_byte'])
      expect(text).toContain(
        `kubenurse_httpclient_trace_request_duration_seconds_count{type="path_n",event="${event}"} 3`,
      );

    // Two connections stayed idle (Go's MaxIdleConnsPerHost): a sequential probe reuses one.
    const again = await prober.probe({ type: 'path_n', url: `http://${B}:${port}/` });
    expect(connections).toBe(3);
    if (again.outcome.status !== 'ok') throw new Error('expected ok');
    expect(again.outcome.phases?.connect_done).toBeUndefined();
    expect(again.outcome.phases?.got_conn).toBeDefined();

    // Three at once again: two idle connections are reused, one is new. Only the probe on the
    // new one has connect phases; each has its own request written and its own first byte.
    const second = await Promise.all([probeHold(), probeHold(), probeHold()]);
    expect(second.map((r) => r.outcome.status)).toEqual(['ok', 'ok', 'ok']);
    expect(connections).toBe(4);
    const phasesOf = second.map((r) => (r.outcome.status === 'ok' ? r.outcome.phases : {}) ?? {});
    expect(phasesOf.filter((phases) => phases.connect_start !== undefined)).toHaveLength(1);
    expect(phasesOf.filter((phases) => phases.connect_done !== undefined)).toHaveLength(1);
    for (const phases of phasesOf)
      for (const event of ['got_conn', 'wrote_request', 'got_first_resp_byte'])
        expect(phases[event], event).toBeDefined();
    // Every probe's phases were recorded once, under its own type.
    const after = await metrics.render();
    for (const [event, count] of [
      ['connect_done', 4],
      ['wrote_request', 7],
      ['got_first_resp_byte', 7],
    ] as const)
      expect(after).toContain(
        `kubenurse_httpclient_trace_request_duration_seconds_count{type="path_n",event="${event}"} ${count}`,
      );
    waitingFor = 0;
    await prober.close();
  });
});
