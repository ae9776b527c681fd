// The status page routes on real HTTP, and the cluster view read from real neighbours on
// loopback (127.0.0.50–127.0.0.59 belong to this file): one of ours, a plain kubenurse, one
// that is down, one that never answers and one that answers too much.
import { createServer as createHttpServer, type Server } from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/types.ts';
import type { FullStatus } from '../../src/status/index.ts';
import { startStaticProber, type StaticProber } from '../support/status-prober.ts';

const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const probers: StaticProber[] = [];
const others: (Server | TcpServer)[] = [];
let port = 0;

/** One of ours on `host`, on the port every prober of this file shares. */
async function startProber(spec: {
  readonly host: string;
  readonly node: string;
  readonly outcomes: Record<string, CheckOutcome>;
  readonly neighbours?: readonly { node: string; ip: string }[];
}): Promise<void> {
  const prober = await startStaticProber({
    env: {
      KUBENURSE_BIND_ADDRESS: spec.host,
      KUBENURSE_PORT: String(port),
      KUBENURSE_NODE_NAME: spec.node,
      KUBENURSE_POD_NAME: `kubenurse-${spec.node}`,
      KUBENURSE_CACHE_TTL: '3s',
    },
    outcomes: new Map(Object.entries(spec.outcomes)),
    neighbours: spec.neighbours,
  });
  probers.push(prober);
}

function listenOn<T extends Server | TcpServer>(
  server: T,
  host: string,
  wanted: number,
): Promise<number> {
  others.push(server);
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(wanted, host, () => done((server.address() as AddressInfo).port));
  });
}

const ok = (durationMs: number): CheckOutcome => ({
  status: 'ok',
  durationMs,
  phases: { connect_done: 0.2, wrote_request: 0.3, got_first_resp_byte: durationMs },
});

beforeAll(async () => {
  // A plain kubenurse: everything but its endpoints redirects to /alive.
  const kubenurse = createHttpServer((req, res) => {
    if (req.url === '/alive')
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          hostname: 'c',
          last_check_result: {
            'path_node-a': 'ok',
            'path_node-b': 'Get "http://10.0.0.2:8080/alwayshappy": dial tcp: i/o timeout',
            neighbourhood_state: 'ok',
            neighbourhood: [{ PodName: 'kubenurse-a', NodeName: 'node-a', NodeHash: 1 }],
          },
        }),
      );
    else res.writeHead(301, { location: '/alive' }).end();
  });
  port = await listenOn(kubenurse, '127.0.0.52', 0);
  // Accepts and reads, never answers.
  await listenOn(
    createTcpServer((socket) => socket.resume()),
    '127.0.0.54',
    port,
  );
  // Answers with far more than any status document.
  await listenOn(
    createHttpServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`{"kind":"kubenurse-ts-status","pad":"${'x'.repeat(3 * 1024 * 1024)}"}`),
    ),
    '127.0.0.55',
    port,
  );

  await startProber({
    host: '127.0.0.51',
    node: 'node-b',
    outcomes: {
      'path_node-a': ok(4.2),
      'path_node-c': {
        status: 'error',
        event: 'connect_done',
        message: 'connect ECONNREFUSED',
        durationMs: 1,
      },
    },
  });
  await startProber({
    host: '127.0.0.50',
    node: 'node-a',
    outcomes: {
      me_service: {
        status: 'error',
        event: 'status_code_502',
        message: 'unexpected status code 502',
        durationMs: 3,
      },
      'path_node-b': ok(1.5),
    },
    neighbours: [
      { node: 'node-b', ip: '127.0.0.51' },
      { node: 'node-c', ip: '127.0.0.52' },
      { node: 'node-d', ip: '127.0.0.53' },
      { node: 'node-e', ip: '127.0.0.54' },
      { node: 'node-f', ip: '127.0.0.55' },
    ],
  });
});

afterAll(async () => {
  await Promise.all(probers.map((prober) => prober.close()));
  for (const server of others) server.close();
});

const base = (): string => `http://127.0.0.50:${port}`;

