// The layer verdict over real HTTP on loopback: "pods" and "nodes" are servers on different
// loopback addresses (127.0.0.2 / 127.0.0.3 and ::1), and each fault is a server that stops
// answering on one layer or one family.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerChecks, planNeighbour } from '../../src/checks/node-paths.ts';
import { RoundRunner } from '../../src/checks/round.ts';
import type { CheckSource } from '../../src/checks/types.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import { aliveVerdicts } from '../../src/alive.ts';
import { LayerDiagnosis } from '../../src/layers.ts';
import { ProbeMetrics } from '../../src/metrics.ts';
import type { NeighbourPod } from '../../src/neighbours/filter.ts';
import { podPathRequest } from '../../src/neighbours/pod-path.ts';
import { Prober } from '../../src/probe/http.ts';
import { buildTrust } from '../../src/probe/tls.ts';

type Mode = 'up' | '503' | 'reset';

/** An HTTP server whose behaviour a test switches: answer 200, answer 503, or reset every connection. */
class Endpoint {
  mode: Mode = 'up';
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((_req, res) => {
      res.statusCode = this.mode === '503' ? 503 : 200;
      res.end('{}');
    });
    this.server.on('connection', (socket) => {
      if (this.mode === 'reset') socket.destroy();
      else {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      }
    });
  }

  listen(host: string, port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Two endpoints on one port: IPv4 `host` and ::1 (a neighbour serves every family on one port). */
async function pair(host: string): Promise<{ v4: Endpoint; v6: Endpoint; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const v4 = new Endpoint();
    const port = await v4.listen(host);
    const v6 = new Endpoint();
    try {
      await v6.listen('::1', port);
      return { v4, v6, port };
    } catch (error) {
      await v4.close();
      if (attempt > 20) throw error;
    }
  }
}

let pods: Awaited<ReturnType<typeof pair>>;
let nodes: Awaited<ReturnType<typeof pair>>;
let config: Config;
const metrics = new ProbeMetrics({
  buckets: [0.1, 1],
  legacyMetrics: false,
  incomingChecks: () => 0,
});
const logger = pino({ level: 'silent' });
let prober: Prober;

const neighbour: NeighbourPod = {
  podName: 'kubenurse-b',
  podIp: '127.0.0.2',
  hostIp: '127.0.0.3',
  nodeName: 'node-b',
  secondaryPodIp: '::1',
  secondaryHostIp: '::1',
};

beforeAll(async () => {
  pods = await pair('127.0.0.2');
  nodes = await pair('127.0.0.3');
  config = parseConfig({
    KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent',
    KUBENURSE_POD_NAME: 'kubenurse-a',
    KUBENURSE_PORT: String(pods.port),
    KUBENURSE_CHECK_NODE_PATHS: 'true',
    KUBENURSE_NODE_PATH_PORT: String(nodes.port),
    KUBENURSE_CHECK_ALL_IP_FAMILIES: 'true',
    KUBENURSE_CHECK_TIMEOUT: '2s',
  });
  prober = new Prober({
    metrics,
    trust: buildTrust({
      serviceAccountDir: '/nonexistent',
      extraCaPem: undefined,
      insecure: false,
    }),
    timeoutMs: config.checkTimeoutMs,
    reuseConnections: false,
  });
});

afterAll(async () => {
  await prober.close();
  await Promise.all([pods.v4, pods.v6, nodes.v4, nodes.v6].map((endpoint) => endpoint.close()));
});

/** The neighbour module's own path_<node> check, as NeighbourMesh builds it. */
function meshSource(): CheckSource {
  const type = `path_${neighbour.nodeName}`;
  const request = podPathRequest(config, neighbour.podIp);
  return {
    checks: () => [
      { type, run: async (signal) => (await prober.probe({ type, ...request }, signal)).outcome },
    ],
  };
}

function diagnosis() {
  const layerChecks = new LayerChecks({ config, metrics, logger, prober }, () => [neighbour]);
  const layers = new LayerDiagnosis(metrics, layerChecks);
  const runner = layers.observe(
    new RoundRunner({
      sources: [meshSource(), layerChecks],
      metrics,
      logger,
      roundTimeoutMs: 3000,
    }),
  );
  return { layers, runner };
}

function set(modes: { pod4?: Mode; pod6?: Mode; node4?: Mode; node6?: Mode }): void {
  pods.v4.mode = modes.pod4 ?? 'up';
  pods.v6.mode = modes.pod6 ?? 'up';
  nodes.v4.mode = modes.node4 ?? 'up';
  nodes.v6.mode = modes.node6 ?? 'up';
}

