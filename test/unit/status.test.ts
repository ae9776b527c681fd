// The status page's pure parts: content negotiation, the last-error memory, parsing what
// neighbours send, and the cluster matrix (with a scripted neighbour reader).
import { describe, expect, it } from 'vitest';
import type { RoundResult } from '../../src/checks/round.ts';
import type { CheckOutcome } from '../../src/checks/types.ts';
import {
  ClusterCollector,
  mapBounded,
  pickNeighbours,
  type JsonGetter,
} from '../../src/status/cluster.ts';
import type { FetchResult } from '../../src/status/fetch.ts';
import { wantsHtml } from '../../src/status/index.ts';
import { LastErrors, MAX_MESSAGE_CHARS } from '../../src/status/last-errors.ts';
import {
  MAX_CHECKS,
  PeerFormatError,
  parseAliveDocument,
  parseStatusDocument,
} from '../../src/status/parse.ts';
import { selfStatus } from '../../src/status/snapshot.ts';
import { STATUS_KIND, type NeighbourEntry, type SelfStatus } from '../../src/status/types.ts';

function round(
  outcomes: Record<string, CheckOutcome>,
  finishedAt = new Date('2026-01-01T00:00:10Z'),
): RoundResult {
  return {
    startedAt: new Date(finishedAt.getTime() - 1000),
    finishedAt,
    outcomes: new Map(Object.entries(outcomes)),
  };
}

const ok = (durationMs = 1.5): CheckOutcome => ({
  status: 'ok',
  durationMs,
  phases: { connect_done: 0.5, got_first_resp_byte: durationMs },
});
const failed = (message = 'connect ECONNREFUSED'): CheckOutcome => ({
  status: 'error',
  event: 'connect_done',
  message,
  durationMs: 2,
});

describe('wantsHtml', () => {
  it('is true for what browsers send and false for API clients', () => {
    expect(wantsHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(true);
    expect(wantsHtml('text/html')).toBe(true);
    expect(wantsHtml('*/*')).toBe(false);
    expect(wantsHtml('application/json')).toBe(false);
    expect(wantsHtml('text/htmlx')).toBe(false);
    expect(wantsHtml(undefined)).toBe(false);
  });
});

describe('LastErrors', () => {
  it('keeps the newest failure after the check recovers and forgets checks that left the round', () => {
    const memory = new LastErrors();
    memory.record(
      round(
        { me_service: failed('first'), path_a: failed('a down') },
        new Date('2026-01-01T00:00:05Z'),
      ),
    );
    memory.record(
      round({ me_service: failed('second'), path_a: ok() }, new Date('2026-01-01T00:00:10Z')),
    );
    memory.record(round({ me_service: ok() }, new Date('2026-01-01T00:00:15Z')));
    expect(memory.get('me_service')).toEqual({
      message: 'second',
      event: 'connect_done',
      at: '2026-01-01T00:00:10.000Z',
    });
    expect(memory.get('path_a')).toBeNull();
  });

  it('clips long messages', () => {
    const memory = new LastErrors();
    memory.record(round({ x: failed('y'.repeat(50_000)) }));
    expect(memory.get('x')?.message.length).toBe(MAX_MESSAGE_CHARS);
  });

  it('records through the executor wrapper and passes results on unchanged', async () => {
    const memory = new LastErrors();
    const result = round({ me_ingress: failed('502') });
    const wrapped = memory.observe({ run: async () => result });
    expect(await wrapped.run()).toBe(result);
    expect(memory.get('me_ingress')?.message).toBe('502');
  });
});

describe('parsing neighbours', () => {
  it('reads /alive of plain kubenurse: ok, skipped and error text', () => {
    const peer = parseAliveDocument({
      hostname: 'x',
      last_check_result: { path_b: 'ok', me_ingress: 'skipped', path_c: 'dial tcp: i/o timeout' },
      neighbourhood: [],
    });
    expect(Object.fromEntries(peer.checks)).toEqual({
      path_b: { status: 'ok', durationMs: null, event: null, message: null },
      me_ingress: { status: 'skipped', durationMs: null, event: null, message: null },
      path_c: { status: 'error', durationMs: null, event: null, message: 'dial tcp: i/o timeout' },
    });
  });

  it('reads our status document and drops entries that are not well formed', () => {
    const peer = parseStatusDocument({
      kind: STATUS_KIND,
      node: 'node-b',
      checks: [
        { type: 'path_a', status: 'ok', durationMs: 1.2 },
        { type: 'path_x', status: 'exploded' },
        { type: '<script>', status: 'ok' },
        {
          type: 'me_service',
          status: 'error',
          durationMs: -1,
          event: 'status_code_502',
          message: 42,
        },
        'junk',
        null,
      ],
    });
    expect(peer.node).toBe('node-b');
    expect(Object.fromEntries(peer.checks)).toEqual({
      path_a: { status: 'ok', durationMs: 1.2, event: null, message: null },
      me_service: { status: 'error', durationMs: null, event: 'status_code_502', message: null },
    });
  });

  it('rejects what is not a document, or one that is too large', () => {
    expect(() => parseAliveDocument([])).toThrow(PeerFormatError);
    expect(() => parseAliveDocument({ last_check_result: 'ok' })).toThrow(PeerFormatError);
    expect(() => parseStatusDocument({ kind: 'other', checks: [] })).toThrow(PeerFormatError);
    expect(() => parseStatusDocument({ kind: STATUS_KIND })).toThrow(PeerFormatError);
    const many = Object.fromEntries(
      Array.from({ length: MAX_CHECKS + 1 }, (_, i) => [`path_${i}`, 'ok']),
    );
    expect(() => parseAliveDocument({ last_check_result: many })).toThrow(/more than/);
  });
});

describe('mapBounded', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0, 6, 7, 8, 9], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((done) => setTimeout(done, n));
      running--;
      return n * 2;
    });
    expect(out).toEqual([10, 2, 8, 4, 6, 0, 12, 14, 16, 18]);
    expect(peak).toBe(3);
  });
});

