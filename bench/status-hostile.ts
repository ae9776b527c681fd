// /status.json under the hostile case of issue #14 item 1: 50 neighbours that each answer a
// status document at the input limits (10,000 checks, just under 2 MB). Reports the answer's
// size and the real prober process's RSS (VmRSS now, VmHWM peak) before and after one and
// six concurrent requests. Loopback only: 127.0.9.98–149.
//
//   npx node bench/status-hostile.ts [--entry path/to/src/main.ts]
//
// --entry runs another checkout's prober (e.g. the commit before the bounds) for comparison.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { FakeApiServer } from '../dev/fakes/fake-apiserver.ts';
import { startProber } from '../dev/process/prober-process.ts';
import { hostileStatusDocument } from './lib/hostile-status.ts';

const { values } = parseArgs({ options: { entry: { type: 'string' } } });
const API_HOST = '127.0.9.98';
const PROBER_HOST = '127.0.9.99';
const PORT = 18493;
const NAMESPACE = 'kube-nurse';
const NEIGHBOURS = Array.from({ length: 50 }, (_, i) => ({
  node: `node-${String(i).padStart(2, '0')}`,
  ip: `127.0.9.${100 + i}`,
}));

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  return { rssMiB: Math.round(kib('VmRSS') / 1024), peakMiB: Math.round(kib('VmHWM') / 1024) };
}

const servers: Server[] = [];
for (const [i, neighbour] of NEIGHBOURS.entries()) {
  const body = hostileStatusDocument(i);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/status.json'))
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    else res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(PORT, neighbour.ip, resolve));
  servers.push(server);
}
const api = await FakeApiServer.start({ host: API_HOST });
const saDir = api.writeServiceAccountDir(NAMESPACE);
for (const n of [{ node: 'node-self', ip: PROBER_HOST }, ...NEIGHBOURS]) {
  api.addNode({ name: n.node, internalIP: n.ip });
  api.addPod({
    name: `kubenurse-${n.node}`,
    namespace: NAMESPACE,
    nodeName: n.node,
    podIP: n.ip,
    hostIP: n.ip,
  });
}
const prober = startProber(
  {
    ...api.inClusterEnv(saDir),
    KUBENURSE_BIND_ADDRESS: PROBER_HOST,
    KUBENURSE_PORT: String(PORT),
    KUBENURSE_POD_NAME: 'kubenurse-node-self',
    KUBENURSE_NODE_NAME: 'node-self',
    KUBENURSE_NAMESPACE: NAMESPACE,
    KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
    KUBENURSE_NEIGHBOUR_LIMIT: '0',
    KUBENURSE_CACHE_TTL: '1s',
    KUBENURSE_CHECK_API_SERVER_DNS: 'false',
    KUBENURSE_CHECK_ME_INGRESS: 'false',
    KUBENURSE_CHECK_ME_SERVICE: 'false',
    KUBENURSE_CHECK_KUBE_PROXY: 'false',
    KUBENURSE_SHUTDOWN_DURATION: '0s',
    KUBENURSE_LOG_LEVEL: 'warn',
  },
  values.entry === undefined ? {} : { entry: values.entry },
);
const pid = prober.child.pid as number;
try {
  await prober.waitUntilServing(30_000);
  // Wait until the first round has the neighbours (path_ checks in /alive).
  for (let i = 0; i < 100; i++) {
    // /alive answers 500 until the first round has finished.
    const response = await fetch(`${prober.baseUrl}/alive`);
    const alive = (response.status === 200 ? await response.json() : {}) as {
      last_check_result?: Record<string, unknown>;
    };
    if (
      Object.keys(alive.last_check_result ?? {}).filter((t) => t.startsWith('path_')).length >= 50
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const idle = memory(pid);
  const one = await (await fetch(`${prober.baseUrl}/status.json`)).text();
  const afterOne = memory(pid);
  // Past every cache: a fresh build for the six.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const six = await Promise.all(
    Array.from({ length: 6 }, async () => (await fetch(`${prober.baseUrl}/status.json`)).text()),
  );
  const afterSix = memory(pid);
  const rows = (
    JSON.parse(one) as { cluster: { rows: { source: string; paths: object; checks: object }[] } }
  ).cluster.rows;
  console.log(
    JSON.stringify(
      {
        entry: values.entry ?? 'src/main.ts',
        responseBytes: Buffer.byteLength(one),
        sixResponsesBytes: six.map((text) => Buffer.byteLength(text)),
        rowsRead: rows.filter((row) => row.source === 'status').length,
        cells: rows.reduce(
          (sum, row) => sum + Object.keys(row.paths).length + Object.keys(row.checks).length,
          0,
        ),
        idle,
        afterOne,
        afterSix,
        peakGrowthMiB: afterSix.peakMiB - idle.rssMiB,
      },
      null,
      2,
    ),
  );
} finally {
  await prober.stop();
  await api.close();
  for (const server of servers) server.close();
}
