// Does the prober's memory keep growing while the status page is viewed against hostile
// neighbours? In one process: 50 loopback neighbours (127.0.9.100–149, bench/lib/
// status-neighbours.ts) and the cluster collector doing 12 fresh views in a row (no row
// cache), printing RSS growth after each. The neighbours live in this process too (their
// bodies built before the baseline, as Buffers), so this is a quick check of the trend;
// bench/status-hostile.ts measures the prober as a process of its own.
//
//   npx node bench/status-hostile-views.ts [--neighbours hostile|hostile-alive|honest] [--src <checkout>]
//   npx node --max-semi-space-size=1 bench/status-hostile-views.ts   (the image's young generation)
//
// --src runs another checkout's collector (e.g. the commit before the row answers) against the
// same neighbours, with that checkout's limits.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SelfStatus } from '../src/status/types.ts';
import { NEIGHBOUR_MODES, startNeighbours, type NeighbourMode } from './lib/status-neighbours.ts';

const { values } = parseArgs({
  options: {
    neighbours: { type: 'string', default: 'hostile' },
    src: { type: 'string', default: resolve(import.meta.dirname, '..') },
  },
});
const mode = values.neighbours as NeighbourMode;
if (!NEIGHBOUR_MODES.includes(mode)) throw new Error(`--neighbours ${NEIGHBOUR_MODES.join('|')}`);
const NEIGHBOURS = Array.from({ length: 50 }, (_, i) => ({
  node: `node-${String(i).padStart(2, '0')}`,
  ip: `127.0.9.${100 + i}`,
}));
const PORT = 18777;
const VIEWS = 12;

type ClusterModule = typeof import('../src/status/cluster.ts');
type FetchModule = typeof import('../src/status/fetch.ts');
const { ClusterCollector } = (await import(`${values.src}/src/status/cluster.ts`)) as ClusterModule;
const { JsonFetcher } = (await import(`${values.src}/src/status/fetch.ts`)) as FetchModule;
const { CLUSTER_LIMITS: limits } = (await import(`${values.src}/src/status/index.ts`)) as {
  CLUSTER_LIMITS: Record<string, number>;
};

const servers = await startNeighbours(NEIGHBOURS, PORT, mode);
// Each version with its own limits: the one before the row answers took one maxBytes here,
// and ignores the options it does not know.
const fetcherOptions = { timeoutMs: 5000, maxBytes: limits.maxBytes };
const fetcher = new JsonFetcher(fetcherOptions);
const collector = new ClusterCollector({
  fetcher,
  port: PORT,
  concurrency: limits.concurrency as number,
  rowMaxBytes: limits.rowMaxBytes as number,
  aliveMaxBytes: limits.aliveMaxBytes as number,
  aliveKeptMaxBytes: limits.aliveKeptMaxBytes as number,
  maxRows: 50,
  cacheTtlMs: 0,
});
const neighbours = NEIGHBOURS.map((n) => ({
  podName: `kubenurse-${n.node}`,
  podIP: n.ip,
  hostIP: '',
  nodeName: n.node,
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
let viewBytes = 0;
let errors: string[] = [];
for (let view = 0; view < VIEWS; view++) {
  const result = await collector.view(self, neighbours);
  rowsRead = result.rows.filter((row) => row.source === 'status').length;
  errors = [...new Set(result.rows.flatMap((row) => (row.error === null ? [] : [row.error])))];
  viewBytes = Buffer.byteLength(JSON.stringify(result));
  growth.push(rssMiB() - base);
}
console.log(
  JSON.stringify({
    src: values.src,
    neighbours: mode,
    concurrency: limits.concurrency,
    baseMiB: base,
    rowsReadLastView: rowsRead,
    rowErrors: errors,
    clusterViewBytes: viewBytes,
    growthMiBAfterEachView: growth,
  }),
);
for (const server of servers) server.close();
await fetcher.close();
