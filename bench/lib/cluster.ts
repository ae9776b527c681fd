// A simulated cluster on loopback for the neighbour benchmarks: the project's fake apiserver
// (in the benchmark process) listing one prober pod per node, a tiny HTTP server per
// neighbour pod (in the fleet process), and our prober's own pod and node.
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import type { FleetClient } from './fleet-client.ts';

export const NAMESPACE = 'kube-system';
export const POD_LABELS = { 'app.kubernetes.io/name': 'kubenurse' } as const;
const SELF_NODE = 'node-self';
const SELF_POD = 'kubenurse-self';

export interface SimulatedCluster {
  readonly api: FakeApiServer;
  /** Environment that points a prober at this cluster as a pod on SELF_NODE. */
  readonly proberEnv: Record<string, string>;
  /** Neighbour index → its pod IP (a loopback address). */
  podIp(index: number): string;
  addNeighbour(index: number): void;
  removeNeighbour(index: number): void;
  readonly present: Set<number>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly apiHost: string;
  readonly selfIp: string;
  /** Neighbour i gets address `${neighbourPrefix}.${neighbourBase + i}`. */
  readonly neighbourPrefix: string;
  readonly neighbourBase: number;
  /** How many neighbour servers exist (pods can come and go; servers stay). */
  readonly neighbourServers: number;
  /** How many of them are pods at start. */
  readonly initialNeighbours: number;
  /** The shared port of the prober and every neighbour. */
  readonly port: number;
  readonly fleet: FleetClient;
}

export function nodeName(index: number): string {
  return `node-${String(index).padStart(4, '0')}`;
}

export async function startCluster(options: ClusterOptions): Promise<SimulatedCluster> {
  const api = await FakeApiServer.start({ host: options.apiHost, historyLimit: 5000 });
  const saDir = api.writeServiceAccountDir(NAMESPACE);
  const podIp = (index: number) => `${options.neighbourPrefix}.${options.neighbourBase + index}`;
  const hosts = Array.from({ length: options.neighbourServers }, (_, i) => podIp(i));
  if (hosts.length > 0) await options.fleet.neighbours(hosts, options.port);

  api.addNode({ name: SELF_NODE });
  api.addPod({
    name: SELF_POD,
    namespace: NAMESPACE,
    nodeName: SELF_NODE,
    podIP: options.selfIp,
    hostIP: options.selfIp,
    labels: POD_LABELS,
  });
  const present = new Set<number>();
  const addNeighbour = (index: number) => {
    api.addNode({ name: nodeName(index) });
    api.addPod({
      name: `kubenurse-${index}`,
      namespace: NAMESPACE,
      nodeName: nodeName(index),
      podIP: podIp(index),
      hostIP: podIp(index),
      labels: POD_LABELS,
    });
    present.add(index);
  };
  const removeNeighbour = (index: number) => {
    api.deletePod(NAMESPACE, `kubenurse-${index}`);
    api.deleteNode(nodeName(index));
    present.delete(index);
  };
  for (let i = 0; i < options.initialNeighbours; i++) addNeighbour(i);

  return {
    api,
    proberEnv: {
      ...api.inClusterEnv(saDir),
      KUBENURSE_NAMESPACE: NAMESPACE,
      KUBENURSE_POD_NAME: SELF_POD,
      KUBENURSE_NODE_NAME: SELF_NODE,
      KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
      KUBENURSE_CHECK_NEIGHBOURHOOD: 'true',
    },
    podIp,
    addNeighbour,
    removeNeighbour,
    present,
    stop: () => api.close(),
  };
}
