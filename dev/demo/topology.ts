// Who lives where in the demo. Everything is on loopback (Linux routes all of 127.0.0.0/8 to
// lo, so each "machine" gets its own address without root):
//
//   node-N host IP   127.0.0.(1+N)   the prober binds here on :8080; the node's fake
//                                     kube-proxy serves :10249 (metrics) and :10256 (healthz)
//                                     and :10257 is its "node network" (a forwarder to
//                                     :10256 that can drop traffic: node_<node> checks)
//   node-N pod IP    127.0.0.(21+N)  the demo's "pod network": a forwarder to the prober
//                                     that can drop traffic between nodes (partitions)
//   apiserver        127.0.0.10:6443 fake Kubernetes apiserver (HTTPS, token auth)
//   Service VIP      127.0.0.11:8080 TCP round robin over the pod IPs (kube-proxy's job)
//   Ingress          127.0.0.12:8080 HTTP proxy of /alwayshappy to the Service
//   demo controls    127.0.0.13:8080 page and API to break and heal things
//   Prometheus       127.0.0.14:9090 with --prometheus
import { join } from 'node:path';

export const NODE_COUNT = 4;
export const NAMESPACE = 'kube-nurse';
export const POD_LABELS = { 'app.kubernetes.io/name': 'kubenurse' } as const;
export const NEIGHBOUR_FILTER = 'app.kubernetes.io/name=kubenurse';
export const PROBER_PORT = 8080;
export const KUBE_PROXY_METRICS_PORT = 10249;
export const KUBE_PROXY_HEALTHZ_PORT = 10256;
/** The node network's door to kube-proxy's /healthz, probed by node_<node> checks (pod-network.ts). */
export const NODE_NETWORK_PORT = 10257;

export const APISERVER = { host: '127.0.0.10', port: 6443 } as const;
export const SERVICE = { host: '127.0.0.11', port: 8080 } as const;
export const INGRESS = { host: '127.0.0.12', port: 8080 } as const;
export const CONTROL = { host: '127.0.0.13', port: 8080 } as const;
export const PROMETHEUS = { host: '127.0.0.14', port: 9090 } as const;

export interface DemoNode {
  readonly name: string;
  readonly hostIP: string;
  readonly podIP: string;
  readonly podName: string;
}

export const NODES: readonly DemoNode[] = Array.from({ length: NODE_COUNT }, (_, index) => ({
  name: `node-${index + 1}`,
  hostIP: `127.0.0.${2 + index}`,
  podIP: `127.0.0.${22 + index}`,
  podName: `kubenurse-node-${index + 1}`,
}));

export function nodeByName(name: string): DemoNode | undefined {
  return NODES.find((node) => node.name === name);
}

export const url = (endpoint: { host: string; port: number }, path = ''): string =>
  `http://${endpoint.host}:${endpoint.port}${path}`;
export const proberUrl = (node: DemoNode, path = ''): string =>
  `http://${node.hostIP}:${PROBER_PORT}${path}`;

export interface ProberEnvInput {
  readonly node: DemoNode;
  readonly serviceAccountDir: string;
  readonly intervalSeconds: number;
}

/**
 * What the DaemonSet (examples/daemonset.yaml) gives each pod, pointed at the demo's
 * stand-ins. Differences from a cluster, on purpose: the bind address (each "pod" shares the
 * machine's network), a short interval, no shutdown delay, and no api_server_dns check
 * (there is no cluster DNS; the name kubernetes.default.svc cannot resolve to 127.0.0.10).
 */
export function proberEnv(input: ProberEnvInput): Record<string, string> {
  const { node } = input;
  return {
    KUBENURSE_POD_NAME: node.podName,
    KUBENURSE_NODE_NAME: node.name,
    KUBENURSE_HOST_IP: node.hostIP,
    KUBENURSE_NAMESPACE: NAMESPACE,
    KUBENURSE_NEIGHBOUR_FILTER: NEIGHBOUR_FILTER,
    KUBENURSE_SERVICE_URL: url(SERVICE),
    KUBENURSE_INGRESS_URL: url(INGRESS),
    KUBERNETES_SERVICE_HOST: APISERVER.host,
    KUBERNETES_SERVICE_PORT: String(APISERVER.port),
    KUBENURSE_SERVICE_ACCOUNT_DIR: input.serviceAccountDir,
    KUBENURSE_BIND_ADDRESS: node.hostIP,
    KUBENURSE_PORT: String(PROBER_PORT),
    KUBENURSE_CHECK_INTERVAL: `${input.intervalSeconds}s`,
    // Below the interval, so every tick runs a fresh round.
    KUBENURSE_CACHE_TTL: `${Math.max(0.5, input.intervalSeconds / 2)}s`,
    KUBENURSE_SHUTDOWN_DURATION: '0s',
    KUBENURSE_CHECK_API_SERVER_DNS: 'false',
    // As the example DaemonSet: node paths on, through the demo's node network (docs/layers.md).
    KUBENURSE_CHECK_NODE_PATHS: 'true',
    KUBENURSE_NODE_PATH_PORT: String(NODE_NETWORK_PORT),
    KUBENURSE_LOG_LEVEL: 'info',
  };
}

export function logFile(dir: string, node: DemoNode): string {
  return join(dir, `${node.name}.log`);
}
