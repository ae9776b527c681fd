// Upstream: internal/kubenurse/handler.go (the Output struct: hostname, headers = Go's
// Request.Header, user_agent, request_uri, remote_addr, last_check_result; json.Encoder with a
// one-space indent, HTML escaping on), internal/servicecheck/servicecheck.go (Run: one result
// map with every check type, neighbourhood_state and, when discovery ran, neighbourhood;
// "skipped" when the neighbour checks are off; the discovery error text when it failed),
// internal/servicecheck/transport.go (a non-200 answer's result is resp.Status),
// servicecheck_test.go (TestCombined: check_ok → "ok", check_not_found → "404 Not Found",
// neighbourhood_state "ok" with the fake neighbour pod) and neighbours.go (the Neighbour
// fields, NodeHash = first 8 bytes of sha256(nodeName) as a uint64).
// 127.0.7.10–13 belong to this file.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';
import type { RoundResult } from '../../src/checks/round.ts';
import { Scheduler } from '../../src/checks/scheduler.ts';
import { parseConfig } from '../../src/config.ts';
import { IncomingChecks } from '../../src/incoming.ts';
import { createLogger } from '../../src/log.ts';
import { ProbeMetrics } from '../../src/metrics.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { NeighbourhoodView } from '../../src/state.ts';
import { eventually } from '../support/eventually.ts';

const HOST = '127.0.7.10';
const PORT = 18_710;
const TARGET = '127.0.7.11';
const IN_PROCESS = '127.0.7.12';
const REFUSING = '127.0.7.13';

let prober: ProberProcess | undefined;
let target: Server | undefined;

beforeAll(async () => {
  target = createServer((req, res) => {
    res.statusCode = req.url === '/not-found' ? 404 : 200;
    res.end();
  });
  await new Promise<void>((resolve) => target?.listen(0, TARGET, resolve));
  const address = target.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  prober = startProber(
    {
      ...QUIET_PROBER_ENV,
      KUBENURSE_BIND_ADDRESS: HOST,
      KUBENURSE_PORT: String(PORT),
      // servicecheck_test.go's extra checks, and one whose error text carries an '&'.
      KUBENURSE_EXTRA_CHECKS: [
        `check_not_found:http://${TARGET}:${port}/not-found`,
        `check_ok:http://${TARGET}:${port}/ok`,
        `check_amp:http://${REFUSING}:9/a&b`,
      ].join('|'),
    },
    { port: PORT },
  );
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
  target?.close();
});

/** The raw /alive body once every check has a result, sent with these extra headers. */
async function rawAlive(path = '/alive', headers: Record<string, string> = {}): Promise<string> {
  let body = '';
  await eventually(async () => {
    const response = await fetch(`http://${HOST}:${PORT}${path}`, { headers });
    expect(response.status).toBe(200);
    body = await response.text();
    const results = (JSON.parse(body) as { last_check_result: Record<string, string> })
      .last_check_result;
    expect(results.check_ok).toBe('ok');
  }, 20_000);
  return body;
}