describe('planNeighbour', () => {
  it('names the extra checks and pairs them by family', () => {
    const { plan, probes } = planNeighbour(config, neighbour);
    expect(probes.map((probe) => `${probe.type} ${probe.url}`)).toEqual([
      `path_node-b_ipv6 http://[::1]:${pods.port}/alwayshappy`,
      `node_node-b http://127.0.0.3:${nodes.port}/healthz`,
      `node_node-b_ipv6 http://[::1]:${nodes.port}/healthz`,
    ]);
    expect(plan).toEqual({
      node: 'node-b',
      families: [
        { family: 'ipv4', podType: 'path_node-b', nodeType: 'node_node-b' },
        { family: 'ipv6', podType: 'path_node-b_ipv6', nodeType: 'node_node-b_ipv6' },
      ],
    });
  });

  it('adds nothing for the second family unless asked, and no node path without a host IP', () => {
    const primaryOnly = { ...config, checkAllIpFamilies: false };
    expect(planNeighbour(primaryOnly, neighbour).probes.map((probe) => probe.type)).toEqual([
      'node_node-b',
    ]);
    expect(planNeighbour(config, { ...neighbour, hostIp: '' }).probes.map((p) => p.type)).toEqual([
      'path_node-b_ipv6',
      'node_node-b_ipv6',
    ]);
  });
});

describe('layer verdicts over real HTTP', () => {
  it.each<[string, Parameters<typeof set>[0], string]>([
    ['everything answers', {}, 'none'],
    [
      'pod down on both families, nodes answer: CNI',
      { pod4: 'reset', pod6: 'reset' },
      'pod_network',
    ],
    // kube-proxy answers 503 while its node is being deleted: the node network still works.
    [
      'pod down, node health answers 503',
      { pod4: 'reset', pod6: 'reset', node4: '503', node6: '503' },
      'pod_network',
    ],
    [
      'pod and node down: node or underlay',
      { pod4: 'reset', pod6: 'reset', node4: 'reset', node6: 'reset' },
      'node_network',
    ],
    ['only IPv6 down', { pod6: 'reset', node6: 'reset' }, 'ipv6'],
    ['only the IPv4 pod path down', { pod4: 'reset' }, 'ipv4'],
    ['node health endpoint down, pods fine', { node4: 'reset', node6: 'reset' }, 'node_endpoint'],
    ['neighbour prober answers 503', { pod4: '503', pod6: '503' }, 'neighbour_pod'],
  ])('%s (%j) → %s, in the round, the gauge and /alive', async (_name, modes, layer) => {
    const { runner } = diagnosis();
    set(modes);
    const result = await runner.run();
    expect(result.verdicts?.get('node-b')?.layer).toBe(layer);
    const text = await metrics.render();
    const series = text
      .split('\n')
      .filter((line) => line.startsWith('kubenurse_neighbour_verdict{'));
    expect(series).toEqual([`kubenurse_neighbour_verdict{neighbour="node-b",layer="${layer}"} 1`]);
    const alive = aliveVerdicts(result);
    expect(alive?.['node-b']?.layer).toBe(layer);
    // The node path has its own type label family; path_<node> stays kubenurse's.
    expect(text).toMatch(/kubenurse_httpclient_requests_total\{type="node_node-b",code="/);
  });

  it('a pod path that fails while the node path was not probed is unknown, not a guess', async () => {
    const noNodePaths = { ...config, checkNodePaths: false, checkAllIpFamilies: false };
    const layerChecks = new LayerChecks({ config: noNodePaths, metrics, logger, prober }, () => [
      neighbour,
    ]);
    const layers = new LayerDiagnosis(metrics, layerChecks);
    const runner = layers.observe(
      new RoundRunner({
        sources: [meshSource(), layerChecks],
        metrics,
        logger,
        roundTimeoutMs: 3000,
      }),
    );
    set({ pod4: 'reset' });
    expect((await runner.run()).verdicts?.get('node-b')?.layer).toBe('unknown');
    set({});
    expect((await runner.run()).verdicts?.get('node-b')?.layer).toBe('none');
  });

  it('drops the verdict series of a neighbour that left the selection', async () => {
    let selected: NeighbourPod[] = [neighbour];
    const layerChecks = new LayerChecks({ config, metrics, logger, prober }, () => selected);
    const layers = new LayerDiagnosis(metrics, layerChecks);
    const runner = layers.observe(
      new RoundRunner({ sources: [layerChecks], metrics, logger, roundTimeoutMs: 3000 }),
    );
    set({});
    await runner.run();
    expect(await metrics.render()).toContain('kubenurse_neighbour_verdict{neighbour="node-b"');
    selected = [];
    const result = await runner.run();
    expect(result.verdicts?.size).toBe(0);
    const text = await metrics.render();
    expect(text).not.toContain('neighbour="node-b"');
    expect(text).not.toContain('type="node_node-b"');
  });
});
