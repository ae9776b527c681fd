// Upstream: internal/kubenurse/handler_test.go (TestServerHandler: "/" 301, /ready 200,
// /alive 500 before any check ran, /alwayshappy 200, /metrics 200), internal/kubenurse/server.go
// (the routes: HandleFunc without a method, "/" as RedirectHandler(StatusMovedPermanently),
// which Go's ServeMux uses for every path no other pattern matches; the incoming-checks gauge)
// and handler.go (/alive answers 500 while LastCheckResult is nil; /alwayshappy records
// KUBENURSE-NEIGHBOUR-ORIGIN). The real prober process; 127.0.7.1–2 belong to this file.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';
import { eventually } from '../support/eventually.ts';

const HOST = '127.0.7.1';
const PORT = 18_701;
const TARGET = '127.0.7.2';
const BASE = `http://${HOST}:${PORT}`;

let prober: ProberProcess | undefined;
let target: Server | undefined;
/** The first round's check waits for this: the test sees /alive before any round finished. */
let releaseFirstRound: () => void = () => undefined;

beforeAll(async () => {
  const firstRequest = new Promise<void>((resolve) => (releaseFirstRound = resolve));
  let seen = 0;
  target = createServer((req, res) => {
    if (seen++ === 0) void firstRequest.then(() => res.end());
    else res.end();
  });
  await new Promise<void>((resolve) => target?.listen(0, TARGET, resolve));
  const address = target.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  prober = startProber(
    {
      ...QUIET_PROBER_ENV,
      KUBENURSE_BIND_ADDRESS: HOST,
      KUBENURSE_PORT: String(PORT),
      KUBENURSE_EXTRA_CHECKS: `held:http://${TARGET}:${port}/held`,
      // Long enough that only the test's release ends the first round.
      KUBENURSE_CHECK_INTERVAL: '60s',
      KUBENURSE_CHECK_TIMEOUT: '60s',
    },
    { port: PORT },
  );
  await prober.waitUntilServing();
});

afterAll(async () => {
  releaseFirstRound();
  await prober?.stop();
  target?.close();
});

const get = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${BASE}${path}`, { redirect: 'manual', ...init });

describe('endpoints (handler_test.go, server.go, handler.go)', () => {
  it('/alive answers 500 with an empty body until the first round has finished', async () => {
    const before = await get('/alive');
    expect(before.status).toBe(500);
    expect(await before.text()).toBe('');
    releaseFirstRound();
    await eventually(async () => expect((await get('/alive')).status).toBe(200), 20_000);
  });

  it.each([
    ['/', 301],
    ['/ready', 200],
    ['/alwayshappy', 200],
    ['/metrics', 200],
  ])('GET %s answers %i (TestServerHandler)', async (path, status) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    if (status === 301) expect(response.headers.get('location')).toBe('/alive');
    await response.arrayBuffer();
  });

  it('every path no route matches redirects 301 to /alive, trailing slashes included', async () => {
    for (const path of ['/nope', '/alive/', '/ready/', '/metrics/x', '/alwayshappy/']) {
      const response = await get(path);
      expect(response.status, path).toBe(301);
      expect(response.headers.get('location'), path).toBe('/alive');
    }
  });

  it('the routes answer every method, as HandleFunc without a method does', async () => {
    await eventually(async () => expect((await get('/alive')).status).toBe(200), 20_000);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const [path, status] of [
        ['/alive', 200],
        ['/alwayshappy', 200],
        ['/ready', 200],
        ['/metrics', 200],
      ] as const) {
        const response = await get(path, { method });
        expect(response.status, `${method} ${path}`).toBe(status);
        await response.arrayBuffer();
      }
    }
  });

  it('/alwayshappy has an empty body and counts distinct KUBENURSE-NEIGHBOUR-ORIGIN callers', async () => {
    for (const origin of ['kubenurse-x', 'kubenurse-y', 'kubenurse-x']) {
      const response = await get('/alwayshappy', {
        headers: { 'KUBENURSE-NEIGHBOUR-ORIGIN': origin },
      });
      expect(await response.text()).toBe('');
    }
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^kubenurse_neighbourhood_incoming_checks 2$/m);
  });
});
