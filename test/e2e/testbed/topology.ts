// Who lives where on the emulated cluster network. Nodes, pods and infrastructure in 198.18.0.0/16,
// Service ClusterIPs in 198.19.0.0/16 (both RFC 2544 benchmark ranges: never routed on the
// internet, and the root namespace has no route to them anyway).
import type { ServicePort } from './kubeproxy-rules.ts';
import type { ServiceFacts } from './pod-env.ts';

export const PROBER_NAMESPACE = 'kube-nurse';
export const PROBER_PORT = 8080;

export const ADDRESSES = {
  apiserver: '198.18.0.2',
  dns: '198.18.0.53',
  ingress: '198.18.0.80',
  prometheus: '198.18.0.90',
  client: '198.18.0.250',
} as const;

export const APISERVER_PORT = 6443;
export const PROMETHEUS_PORT = 9090;
export const INGRESS_HTTPS_PORT = 443;

export const VIPS = {
  kubernetes: '198.19.0.1',
  kubeDns: '198.19.0.10',
  kubenurse: '198.19.0.20',
} as const;

export function nodeAddress(index: number): string {
  return `198.18.1.${index + 1}`;
}

/**
 * A node's pod address where pods have addresses of their own (the layers network): the
 * prober pod's IP in 198.18.2.0/24, apart from the node's 198.18.1.N.
 */
export function podAddress(index: number): string {
  return `198.18.2.${index + 1}`;
}

export function nodeName(index: number): string {
  return `node-${index + 1}`;
}

export const KUBERNETES_SERVICE: ServiceFacts = {
  name: 'kubernetes',
  namespace: 'default',
  clusterIp: VIPS.kubernetes,
  ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
};

export const KUBENURSE_SERVICE: ServiceFacts = {
  name: 'kubenurse',
  namespace: PROBER_NAMESPACE,
  clusterIp: VIPS.kubenurse,
  ports: [{ name: 'http', port: PROBER_PORT, protocol: 'TCP' }],
};

/** The Service ports every node's kube-proxy programs; `proberEndpoints` are the ready prober pods. */
export function clusterServices(proberEndpoints: readonly string[]): ServicePort[] {
  return [
    {
      namespace: 'default',
      name: 'kubernetes',
      portName: 'https',
      protocol: 'TCP',
      clusterIp: VIPS.kubernetes,
      port: 443,
      endpoints: [{ ip: ADDRESSES.apiserver, port: APISERVER_PORT }],
    },
    {
      namespace: 'kube-system',
      name: 'kube-dns',
      portName: 'dns',
      protocol: 'UDP',
      clusterIp: VIPS.kubeDns,
      port: 53,
      endpoints: [{ ip: ADDRESSES.dns, port: 53 }],
    },
    {
      namespace: 'kube-system',
      name: 'kube-dns',
      portName: 'dns-tcp',
      protocol: 'TCP',
      clusterIp: VIPS.kubeDns,
      port: 53,
      endpoints: [{ ip: ADDRESSES.dns, port: 53 }],
    },
    {
      namespace: PROBER_NAMESPACE,
      name: 'kubenurse',
      portName: 'http',
      protocol: 'TCP',
      clusterIp: VIPS.kubenurse,
      port: PROBER_PORT,
      endpoints: proberEndpoints.map((ip) => ({ ip, port: PROBER_PORT })),
    },
  ];
}
