// The cluster network without the prober: namespaces on the fabric, kube-proxy rules in every
// "pod-running" namespace, cluster DNS, the ingress controller and the HTTP agent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fabric } from './fabric.ts';
import { HttpAgent } from './http-agent.ts';
import { startDnsmasq, podResolvConf, writeResolvConf } from './dns.ts';
import type { DnsRecord } from './dns.ts';
import { startNginx } from './ingress.ts';
import type { IngressServer } from './ingress.ts';
import { applyServices, installKubeProxy } from './kubeproxy-rules.ts';
import type { ServicePort } from './kubeproxy-rules.ts';
import { createNamespace, deleteNamespaceSync, removeStaleNamespaces, runPrefix } from './netns.ts';
import { ManagedProcess, ProcessGroup } from './processes.ts';
import { ADDRESSES, VIPS, nodeAddress, nodeName, podAddress } from './topology.ts';
import { ipv6Twin, podIpv6Twin } from './families.ts';

export interface NetworkNode {
  readonly index: number;
  readonly name: string;
  readonly ns: string;
  /** The node's (primary, IPv4) address: status.hostIP. */
  readonly ip: string;
  /** The prober pod's (primary, IPv4) address: status.podIP; the node's with shared addressing. */
  readonly podIp: string;
  /** Dual-stack only: the other family's node and pod address (status.hostIPs[1], podIPs[1]). */
  readonly ipv6?: string;
  readonly podIpv6?: string;
  /** The bridge port towards this node, in the fabric namespace. */
  readonly fabricPort: string;
}

/**
 * How the nodes are addressed. Default: IPv4 only, and the prober pod's IP is its node's IP
 * (one address per node, as for a hostNetwork pod). The layers network (docs/layers.md) gives
 * pods addresses of their own, in the pod ranges (topology.ts podAddress(), families.ts), and
 * both families to nodes and pods; IPv4 stays primary, like the cluster's Services and DNS.
 */
export interface NodeAddressing {
  readonly separatePodAddresses: boolean;
  readonly dualStack: boolean;
}

export const SHARED_IPV4: NodeAddressing = { separatePodAddresses: false, dualStack: false };

export interface NetworkOptions {
  readonly nodeCount: number;
  readonly services: readonly ServicePort[];
  readonly dnsRecords: readonly DnsRecord[];
  readonly podNamespace: string;
  readonly dnsOptions: readonly string[];
  readonly ingress: IngressServer;
  /** Default SHARED_IPV4. */
  readonly addressing?: NodeAddressing;
}

const live = new Set<Network>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner that ends or is interrupted still leaves no process and no namespace.
  process.once('exit', () => {
    for (const network of live) network.destroySync();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const network of live) network.destroySync();
      // Then die of the signal as if nobody had listened.
      process.kill(process.pid, signal);
    });
  }
}

export class Network {
  readonly prefix = runPrefix();
  readonly runDir: string;
  readonly group: ProcessGroup;
  readonly namespaces: string[] = [];
  readonly nodes: NetworkNode[] = [];
  readonly options: NetworkOptions;
  fabric!: Fabric;
  agent!: HttpAgent;
  dnsmasq: ManagedProcess | undefined;
  nginx: ManagedProcess | undefined;
  services: ServicePort[];
  private destroyed = false;
  private readonly cleanups: (() => void)[] = [];

  private constructor(options: NetworkOptions) {
    this.options = options;
    this.services = [...options.services];
    this.runDir = mkdtempSync(join(tmpdir(), this.prefix));
    this.group = new ProcessGroup(this.runDir);
  }

  ns(role: string): string {
    return `${this.prefix}${role}`;
  }

  get infraNamespaces(): {
    dns: string;
    apiserver: string;
    ingress: string;
    prometheus: string;
    client: string;
  } {
    return {
      dns: this.ns('dns'),
      apiserver: this.ns('apiserver'),
      ingress: this.ns('ingress'),
      prometheus: this.ns('prometheus'),
      client: this.ns('client'),
    };
  }

  /** Namespaces where pods run and therefore kube-proxy programs the Services. */
  get serviceNamespaces(): string[] {
    return [
      ...this.nodes.map((node) => node.ns),
      this.infraNamespaces.ingress,
      this.infraNamespaces.client,
    ];
  }