describe('/alive document (handler.go)', () => {
  it("has upstream's six keys in its order, one-space indentation and a trailing newline", async () => {
    const body = await rawAlive();
    expect(body.startsWith('{\n "hostname": "')).toBe(true);
    expect(body.endsWith('}\n')).toBe(true);
    expect(body).toMatch(/\n "last_check_result": \{\n {2}"/);
    expect(Object.keys(JSON.parse(body) as object)).toEqual([
      'hostname',
      'headers',
      'user_agent',
      'request_uri',
      'remote_addr',
      'last_check_result',
    ]);
  });

  it("echoes the request as Go's server sees it: canonical header names, no Host, the raw URI", async () => {
    const body = await rawAlive('/alive?a=1&b=%20', {
      'user-agent': 'conformance/1',
      'x-custom-thing': 'one',
    });
    const doc = JSON.parse(body) as {
      headers: Record<string, string[]>;
      user_agent: string;
      request_uri: string;
      remote_addr: string;
    };
    expect(doc.headers['User-Agent']).toEqual(['conformance/1']);
    expect(doc.headers['X-Custom-Thing']).toEqual(['one']);
    expect(doc.headers).not.toHaveProperty('Host');
    expect(doc.user_agent).toBe('conformance/1');
    expect(doc.request_uri).toBe('/alive?a=1&b=%20');
    expect(doc.remote_addr).toMatch(/^127\.0\.0\.1:\d+$|^127\.0\.7\.10:\d+$/);
    // Go's json.Encoder escapes HTML characters, here the '&' of the request URI.
    expect(body).toContain('"request_uri": "/alive?a=1\\u0026b=%20"');
  });
});

describe('last_check_result (servicecheck.go, servicecheck_test.go, transport.go)', () => {
  it('holds every check: "ok", "skipped", resp.Status for a non-200 answer, else the error text', async () => {
    const results = (JSON.parse(await rawAlive()) as { last_check_result: Record<string, unknown> })
      .last_check_result;
    expect(results.check_ok).toBe('ok');
    expect(results.check_not_found).toBe('404 Not Found');
    for (const type of ['api_server_direct', 'api_server_dns', 'me_ingress', 'me_service'])
      expect(results[type], type).toBe('skipped');
    expect(typeof results.check_amp).toBe('string');
    expect(results.check_amp).not.toMatch(/^(ok|skipped)$/);
  });

  it('neighbour checks off: neighbourhood_state "skipped" inside the map, no neighbourhood key', async () => {
    const results = (JSON.parse(await rawAlive()) as { last_check_result: Record<string, unknown> })
      .last_check_result;
    expect(results.neighbourhood_state).toBe('skipped');
    expect(results).not.toHaveProperty('neighbourhood');
    expect(JSON.parse(await rawAlive())).not.toHaveProperty('neighbourhood_state');
  });

  it('writes the map with sorted keys, as encoding/json writes a Go map, and escapes HTML characters', async () => {
    const body = await rawAlive();
    const results = (JSON.parse(body) as { last_check_result: Record<string, unknown> })
      .last_check_result;
    const keys = Object.keys(results);
    expect(keys).toEqual([...keys].sort());
    expect(body).toMatch(/"check_amp": "[^"]*a\\u0026b/);
  });
});

describe('neighbourhood inside last_check_result (servicecheck.go Run, neighbours.go)', () => {
  const servers: RunningServer[] = [];
  const logger = createLogger('silent');
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  /** sha256Uint64 in neighbours.go: the first 8 bytes of sha256(nodeName), big-endian. */
  const sha256Uint64 = (name: string): bigint =>
    createHash('sha256').update(name).digest().readBigUInt64BE(0);

  async function serve(view: NeighbourhoodView, port: number): Promise<string> {
    const config = parseConfig({
      KUBENURSE_BIND_ADDRESS: IN_PROCESS,
      KUBENURSE_PORT: String(port),
    });
    const result: RoundResult = {
      startedAt: new Date(),
      finishedAt: new Date(),
      outcomes: new Map([['path_dummy', { status: 'ok', durationMs: 1 }]]),
    };
    const scheduler = new Scheduler({
      executor: { run: () => Promise.resolve(result) },
      intervalMs: 60_000,
      cacheTtlMs: 60_000,
      logger,
    });
    await scheduler.result();
    servers.push(
      await startServer({
        config,
        logger,
        scheduler,
        metrics: new ProbeMetrics({ buckets: [1], legacyMetrics: false, incomingChecks: () => 0 }),
        incoming: new IncomingChecks(),
        state: { neighbourhood: () => view, kubeProxy: () => undefined },
        ready: () => true,
      }),
    );
    return (await fetch(`http://${IN_PROCESS}:${port}/alive`)).text();
  }

  it('lists every neighbour with PodName, PodIP, HostIP, NodeName and the exact uint64 NodeHash', async () => {
    // servicecheck_test.go's fakeNeighbourPod: kubenurse-dummy on node "dummy", 127.0.0.1.
    const hash = sha256Uint64('dummy');
    const body = await serve(
      {
        state: { kind: 'ok' },
        neighbours: [
          {
            podName: 'kubenurse-dummy',
            podIp: '127.0.0.1',
            hostIp: '127.0.0.1',
            nodeName: 'dummy',
            nodeHash: hash,
          },
        ],
      },
      18_712,
    );
    const doc = JSON.parse(body) as { last_check_result: Record<string, unknown> };
    expect(doc).not.toHaveProperty('neighbourhood');
    expect(doc.last_check_result.neighbourhood_state).toBe('ok');
    expect(doc.last_check_result['path_dummy']).toBe('ok');
    const [entry] = doc.last_check_result.neighbourhood as Record<string, unknown>[];
    expect(Object.keys(entry ?? {})).toEqual([
      'PodName',
      'PodIP',
      'HostIP',
      'NodeName',
      'NodeHash',
    ]);
    expect(entry).toMatchObject({
      PodName: 'kubenurse-dummy',
      PodIP: '127.0.0.1',
      HostIP: '127.0.0.1',
      NodeName: 'dummy',
    });
    // All 20 digits of the uint64, not a rounded double.
    expect(body).toContain(`"NodeHash": ${hash.toString()}`);
  });

  it('discovery failed: neighbourhood_state is the error text and there is no neighbourhood key', async () => {
    const body = await serve(
      {
        state: { kind: 'failed', reason: 'neighbour discovery failed: pods: 403 Forbidden' },
        neighbours: [],
      },
      18_713,
    );
    const results = (JSON.parse(body) as { last_check_result: Record<string, unknown> })
      .last_check_result;
    expect(results.neighbourhood_state).toBe('neighbour discovery failed: pods: 403 Forbidden');
    expect(results).not.toHaveProperty('neighbourhood');
  });
});