describe('status page routes', () => {
  it('serves the page at / to browsers, with a CSP that allows nothing from elsewhere', async () => {
    const response = await fetch(`${base()}/`, {
      headers: { accept: BROWSER_ACCEPT },
      redirect: 'manual',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain('src="status/status.js"');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("keeps kubenurse's redirect to /alive for everything that does not ask for HTML", async () => {
    for (const accept of ['*/*', 'application/json', undefined]) {
      const response = await fetch(`${base()}/`, {
        headers: accept ? { accept } : {},
        redirect: 'manual',
      });
      expect(response.status, String(accept)).toBe(301);
      expect(response.headers.get('location')).toBe('/alive');
    }
    const alive = (await (await fetch(`${base()}/alive`)).json()) as {
      last_check_result: Record<string, string>;
    };
    expect(alive.last_check_result).toMatchObject({
      me_service: 'unexpected status code 502',
      neighbourhood_state: 'ok',
      'path_node-b': 'ok',
    });
    expect(
      (alive.last_check_result.neighbourhood as unknown as { NodeName: string }[]).map(
        (n) => n.NodeName,
      ),
    ).toEqual(['node-b', 'node-c', 'node-d', 'node-e', 'node-f']);
  });

  it('serves its script and style, and no other file under /status/', async () => {
    const script = await fetch(`${base()}/status/status.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain('status.json');
    expect((await fetch(`${base()}/status/status.css`)).headers.get('content-type')).toMatch(
      /^text\/css/,
    );
    // Anything else is an unknown path: kubenurse's redirect to /alive, never a file.
    for (const path of ['/status/index.html', '/status/..%2Fcluster.ts']) {
      const response = await fetch(`${base()}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(301);
      expect(response.headers.get('location'), path).toBe('/alive');
    }
  });

  it('answers ?view=self with its own checks only, including the last error', async () => {
    const doc = (await (await fetch(`${base()}/status.json?view=self`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({
      kind: 'kubenurse-ts-status',
      node: 'node-a',
      pod: 'kubenurse-node-a',
      neighbourhoodState: 'ok',
    });
    expect(doc).not.toHaveProperty('cluster');
    const checks = doc.checks as Record<string, unknown>[];
    expect(checks.map((check) => check.type)).toEqual(['me_service', 'path_node-b']);
    expect(checks[0]).toMatchObject({
      status: 'error',
      event: 'status_code_502',
      lastError: { event: 'status_code_502', message: 'unexpected status code 502' },
    });
  });
});

describe('cluster view', () => {
  let doc: FullStatus;

  beforeAll(async () => {
    doc = (await (await fetch(`${base()}/status.json`)).json()) as FullStatus;
  });

  it('has a row per node, neighbours that cannot be read included', () => {
    expect(doc.cluster.nodes).toEqual(['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f']);
    expect(doc.cluster.rows.map((row) => [row.node, row.source])).toEqual([
      ['node-a', 'self'],
      ['node-b', 'status'],
      ['node-c', 'alive'],
      ['node-d', 'unreachable'],
      ['node-e', 'unreachable'],
      ['node-f', 'unreachable'],
    ]);
  });

  it('carries latencies from our neighbours and error text from plain kubenurse', () => {
    const [, b, c] = doc.cluster.rows;
    expect(b?.paths['node-a']).toEqual({
      status: 'ok',
      durationMs: 4.2,
      event: null,
      message: null,
    });
    expect(b?.paths['node-c']).toMatchObject({
      status: 'error',
      event: 'connect_done',
      message: 'connect ECONNREFUSED',
    });
    expect(c?.paths['node-a']).toEqual({
      status: 'ok',
      durationMs: null,
      event: null,
      message: null,
    });
    expect(c?.paths['node-b']?.message).toContain('i/o timeout');
  });

  it('says why a neighbour could not be read: refused, no answer in time, too large', () => {
    const error = (node: string): string =>
      doc.cluster.rows.find((row) => row.node === node)?.error ?? '';
    expect(error('node-d')).toMatch(/ECONNREFUSED/);
    expect(error('node-e')).toBe('no answer within 1000 ms');
    expect(error('node-f')).toMatch(/^response larger than \d+ bytes$/);
  });

  it('counts unreadable neighbours in a metric', async () => {
    const metrics = await (await fetch(`${base()}/metrics`)).text();
    expect(metrics).toMatch(/^kubenurse_status_neighbour_read_failures_total 3$/m);
  });
});