  static async start(options: NetworkOptions): Promise<Network> {
    removeStaleNamespaces();
    installExitHook();
    const network = new Network(options);
    live.add(network);
    try {
      await network.build();
      return network;
    } catch (error) {
      await network.destroy();
      throw error;
    }
  }

  private async addNamespace(role: string): Promise<string> {
    const ns = this.ns(role);
    this.namespaces.push(ns);
    await createNamespace(ns);
    return ns;
  }

  private async build(): Promise<void> {
    const fabricNs = this.ns('fabric');
    this.namespaces.push(fabricNs);
    this.fabric = await Fabric.create(fabricNs);
    const infra = this.infraNamespaces;
    // Only namespaces where pods run need the route to the Service range.
    const attachInfra = async (
      role: keyof typeof ADDRESSES,
      serviceRoute: boolean,
    ): Promise<void> => {
      const ns = await this.addNamespace(role);
      await this.fabric.attach(ns, ADDRESSES[role], { serviceRoute });
    };
    await Promise.all([
      attachInfra('dns', false),
      attachInfra('apiserver', false),
      attachInfra('ingress', true),
      attachInfra('prometheus', false),
      attachInfra('client', true),
    ]);
    const { separatePodAddresses, dualStack } = this.options.addressing ?? SHARED_IPV4;
    for (let index = 0; index < this.options.nodeCount; index++) {
      const ns = await this.addNamespace(`n${index + 1}`);
      const ip = nodeAddress(index);
      const podIp = separatePodAddresses ? podAddress(index) : ip;
      const ipv6 = dualStack ? ipv6Twin(ip) : undefined;
      const podIpv6 = dualStack ? (separatePodAddresses ? podIpv6Twin(podIp) : ipv6) : undefined;
      const fabricPort = await this.fabric.attach(
        ns,
        { ipv4: ip, ...(ipv6 === undefined ? {} : { ipv6 }), primary: 'ipv4' },
        {
          serviceRoute: true,
          ...(separatePodAddresses
            ? {
                podAddresses: {
                  ipv4: podIp,
                  ...(podIpv6 === undefined ? {} : { ipv6: podIpv6 }),
                  primary: 'ipv4',
                },
              }
            : {}),
        },
      );
      this.nodes.push({
        index,
        name: nodeName(index),
        ns,
        ip,
        podIp,
        ...(ipv6 === undefined ? {} : { ipv6 }),
        ...(podIpv6 === undefined ? {} : { podIpv6 }),
        fabricPort,
      });
    }
    const resolvConf = podResolvConf(
      VIPS.kubeDns,
      this.options.podNamespace,
      this.options.dnsOptions,
    );
    await Promise.all(
      this.serviceNamespaces.map(async (ns) => {
        await installKubeProxy(ns, this.services);
        writeResolvConf(ns, resolvConf);
      }),
    );
    this.startDns();
    this.startIngress();
    this.agent = HttpAgent.start(this.group, infra.client);
  }

  startDns(): ManagedProcess {
    this.dnsmasq = startDnsmasq(
      this.group,
      this.infraNamespaces.dns,
      ADDRESSES.dns,
      this.options.dnsRecords,
      this.runDir,
    );
    return this.dnsmasq;
  }

  startIngress(): ManagedProcess {
    this.nginx = startNginx(
      this.group,
      this.infraNamespaces.ingress,
      this.runDir,
      this.options.ingress,
    );
    return this.nginx;
  }

  /** What kube-proxy would program after an EndpointSlice change, on every node at once. */
  async setServices(services: readonly ServicePort[]): Promise<void> {
    this.services = [...services];
    await Promise.all(this.serviceNamespaces.map((ns) => applyServices(ns, this.services)));
  }

  /** Synchronous cleanup to run with the teardown (temp files of the layers above). */
  onDestroy(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.agent?.close();
    // Nothing here needs a graceful end: the namespaces and files go away with them.
    await this.group.killAll();
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    this.group.killAllSync();
    for (const ns of [...this.namespaces].reverse()) deleteNamespaceSync(ns);
    for (const cleanup of this.cleanups) cleanup();
    if (process.env.KN_E2E_KEEP_LOGS !== '1') rmSync(this.runDir, { recursive: true, force: true });
  }
}
