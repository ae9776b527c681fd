// The demo's networks: one small HTTP forwarder per node and layer — the pod network (pod IP →
// the node's prober) and the node network (host IP :10257 → the node's kube-proxy /healthz,
// what node_<node> checks probe). They exist so the demo can break paths between nodes, on one
// layer or both, without root.
//
// Why HTTP and not addresses: on loopback every connection comes from 127.0.0.1 whatever the
// caller is, so the source address cannot tell node-2 from node-3. Neighbour probes do say who
// they are, in the KUBENURSE-NEIGHBOUR-ORIGIN header (the caller's pod name), so a partition is
// applied per request: a cut request is black-holed (read, never answered), like a firewall
// that drops packets; the caller's deadline ends it. A "down" node's pod IP refuses connections.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { forward } from './forward.ts';
import { Restartable } from './restartable.ts';
import { NEIGHBOUR_ORIGIN_HEADER } from '../../src/neighbours/pod-path.ts';
import {
  KUBE_PROXY_HEALTHZ_PORT,
  NODE_NETWORK_PORT,
  PROBER_PORT,
  type DemoNode,
} from './topology.ts';

/** Where one layer's forwarder listens for a node, and what it forwards to. */
export interface Layer {
  readonly name: string;
  listen(node: DemoNode): { host: string; port: number };
  upstream(node: DemoNode): { host: string; port: number };
}

/** Pod IP :8080 → the node's prober. */
const POD_LAYER: Layer = {
  name: 'pod network',
  listen: (node) => ({ host: node.podIP, port: PROBER_PORT }),
  upstream: (node) => ({ host: node.hostIP, port: PROBER_PORT }),
};

/**
 * The node network as neighbours' node_<node> probes see it (docs/layers.md): host IP :10257 →
 * the node's kube-proxy /healthz. A port of its own, so cutting it leaves the node's own
 * prober's kube-proxy scrape (same node, no network in between) alone.
 */
export const NODE_LAYER: Layer = {
  name: 'node network',
  listen: (node) => ({ host: node.hostIP, port: NODE_NETWORK_PORT }),
  upstream: (node) => ({ host: node.hostIP, port: KUBE_PROXY_HEALTHZ_PORT }),
};

function pairKey(a: string, b: string): string {
  return [a, b].sort().join('|');
}

class Forwarder extends Restartable {
  protected readonly server: Server;
  private readonly node: DemoNode;
  private readonly network: PodNetwork;
  private readonly blackHoled = new Set<ServerResponse>();

  constructor(node: DemoNode, network: PodNetwork) {
    super(network.layer.listen(node));
    this.node = node;
    this.network = network;
    this.server = createServer((req, res) => this.handle(req, res));
    this.track();
  }

  override async stop(): Promise<void> {
    this.releaseBlackHoled();
    await super.stop();
  }

  /** Partitions healed: requests held so far are dropped (their callers gave up long ago). */
  releaseBlackHoled(): void {
    for (const res of this.blackHoled) res.destroy();
    this.blackHoled.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers[NEIGHBOUR_ORIGIN_HEADER.toLowerCase()];
    const from = typeof origin === 'string' ? this.network.nodeOfPod(origin) : undefined;
    if (from !== undefined && this.network.isCut(from, this.node.name)) {
      this.blackHoled.add(res);
      res.on('close', () => this.blackHoled.delete(res));
      req.resume();
      return;
    }
    forward(req, res, this.network.layer.upstream(this.node), {
      headers: req.headers,
      failure: (error) => `${this.network.layer.name}: ${this.node.name}: ${error.message}\n`,
    });
  }
}

export class PodNetwork {
  readonly layer: Layer;
  private readonly forwarders = new Map<string, Forwarder>();
  private readonly podToNode = new Map<string, string>();
  /** Pair → how many active faults cut it (partition and isolate may overlap). */
  private readonly cuts = new Map<string, number>();

  constructor(nodes: readonly DemoNode[], layer: Layer = POD_LAYER) {
    this.layer = layer;
    for (const node of nodes) {
      this.forwarders.set(node.name, new Forwarder(node, this));
      this.podToNode.set(node.podName, node.name);
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.forwarders.values()].map((forwarder) => forwarder.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.forwarders.values()].map((forwarder) => forwarder.stop()));
  }

  nodeOfPod(podName: string): string | undefined {
    return this.podToNode.get(podName);
  }

  isCut(a: string, b: string): boolean {
    return this.cuts.has(pairKey(a, b));
  }

  /** Both directions between a and b stop working. */
  cut(a: string, b: string): void {
    const key = pairKey(a, b);
    this.cuts.set(key, (this.cuts.get(key) ?? 0) + 1);
  }

  heal(a: string, b: string): void {
    const key = pairKey(a, b);
    const left = (this.cuts.get(key) ?? 0) - 1;
    if (left > 0) {
      this.cuts.set(key, left);
      return;
    }
    this.cuts.delete(key);
    for (const forwarder of this.forwarders.values()) forwarder.releaseBlackHoled();
  }

  /** The node's pod IP stops (or starts again) accepting connections. */
  async setDown(node: string, down: boolean): Promise<void> {
    const forwarder = this.forwarders.get(node);
    if (!forwarder) throw new Error(`unknown node ${node}`);
    if (down) await forwarder.stop();
    else await forwarder.start();
  }
}
