// /status.json against 50 hostile neighbours on loopback (127.0.9.100–149 belong to this
// file), each answering a status document at the input limits: 10,000 checks in just under
// 2 MB, every type distinct, long messages. The answer must stay bounded in bytes, rows,
// columns and cells, with "… N more" counts, and concurrent requests must share one answer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoundResult } from '../../src/checks/round.ts';
import { Scheduler } from '../../src/checks/scheduler.ts';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { parseConfig } from '../../src/config.ts';
import { IncomingChecks } from '../../src/incoming.ts';
import { createLogger } from '../../src/log.ts';
import { ProbeMetrics } from '../../src/metrics.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { MATRIX_LIMITS } from '../../src/status/bound.ts';
import {
  CLUSTER_LIMITS,
  MAX_LISTED_CHECKS,
  StatusPage,
  type FullStatus,
} from '../../src/status/index.ts';
import { MAX_CHECKS } from '../../src/status/parse.ts';
import type { ProberState } from '../../src/state.ts';
import { eventually } from '../support/eventually.ts';

const PROBER_HOST = '127.0.9.99';
const NEIGHBOURS = Array.from({ length: 50 }, (_, i) => ({
  node: `node-${String(i).padStart(2, '0')}`,
  ip: `127.0.9.${100 + i}`,
}));
const logger = createLogger('silent');
const servers: Server[] = [];
let running: RunningServer | undefined;
let page: StatusPage | undefined;
let baseUrl = '';
let neighbourRequests = 0;

/** A hostile neighbour's self view: MAX_CHECKS checks, as large as the byte limit allows. */
function hostileDocument(index: number): string {
  const message = 'm'.repeat(120);
  const checks = [];
  for (let i = 0; i < MAX_CHECKS; i++) {
    // Half path_ cells to 5,000 made-up nodes, half other check types unique to this neighbour.
    const type = i % 2 === 0 ? `path_ghost-${i}` : `extra_${index}_${i}`;
    checks.push({ type, status: 'error', durationMs: 1, event: 'e', message });
  }
  const text = JSON.stringify({ kind: 'kubenurse-ts-status', node: `node-${index}`, checks });
  expect(Buffer.byteLength(text)).toBeLessThan(CLUSTER_LIMITS.maxBytes);
  return text;
}

beforeAll(async () => {
  const bodies = NEIGHBOURS.map((_, i) => hostileDocument(i));
  const port = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, PROBER_HOST, () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  for (const [i, neighbour] of NEIGHBOURS.entries()) {
    const server = createServer((_req, res) => {
      neighbourRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(bodies[i]);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, neighbour.ip, resolve));
  }

  const config = parseConfig({
    KUBENURSE_BIND_ADDRESS: PROBER_HOST,
    KUBENURSE_PORT: String(port),
    KUBENURSE_NODE_NAME: 'node-self',
    KUBENURSE_CACHE_TTL: '3s',
    KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent',
  });
  const metrics = new ProbeMetrics({ buckets: [1], legacyMetrics: false, incomingChecks: () => 0 });
  const state: ProberState = {
    neighbourhood: () => ({
      state: { kind: 'ok' },
      neighbours: NEIGHBOURS.map((n) => ({
        podName: `kubenurse-${n.node}`,
        podIp: n.ip,
        hostIp: n.ip,
        nodeName: n.node,
        nodeHash: 1n,
      })),
    }),
    kubeProxy: () => undefined,
  };
  page = new StatusPage({ config, logger, metrics, state });
  // Our own round as with KUBENURSE_NEIGHBOUR_LIMIT=0 in a 5,000-node cluster.
  const outcomes = new Map<string, CheckOutcome>();
  for (let i = 0; i < 5000; i++)
    outcomes.set(`path_far-${i}`, {
      status: 'ok',
      durationMs: 1,
      phases: { got_first_resp_byte: 1 },
    });
  outcomes.set('api_server_direct', { status: 'error', event: 'e', message: 'x', durationMs: 1 });
  const result: RoundResult = { startedAt: new Date(), finishedAt: new Date(), outcomes };
  const scheduler = new Scheduler({
    executor: page.observe({ run: () => Promise.resolve(result) }),
    intervalMs: 60_000,
    cacheTtlMs: 60_000,
    logger,
  });
  await scheduler.result();
  const status = page;
  running = await startServer({
    config,
    logger,
    scheduler,
    metrics,
    incoming: new IncomingChecks(),
    state,
    ready: () => true,
    extend: (app) => status.mount(app, scheduler),
  });
  baseUrl = `http://${PROBER_HOST}:${port}`;
});

