// Neighbours for the /status.json benchmarks (issue #14 item 1), one HTTP server per loopback
// address, all on one port:
//   hostile: ignores every query and answers a status document at the old input limits
//            (10,000 checks, every type distinct, long messages, just under 2 MB), chunked;
//   hostile-alive: 404 to /status.json, so that we fall back to reading it as a plain kubenurse,
//            and an /alive just under 2 MB (the old limit): 9,000 pods in its neighbourhood and
//            5,000 check results, chunked;
//   honest:  a prober of ours with KUBENURSE_NEIGHBOUR_LIMIT=0 in a 5,000-node cluster: its
//            whole self view (~1 MB, chunked) to `?view=self`, its matrix row (row-view.ts) to
//            `?view=self&cells=row&nodes=…`, as the shipped code answers.
// Bodies are built once, as Buffers, so serving them allocates nothing per request.
import { createServer, type Server } from 'node:http';
import { hostileStatusDocument } from './hostile-status.ts';
import { ROW_CELLS, rowAnswer, wantedNodes } from '../../src/status/row-view.ts';
import type { CheckView, SelfStatus } from '../../src/status/types.ts';

export type NeighbourMode = 'hostile' | 'hostile-alive' | 'honest';
export const NEIGHBOUR_MODES: readonly NeighbourMode[] = ['hostile', 'hostile-alive', 'honest'];

/** kubenurse's /alive with `pods` in its neighbourhood and `checks` path results. */
export function aliveDocument(pods: number, checks: number): string {
  const results: Record<string, unknown> = {};
  for (let i = 0; i < checks; i++) results[`path_node-${i}`] = i % 100 === 0 ? 'i/o timeout' : 'ok';
  results.neighbourhood_state = 'ok';
  results.neighbourhood = Array.from({ length: pods }, (_, i) => ({
    PodName: `kubenurse-${i}`,
    PodIP: `10.1.${i >> 8}.${i & 255}`,
    HostIP: `10.0.${i >> 8}.${i & 255}`,
    NodeName: `ip-10-0-${i >> 8}-${i & 255}.eu-west-1.compute.internal`,
    NodeHash: 1234567890123456,
  }));
  return JSON.stringify({ hostname: 'kubenurse', last_check_result: results }, null, 1);
}

/** A prober's self view with a path check to each of `targets`. */
export function honestSelf(node: string, targets: readonly string[]): SelfStatus {
  const checks: CheckView[] = [
    'api_server_direct',
    'api_server_dns',
    'me_ingress',
    'me_service',
  ].map((type) => ({
    type,
    status: 'ok',
    durationMs: 3.25,
    phases: { dns_done: 0.4, connect_done: 1.1, got_first_resp_byte: 3.2 },
    event: null,
    message: null,
    lastError: null,
  }));
  for (const [i, target] of targets.entries())
    checks.push({
      type: `path_${target}`,
      status: i % 100 === 0 ? 'error' : 'ok',
      durationMs: 1.75,
      phases: { connect_done: 0.5, wrote_request: 0.6, got_first_resp_byte: 1.7 },
      event: i % 100 === 0 ? 'connect_done' : null,
      message: i % 100 === 0 ? 'connect ECONNREFUSED 10.0.0.1:8080' : null,
      lastError: null,
    });
  return {
    kind: 'kubenurse-ts-status',
    version: 1,
    node,
    pod: `kubenurse-${node}`,
    hostname: `kubenurse-${node}`,
    generatedAt: new Date().toISOString(),
    round: null,
    checks,
    neighbourhoodState: 'ok',
    kubeProxy: null,
    refreshMs: 2000,
  };
}

export interface Neighbour {
  readonly node: string;
  readonly ip: string;
}

/** Starts one server per neighbour; resolves with them once all listen. */
export async function startNeighbours(
  neighbours: readonly Neighbour[],
  port: number,
  mode: NeighbourMode,
): Promise<Server[]> {
  const servers: Server[] = [];
  // The cluster's 5,000 nodes: the benchmark's own, then others no row shows.
  const cluster = ['node-self', ...neighbours.map((n) => n.node)];
  for (let i = cluster.length; i < 5000; i++) cluster.push(`far-${i}`);
  for (const [i, neighbour] of neighbours.entries()) {
    const self = honestSelf(
      neighbour.node,
      cluster.filter((node) => node !== neighbour.node),
    );
    const whole = Buffer.from(
      mode === 'hostile'
        ? hostileStatusDocument(i)
        : mode === 'hostile-alive'
          ? aliveDocument(9000, 5000)
          : JSON.stringify(self),
    );
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://neighbour');
      if (mode === 'hostile-alive') {
        if (url.pathname === '/alive') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(whole);
          res.end();
        } else res.writeHead(404).end();
        return;
      }
      if (!url.pathname.startsWith('/status.json')) {
        res.end('ok');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (mode === 'honest' && url.searchParams.get('cells') === ROW_CELLS)
        res.end(JSON.stringify(rowAnswer(self, wantedNodes(url.searchParams.get('nodes')))));
      else {
        // No Content-Length (chunked): the reader only learns the size by reading.
        res.write(whole);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(port, neighbour.ip, resolve));
    servers.push(server);
  }
  return servers;
}
