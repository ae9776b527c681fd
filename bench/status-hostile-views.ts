// Does the prober's memory keep growing while the status page is viewed against hostile
// neighbours? In one process: 50 loopback neighbours (127.0.9.100–149) each answering 10,000
// checks in just under 2 MB, and the cluster collector doing 12 fresh views in a row (no row
// cache), printing RSS growth after each. The neighbours' bodies live in this process too, so
// only the growth is meaningful.
//
//   npx node bench/status-hostile-views.ts
//   npx node --max-semi-space-size=1 bench/status-hostile-views.ts   (the image's young generation)
import { createServer, type Server } from 'node:http';
import { ClusterCollector } from '../src/status/cluster.ts';
import { JsonFetcher } from '../src/status/fetch.ts';
import type { SelfStatus } from '../src/status/types.ts';
import { hostileStatusDocument } from './lib/hostile-status.ts';

const NEIGHBOURS = 50;
const PORT = 18777;
const VIEWS = 12;

const servers: Server[] = [];
for (let i = 0; i < NEIGHBOURS; i++) {
  const body = hostileStatusDocument(i);
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(PORT, `127.0.9.${100 + i}`, resolve));
  servers.push(server);
}
const fetcher = new JsonFetcher({ timeoutMs: 5000, maxBytes: 2 * 1024 * 1024 });
const collector = new ClusterCollector({
  fetcher,
  port: PORT,
  concurrency: 8,
  maxRows: 50,
  cacheTtlMs: 0,
});
const neighbours = Array.from({ length: NEIGHBOURS }, (_, i) => ({
  podName: `kubenurse-${i}`,
  podIP: `127.0.9.${100 + i}`,
  hostIP: '',
  nodeName: `node-${i}`,
}));
const self: SelfStatus = {
  kind: 'kubenurse-ts-status',
  version: 1,
  node: 'node-self',
  pod: 'kubenurse-self',
  hostname: 'bench',
  generatedAt: new Date().toISOString(),
  round: null,
  checks: [],
  neighbourhoodState: 'ok',
  kubeProxy: null,
  refreshMs: 2000,
};
const rssMiB = (): number => Math.round(process.memoryUsage().rss / 1048576);
const base = rssMiB();
const growth: number[] = [];
let rowsRead = 0;
for (let view = 0; view < VIEWS; view++) {
  const result = await collector.view(self, neighbours);
  rowsRead = result.rows.filter((row) => row.source === 'status').length;
  growth.push(rssMiB() - base);
}
console.log(
  JSON.stringify({ baseMiB: base, rowsReadLastView: rowsRead, growthMiBAfterEachView: growth }),
);
for (const server of servers) server.close();
await fetcher.close();