const neighbour = (
  node: string,
  podIP = `10.0.0.${node.length}`,
  podName = `kubenurse-${node}`,
): NeighbourEntry => ({ podName, podIP, hostIP: podIP, nodeName: node });

describe('pickNeighbours', () => {
  it('takes one pod per node, the probed nodes first, and at most maxRows', () => {
    const list = [
      neighbour('d'),
      neighbour('a'),
      neighbour('b', '10.0.0.9', 'kubenurse-b-new'),
      neighbour('b', '10.0.0.8', 'kubenurse-b-old'),
      neighbour('c'),
      neighbour('self'),
    ];
    expect(pickNeighbours(list, new Set(['d', 'c']), 3, 'self').map((n) => n.nodeName)).toEqual([
      'a',
      'c',
      'd',
    ]);
    expect(
      pickNeighbours(list, new Set(), 10, 'self').find((n) => n.nodeName === 'b')?.podName,
    ).toBe('kubenurse-b-new');
  });
});

function self(checks: Record<string, CheckOutcome>): SelfStatus {
  return selfStatus({
    result: round(checks),
    lastErrors: new LastErrors(),
    state: { neighbourhood: { state: { kind: 'ok' }, neighbours: [] }, kubeProxy: undefined },
    node: 'node-a',
    pod: 'kubenurse-node-a',
    refreshMs: 2000,
  });
}

/** A neighbour reader scripted per URL without its query, counting calls. */
class ScriptedGetter implements JsonGetter {
  readonly calls: string[] = [];
  readonly limits: number[] = [];
  private readonly script: Record<string, FetchResult>;

  constructor(script: Record<string, FetchResult>) {
    this.script = script;
  }

  async get(url: string, maxBytes: number): Promise<FetchResult> {
    this.calls.push(url);
    this.limits.push(maxBytes);
    const { origin, pathname } = new URL(url);
    return (
      this.script[`${origin}${pathname}`] ?? {
        ok: false,
        failure: 'transport',
        statusCode: null,
        error: `connect ECONNREFUSED ${new URL(url).host}`,
      }
    );
  }
}

const statusDoc = (node: string, checks: object[]): FetchResult => ({
  ok: true,
  statusCode: 200,
  json: { kind: STATUS_KIND, node, checks },
});