afterAll(async () => {
  await running?.close();
  await page?.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('/status.json with hostile neighbours', () => {
  let text = '';
  let status: FullStatus;

  beforeAll(async () => {
    // On a loaded machine some 2 MB reads miss their 1 s deadline (those rows are then
    // "unreachable"); a later view reads again. Most must be read for the case to be hostile.
    await eventually(
      async () => {
        text = await (await fetch(`${baseUrl}/status.json`)).text();
        status = JSON.parse(text) as FullStatus;
        const read = status.cluster.rows.filter((row) => row.source === 'status').length;
        expect(read).toBeGreaterThanOrEqual(NEIGHBOURS.length / 2);
      },
      90_000,
      3000,
    );
  }, 100_000);

  it('reads the neighbours, and answers within a few MB', () => {
    expect(status.cluster.rows).toHaveLength(NEIGHBOURS.length + 1);
    // 50 × 2 MB came in; before the bounds ~100 MB went out.
    expect(Buffer.byteLength(text)).toBeLessThan(4 * 1024 * 1024);
  });

  it('has bounded columns, and every row only the shown columns', () => {
    const { cluster } = status;
    expect(cluster.rows.length).toBeLessThanOrEqual(CLUSTER_LIMITS.maxRows + 1);
    expect(cluster.nodes.length).toBeLessThanOrEqual(MATRIX_LIMITS.maxNodeColumns);
    expect(cluster.checkTypes.length).toBeLessThanOrEqual(MATRIX_LIMITS.maxCheckColumns);
    // Every row's node is a column, whatever the targets.
    for (const row of cluster.rows) expect(cluster.nodes).toContain(row.node);
    const nodes = new Set(cluster.nodes);
    const types = new Set(cluster.checkTypes);
    let cells = 0;
    for (const row of cluster.rows) {
      for (const node of Object.keys(row.paths)) expect(nodes.has(node), node).toBe(true);
      for (const type of Object.keys(row.checks)) expect(types.has(type), type).toBe(true);
      for (const cell of [...Object.values(row.paths), ...Object.values(row.checks)])
        expect(cell.message?.length ?? 0).toBeLessThanOrEqual(MATRIX_LIMITS.maxCellMessageChars);
      cells += Object.keys(row.paths).length + Object.keys(row.checks).length;
    }
    expect(cells).toBeLessThanOrEqual(
      cluster.rows.length * (MATRIX_LIMITS.maxNodeColumns + MATRIX_LIMITS.maxCheckColumns),
    );
  });

  it('counts what it leaves out: "… N more" per row and per column kind', () => {
    const { cluster } = status;
    const neighbourRows = cluster.rows.filter((row) => row.source === 'status');
    // Each hostile row sent 10,000 cells; nearly all of them are cut and counted.
    for (const row of neighbourRows)
      expect(row.more + Object.keys(row.paths).length + Object.keys(row.checks).length).toBe(
        MAX_CHECKS,
      );
    expect(cluster.hiddenColumns.nodes).toBeGreaterThan(0);
    expect(cluster.hiddenColumns.checks).toBeGreaterThan(0);
    expect(cluster.rows.find((row) => row.source === 'self')?.more).toBeGreaterThan(0);
  });

  it("lists a bounded number of this prober's own checks, failures first", () => {
    expect(status.checks.length).toBe(MAX_LISTED_CHECKS);
    expect(status.moreChecks).toBe(5001 - MAX_LISTED_CHECKS);
    expect(status.checks.map((check) => check.type)).toContain('api_server_direct');
  });

  it('gives concurrent requests one shared answer', async () => {
    const before = neighbourRequests;
    const bodies = await Promise.all(
      Array.from({ length: 6 }, async () => (await fetch(`${baseUrl}/status.json`)).text()),
    );
    expect(new Set(bodies).size).toBe(1);
    // One neighbour read per neighbour at most for all six (the rows are cached besides).
    expect(neighbourRequests - before).toBeLessThanOrEqual(NEIGHBOURS.length);
  });
});
