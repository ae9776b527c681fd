// The loopback world a benchmark probes, in a process of its own so its timers never share
// an event loop with the prober being measured:
//   - a target server: GET /<tag>/<ms>?id=<id> waits <ms> ms, then answers 200. It counts
//     requests per tag, keeps their arrival times and the hold it really applied per id.
//   - neighbour servers: tiny HTTP servers on many loopback addresses (one port), 200 to anything.
// Driven over IPC by FleetClient (fleet-client.ts); started with child_process.fork.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../../src/error-text.ts';

export type FleetRequest =
  | { readonly op: 'target'; readonly host: string; readonly port: number }
  | { readonly op: 'neighbours'; readonly hosts: readonly string[]; readonly port: number }
  | { readonly op: 'stats'; readonly reset: boolean };

export interface FleetStats {
  readonly counts: Record<string, number>;
  /** Wall-clock arrival times (ms since the epoch) per tag. */
  readonly arrivals: Record<string, number[]>;
  /** Hold actually applied (ms) per request id. */
  readonly holds: Record<string, number>;
  /** Requests per neighbour address. */
  readonly neighbourHits: Record<string, number>;
}

const MAX_DELAY_MS = 10_000;
const MAX_KEPT = 200_000;

let counts: Record<string, number> = {};
let arrivals: Record<string, number[]> = {};
let holds: Record<string, number> = {};
let kept = 0;
let neighbourHits: Record<string, number> = {};
const servers: Server[] = [];

function handleTarget(request: IncomingMessage, response: ServerResponse): void {
  const received = performance.now();
  const url = new URL(request.url ?? '/', 'http://target');
  const [tag = 'none', msText = '0'] = url.pathname.split('/').filter(Boolean);
  const ms = Math.min(MAX_DELAY_MS, Math.max(0, Number.parseInt(msText, 10) || 0));
  const id = url.searchParams.get('id');
  counts[tag] = (counts[tag] ?? 0) + 1;
  if (kept < MAX_KEPT) {
    (arrivals[tag] ??= []).push(performance.timeOrigin + received);
    kept++;
  }
  const answer = () => {
    // Read before writing: a busy machine may deschedule us right after the write, and that
    // pause must not count as hold.
    if (id !== null && kept < MAX_KEPT) holds[id] = performance.now() - received;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
    response.end('ok\n');
  };
  if (ms === 0) answer();
  else setTimeout(answer, ms);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function handle(message: FleetRequest): Promise<unknown> {
  switch (message.op) {
    case 'target': {
      const server = createServer(handleTarget);
      server.keepAliveTimeout = 1000;
      servers.push(server);
      return { port: await listen(server, message.host, message.port) };
    }
    case 'neighbours': {
      await Promise.all(
        message.hosts.map((host) => {
          const server = createServer((_request, response) => {
            neighbourHits[host] = (neighbourHits[host] ?? 0) + 1;
            response.writeHead(200, { 'content-length': '0' });
            response.end();
          });
          servers.push(server);
          return listen(server, host, message.port);
        }),
      );
      return { port: message.port };
    }
    case 'stats': {
      const stats: FleetStats = { counts, arrivals, holds, neighbourHits };
      if (message.reset) {
        counts = {};
        arrivals = {};
        holds = {};
        neighbourHits = {};
        kept = 0;
      }
      return stats;
    }
  }
}

process.on('message', (raw) => {
  const { seq, request } = raw as { seq: number; request: FleetRequest };
  handle(request).then(
    (result) => process.send?.({ seq, result }),
    (error: unknown) => process.send?.({ seq, error: errorMessage(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ seq: 0, result: 'ready' });
