// /status.json under the hostile case of issue #14 item 1: 50 neighbours that each answer a
// status document at the old input limits (10,000 checks, just under 2 MB), or with
// --neighbours honest 50 probers of ours in a 5,000-node cluster with KUBENURSE_NEIGHBOUR_LIMIT=0
// (bench/lib/status-neighbours.ts). Reports the answer's size and the real prober process's
// RSS (VmRSS now, VmHWM peak) before and after one and six concurrent requests. Loopback
// only: 127.0.9.98–149.
//
//   npx node bench/status-hostile.ts [--neighbours hostile|hostile-alive|honest] [--views 12] [--as-image]
//                                    [--entry path/to/src/main.ts]
//
// After the one and the six, --views more fresh views, 1.1 s apart (past every cache), each
// followed by an RSS reading: whether the growth adds up over views or stays a plateau. Before
// any request, the same time without requests is measured as a control (the prober's own
// rounds and warm-up). --as-image runs the prober with the Dockerfile's Node flags and ENV.
// --entry runs another checkout's prober (e.g. the commit before the bounds) for comparison.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FakeApiServer } from '../dev/fakes/fake-apiserver.ts';
import { startProber } from '../dev/process/prober-process.ts';
import { IMAGE_RUNTIME } from './lib/image-runtime.ts';
import { NEIGHBOUR_MODES, startNeighbours, type NeighbourMode } from './lib/status-neighbours.ts';

const { values } = parseArgs({
  options: {
    entry: { type: 'string' },
    neighbours: { type: 'string', default: 'hostile' },
    views: { type: 'string', default: '12' },
    'as-image': { type: 'boolean', default: false },
  },
});
const mode = values.neighbours as NeighbourMode;
if (!NEIGHBOUR_MODES.includes(mode)) throw new Error(`--neighbours ${NEIGHBOUR_MODES.join('|')}`);
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

const servers = await startNeighbours(NEIGHBOURS, PORT, mode);
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
    // --as-image: the Node flags and environment of the Dockerfile's runtime stage.
    ...(values['as-image'] ? IMAGE_RUNTIME.env : {}),
  },
  {
    ...(values.entry === undefined ? {} : { entry: values.entry }),
    ...(values['as-image'] ? { nodeFlags: IMAGE_RUNTIME.nodeFlags } : {}),
  },
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
  // The control: the same time as the fresh views below, with no /status.json request.
  const start = memory(pid);
  const idleDrift: number[] = [];
  for (let view = 0; view < Number(values.views); view++) {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    idleDrift.push(memory(pid).rssMiB - start.rssMiB);
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
  // Then fresh views one after another, as a page left open does: does the growth add up?
  const afterEachView: number[] = [];
  for (let view = 0; view < Number(values.views); view++) {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await (await fetch(`${prober.baseUrl}/status.json`)).text();
    afterEachView.push(memory(pid).rssMiB - idle.rssMiB);
  }
  const end = memory(pid);
  const rows = (
    JSON.parse(one) as {
      cluster: { rows: { source: string; error: string | null; paths: object; checks: object }[] };
    }
  ).cluster.rows;
  console.log(
    JSON.stringify(
      {
        entry: values.entry ?? 'src/main.ts',
        neighbours: mode,
        responseBytes: Buffer.byteLength(one),
        sixResponsesBytes: six.map((text) => Buffer.byteLength(text)),
        rowsRead: rows.filter((row) => row.source === 'status').length,
        rowErrors: [...new Set(rows.flatMap((row) => (row.error === null ? [] : [row.error])))],
        cells: rows.reduce(
          (sum, row) => sum + Object.keys(row.paths).length + Object.keys(row.checks).length,
          0,
        ),
        idle,
        afterOne,
        afterSix,
        rssGrowthMiBAfterEachFreshView: afterEachView,
        controlRssGrowthMiBWithoutRequests: idleDrift,
        end,
        peakGrowthMiB: end.peakMiB - idle.rssMiB,
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