describe('ClusterCollector', () => {
  const getter = () =>
    new ScriptedGetter({
      'http://10.0.0.2:8080/status.json': statusDoc('node-b', [
        { type: 'path_node-a', status: 'ok', durationMs: 3 },
        {
          type: 'path_node-c',
          status: 'error',
          durationMs: 5,
          event: 'connect_done',
          message: 'i/o timeout',
        },
        { type: 'me_service', status: 'ok', durationMs: 1 },
      ]),
      // A plain kubenurse redirects everything unknown to /alive.
      'http://10.0.0.3:8080/status.json': {
        ok: false,
        failure: 'http',
        statusCode: 302,
        error: 'HTTP 302',
      },
      'http://10.0.0.3:8080/alive': {
        ok: true,
        statusCode: 200,
        json: { last_check_result: { 'path_node-a': 'ok', 'path_node-b': 'ok' } },
      },
      'http://10.0.0.5:8080/status.json': {
        ok: true,
        statusCode: 200,
        json: { kind: STATUS_KIND, checks: 'nope' },
      },
    });
  const neighbours = [
    neighbour('node-b', '10.0.0.2'),
    neighbour('node-c', '10.0.0.3'),
    neighbour('node-d', '10.0.0.4'),
    neighbour('node-e', '10.0.0.5'),
    neighbour('node-f', ''),
  ];

  it('builds one row per prober: self, status.json, /alive fallback, unreachable and invalid', async () => {
    const fetcher = getter();
    const collector = new ClusterCollector({
      fetcher,
      port: 8080,
      concurrency: 2,
      rowMaxBytes: 100_000,
      aliveMaxBytes: 1_000_000,
      aliveKeptMaxBytes: 100_000,
      maxRows: 10,
      cacheTtlMs: 3000,
    });
    const view = await collector.view(
      self({ 'path_node-b': ok(2), 'path_node-c': failed('refused'), me_service: ok() }),
      neighbours,
    );
    expect(view.nodes).toEqual(['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f']);
    const rows = Object.fromEntries(view.rows.map((row) => [row.node, row]));
    expect(rows['node-a']).toMatchObject({
      source: 'self',
      paths: {
        'node-b': { status: 'ok', durationMs: 2 },
        'node-c': { status: 'error', message: 'refused' },
      },
    });
    expect(rows['node-a']?.checks.me_service?.status).toBe('ok');
    expect(rows['node-b']).toMatchObject({
      source: 'status',
      paths: {
        'node-a': { status: 'ok', durationMs: 3 },
        'node-c': { status: 'error', event: 'connect_done' },
      },
    });
    expect(rows['node-c']).toMatchObject({
      source: 'alive',
      paths: { 'node-a': { status: 'ok', durationMs: null } },
    });
    expect(rows['node-d']).toMatchObject({
      source: 'unreachable',
      error: 'connect ECONNREFUSED 10.0.0.4:8080',
      paths: {},
    });
    expect(rows['node-e']?.source).toBe('unreachable');
    expect(rows['node-e']?.error).toMatch(/^invalid answer: /);
    expect(rows['node-f']).toMatchObject({
      source: 'unreachable',
      error: 'the pod has no valid IP',
    });
    expect(view.truncated).toBeNull();
    // Neighbours are asked for their matrix row, naming the rows; each read has its own cap.
    const asked = fetcher.calls.map((url, i) => [new URL(url), fetcher.limits[i]] as const);
    for (const [url, limit] of asked)
      if (url.pathname === '/status.json') {
        expect(url.searchParams.get('view')).toBe('self');
        expect(url.searchParams.get('cells')).toBe('row');
        expect(url.searchParams.get('nodes')?.split(',')).toEqual([
          'node-a',
          'node-b',
          'node-c',
          'node-d',
          'node-e',
          'node-f',
        ]);
        expect(limit).toBe(100_000);
      } else {
        expect(url.pathname).toBe('/alive');
        expect(limit).toBe(1_000_000);
      }
  });

  it('reads neighbours once per TTL, however often it is asked', async () => {
    let now = 1000;
    const fetcher = getter();
    const collector = new ClusterCollector({
      fetcher,
      port: 8080,
      concurrency: 8,
      rowMaxBytes: 100_000,
      aliveMaxBytes: 1_000_000,
      aliveKeptMaxBytes: 100_000,
      maxRows: 10,
      cacheTtlMs: 3000,
      now: () => now,
    });
    const me = self({});
    await Promise.all([
      collector.view(me, neighbours),
      collector.view(me, neighbours),
      collector.view(me, neighbours),
    ]);
    const perRound = fetcher.calls.length;
    now += 2000;
    await collector.view(me, neighbours);
    expect(fetcher.calls.length).toBe(perRound);
    now += 1500;
    await collector.view(me, neighbours);
    expect(fetcher.calls.length).toBe(2 * perRound);
  });

  it('shows at most maxRows neighbours and says how many there are', async () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      neighbour(`n-${String(i).padStart(2, '0')}`, `10.1.0.${i + 1}`),
    );
    const fetcher = new ScriptedGetter({});
    const collector = new ClusterCollector({
      fetcher,
      port: 8080,
      concurrency: 4,
      rowMaxBytes: 100_000,
      aliveMaxBytes: 1_000_000,
      aliveKeptMaxBytes: 100_000,
      maxRows: 5,
      cacheTtlMs: 0,
    });
    const view = await collector.view(self({ 'path_n-29': ok() }), many);
    expect(view.rows.map((row) => row.node)).toEqual([
      'node-a',
      'n-00',
      'n-01',
      'n-02',
      'n-03',
      'n-29',
    ]);
    expect(view.truncated).toEqual({ shown: 5, total: 30 });
    expect(fetcher.calls).toHaveLength(5);
  });
});
