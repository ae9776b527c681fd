// The layer verdict in real prober processes (docs/layers.md): neighbours from the fake
// apiserver, node paths to a per-node "kube-proxy /healthz" on the host IP, verdicts in /alive
// and /metrics. One prober runs with the defaults and must show none of it.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import { startProber, type ProberProcess } from '../../dev/process/prober-process.ts';
import { eventually } from '../support/eventually.ts';

const API_HOST = '127.0.3.1';
const PORT = 18490;
const HEALTHZ_PORT = 18491;
const NAMESPACE = 'kube-nurse';
const LAYERED = [2, 3, 4];
/** Runs with upstream's settings: no node paths, no verdicts. */
const PLAIN = 5;
const ALL = [...LAYERED, PLAIN];

const nodeOf = (i: number) => `node-${i}`;
const ipOf = (i: number) => `127.0.3.${i}`;

let api: FakeApiServer;
const probers = new Map<number, ProberProcess>();
const healthz = new Map<number, Server>();

function startHealthz(i: number): Promise<void> {
  const server = createServer((_req, res) => res.end('{"nodeEligible":true}'));
  healthz.set(i, server);
  return new Promise((resolve) => server.listen(HEALTHZ_PORT, ipOf(i), () => resolve()));
}

function stopHealthz(i: number): Promise<void> {
  const server = healthz.get(i);
  healthz.delete(i);
  server?.closeAllConnections();
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

async function get(i: number, path: string): Promise<string> {
  const response = await fetch(`http://${ipOf(i)}:${PORT}${path}`, {
    signal: AbortSignal.timeout(5000),
  });
  return response.text();
}

async function verdicts(i: number): Promise<Record<string, { layer: string }> | undefined> {
  const body = JSON.parse(await get(i, '/alive')) as {
    neighbour_verdicts?: Record<string, { layer: string }>;
  };
  return body.neighbour_verdicts;
}

beforeAll(async () => {
  api = await FakeApiServer.start({ host: API_HOST });
  const saDir = api.writeServiceAccountDir(NAMESPACE);
  for (const i of ALL) {
    api.addNode({ name: nodeOf(i), internalIP: ipOf(i) });
    api.addPod({
      name: `kubenurse-${i}`,
      namespace: NAMESPACE,
      nodeName: nodeOf(i),
      podIP: ipOf(i),
      hostIP: ipOf(i),
    });
    await startHealthz(i);
  }
  for (const i of ALL) {
    probers.set(
      i,
      startProber({
        ...api.inClusterEnv(saDir),
        KUBENURSE_BIND_ADDRESS: ipOf(i),
        KUBENURSE_PORT: String(PORT),
        KUBENURSE_POD_NAME: `kubenurse-${i}`,
        KUBENURSE_NODE_NAME: nodeOf(i),
        KUBENURSE_NAMESPACE: NAMESPACE,
        KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
        KUBENURSE_NEIGHBOUR_LIMIT: '0',
        KUBENURSE_CHECK_INTERVAL: '1s',
        KUBENURSE_CHECK_TIMEOUT: '800ms',
        KUBENURSE_CACHE_TTL: '500ms',
        KUBENURSE_SHUTDOWN_DURATION: '0s',
        KUBENURSE_CHECK_API_SERVER_DNS: 'false',
        KUBENURSE_CHECK_ME_INGRESS: 'false',
        KUBENURSE_CHECK_ME_SERVICE: 'false',
        KUBENURSE_CHECK_KUBE_PROXY: 'false',
        KUBENURSE_LOG_LEVEL: 'warn',
        ...(i === PLAIN
          ? {}
          : {
              KUBENURSE_CHECK_NODE_PATHS: 'true',
              KUBENURSE_NODE_PATH_PORT: String(HEALTHZ_PORT),
            }),
      }),
    );
  }
  await Promise.all([...probers.values()].map((prober) => prober.waitUntilServing(30_000)));
}, 60_000);

afterAll(async () => {
  await Promise.all([...probers.values()].map((prober) => prober.stop()));
  await Promise.all([...healthz.keys()].map(stopHealthz));
  await api?.close();
});

describe('layer verdicts in real prober processes', () => {
  it('every neighbour is healthy: layer none in /alive and /metrics, node_ checks ok', async () => {
    await eventually(async () => {
      const seen = await verdicts(2);
      expect(
        Object.entries(seen ?? {})
          .map(([node, { layer }]) => `${node}=${layer}`)
          .sort(),
      ).toEqual(['node-3=none', 'node-4=none', 'node-5=none']);
      const alive = JSON.parse(await get(2, '/alive')) as {
        last_check_result: Record<string, string>;
      };
      expect(alive.last_check_result['node_node-3']).toBe('ok');
      const metrics = await get(2, '/metrics');
      expect(metrics).toContain('kubenurse_neighbour_verdict{neighbour="node-3",layer="none"} 1');
    }, 20_000);
  });

  it('with the defaults there is no node path, no verdict key and no verdict metric', async () => {
    await eventually(async () => {
      const alive = JSON.parse(await get(PLAIN, '/alive')) as Record<string, unknown> & {
        last_check_result: Record<string, string>;
      };
      expect(alive.last_check_result['path_node-2']).toBe('ok');
      expect(Object.keys(alive)).not.toContain('neighbour_verdicts');
      expect(
        Object.keys(alive.last_check_result).filter((type) => type.startsWith('node_')),
      ).toEqual([]);
      const metrics = await get(PLAIN, '/metrics');
      expect(metrics).not.toContain('kubenurse_neighbour_verdict');
      expect(metrics).not.toContain('type="node_');
    }, 20_000);
  });

  it("node-4's prober stops while its node answers: pod_network from every layered checker; back to none", async () => {
    await probers.get(4)?.stop();
    await eventually(async () => {
      for (const i of [2, 3])
        expect((await verdicts(i))?.['node-4']?.layer, `from node-${i}`).toBe('pod_network');
      expect(await get(2, '/metrics')).toContain(
        'kubenurse_neighbour_verdict{neighbour="node-4",layer="pod_network"} 1',
      );
    }, 20_000);
    await stopHealthz(4);
    await eventually(async () => {
      for (const i of [2, 3])
        expect((await verdicts(i))?.['node-4']?.layer, `from node-${i}`).toBe('node_network');
      // The old layer's series went with the change.
      expect(await get(2, '/metrics')).not.toContain('neighbour="node-4",layer="pod_network"');
    }, 20_000);
  });

  it("node-3's health endpoint stops while its prober answers: node_endpoint, not a network fault", async () => {
    await stopHealthz(3);
    await eventually(async () => {
      expect((await verdicts(2))?.['node-3']?.layer).toBe('node_endpoint');
    }, 20_000);
    await startHealthz(3);
    await eventually(async () => {
      expect((await verdicts(2))?.['node-3']?.layer).toBe('none');
    }, 20_000);
  });
});
