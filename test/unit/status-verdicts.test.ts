import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { ClusterCollector, type JsonGetter } from '../../src/status/cluster.ts';
import type { FetchResult } from '../../src/status/fetch.ts';
import { LastErrors } from '../../src/status/last-errors.ts';
import { parseStatusDocument } from '../../src/status/parse.ts';
import { selfStatus } from '../../src/status/snapshot.ts';
import { STATUS_KIND } from '../../src/status/types.ts';
import type { Verdict } from '../../src/verdict.ts';

const ok: CheckOutcome = { status: 'ok', durationMs: 2 };
const down: CheckOutcome = {
  status: 'error',
  event: 'connect_done',
  message: 'connect ECONNREFUSED',
  durationMs: 1,
};

function self(outcomes: Record<string, CheckOutcome>, verdicts?: Record<string, Verdict>) {
  return selfStatus({
    result: {
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      outcomes: new Map(Object.entries(outcomes)),
      ...(verdicts ? { verdicts: new Map(Object.entries(verdicts)) } : {}),
    },
    lastErrors: new LastErrors(),
    state: { neighbourhood: { state: { kind: 'ok' }, neighbours: [] }, kubeProxy: undefined },
    node: 'node-a',
    pod: 'kubenurse-a',
    refreshMs: 2000,
  });
}

describe('verdicts on the status page data', () => {
  it('sit on the path_<node> view of this prober, and nowhere without verdicts', () => {
    const status = self(
      { 'path_node-b': down, 'node_node-b': ok, me_service: ok },
      { 'node-b': { layer: 'pod_network', detail: 'ipv4: pod path down, node path up' } },
    );
    const byType = Object.fromEntries(status.checks.map((check) => [check.type, check]));
    expect(byType['path_node-b']?.verdict).toEqual({
      layer: 'pod_network',
      detail: 'ipv4: pod path down, node path up',
    });
    expect(byType.me_service?.verdict).toBeUndefined();
    const upstream = self({ 'path_node-b': down });
    expect(JSON.stringify(upstream)).not.toContain('verdict');
  });

  it("are read from a neighbour's status.json only when the layer is one we know", () => {
    const peer = parseStatusDocument({
      kind: STATUS_KIND,
      checks: [
        { type: 'path_x', status: 'error', verdict: { layer: 'node_network', detail: 'd' } },
        { type: 'path_y', status: 'error', verdict: { layer: '<script>', detail: 'd' } },
        { type: 'path_z', status: 'error', verdict: 'pod_network' },
      ],
    });
    expect(peer.checks.get('path_x')?.verdict).toEqual({ layer: 'node_network', detail: 'd' });
    expect(peer.checks.get('path_y')?.verdict).toBeUndefined();
    expect(peer.checks.get('path_z')?.verdict).toBeUndefined();
  });

  it('show in the matrix cell; node_ and per-family probes add no columns', async () => {
    const neighbourDoc: FetchResult = {
      ok: true,
      statusCode: 200,
      json: {
        kind: STATUS_KIND,
        node: 'node-b',
        checks: [
          { type: 'path_node-a', status: 'error', verdict: { layer: 'ipv6', detail: 'x' } },
          { type: 'path_node-a_ipv6', status: 'error' },
          { type: 'node_node-a', status: 'ok' },
          { type: 'node_node-a_ipv6', status: 'ok' },
          // An extra check that merely looks like one: no path_other, so it stays a column.
          { type: 'node_other', status: 'ok' },
        ],
      },
    };
    const fetcher: JsonGetter = {
      get: (url) =>
        Promise.resolve(
          url.startsWith('http://10.0.0.2:8080/status.json?view=self&')
            ? neighbourDoc
            : { ok: false, failure: 'transport', statusCode: null, error: 'refused' },
        ),
    };
    const collector = new ClusterCollector({
      fetcher,
      port: 8080,
      concurrency: 1,
      rowMaxBytes: 100_000,
      aliveMaxBytes: 1_000_000,
      aliveKeptMaxBytes: 100_000,
      maxRows: 10,
      cacheTtlMs: 0,
    });
    const view = await collector.view(
      self(
        { 'path_node-b': down, 'node_node-b': down },
        { 'node-b': { layer: 'node_network', detail: 'ipv4: pod path down, node path down' } },
      ),
      [{ podName: 'kubenurse-b', podIP: '10.0.0.2', hostIP: '10.0.0.2', nodeName: 'node-b' }],
    );
    expect(view.nodes).toEqual(['node-a', 'node-b']);
    const [own, b] = view.rows;
    expect(own?.paths['node-b']?.verdict?.layer).toBe('node_network');
    expect(Object.keys(own?.checks ?? {})).toEqual([]);
    expect(b?.paths['node-a']?.verdict?.layer).toBe('ipv6');
    expect(Object.keys(b?.checks ?? {})).toEqual(['node_other']);
  });
});
