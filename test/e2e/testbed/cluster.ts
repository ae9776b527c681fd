// The whole emulated cluster: the network (network.ts), the fake apiserver behind the
// `kubernetes` Service, one fake kube-proxy and one real prober (dist/main.js) per node, and
// Prometheus scraping the probers with the example rules loaded.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { createTestCa } from '../../../dev/fakes/pki.ts';
import { ApiServerControl } from './apiserver.ts';
import { DIST_MAIN } from './build.ts';
import { NODE_BINARY, PROJECT_ROOT, SYSTEM_PATH, startRpcHelper } from './helpers.ts';
import { readIngress } from './ingress.ts';
import { MetricsSnapshot } from './metrics-reader.ts';
import { Network, SHARED_IPV4 } from './network.ts';
import type { NetworkNode, NodeAddressing } from './network.ts';
import { containerEnv, readDaemonSet } from './pod-env.ts';
import type { DaemonSetContainer } from './pod-env.ts';
import type { ManagedProcess } from './processes.ts';
import { PrometheusClient, startPrometheus } from './prometheus.ts';
import type { RpcClient } from './rpc.ts';
import { GiveUp, waitFor } from './wait.ts';
import {
  ADDRESSES,
  APISERVER_PORT,
  INGRESS_HTTPS_PORT,
  KUBENURSE_SERVICE,
  KUBERNETES_SERVICE,
  PROBER_NAMESPACE,
  PROBER_PORT,
  PROMETHEUS_PORT,
  VIPS,
  clusterServices,
} from './topology.ts';

export const EXAMPLES = join(PROJECT_ROOT, 'examples');
const PROBER_START_TIMEOUT_MS = 30_000;

/**
 * Rounds as often as a loaded 2-core CI machine allows without timeouts that are the
 * machine's, not the network's: other test files run in parallel and stall event loops for
 * up to a second now and then.
 */
export const CHECK_INTERVAL = '2s';
export const CHECK_TIMEOUT = '2s';

/**
 * The only variables the probers get beyond what the DaemonSet and the kubelet give them.
 * Shorter timings keep the suite fast; the two paths replace files a cluster mounts.
 */
export function testOverrides(paths: {
  serviceAccountDir: string;
  ingressCa: string;
}): Record<string, string> {
  return {
    KUBENURSE_CHECK_INTERVAL: CHECK_INTERVAL,
    KUBENURSE_CHECK_TIMEOUT: CHECK_TIMEOUT,
    // Below the interval, so every tick runs a round (the cache spaces rounds by its TTL).
    KUBENURSE_CACHE_TTL: '1s',
    // The projected service-account volume of a pod.
    KUBENURSE_SERVICE_ACCOUNT_DIR: paths.serviceAccountDir,
    // The ingress' certificate comes from a CA a cluster would trust through the image or a volume.
    KUBENURSE_EXTRA_CA: paths.ingressCa,
  };
}

/** What the image sets (Dockerfile ENV) and the container runtime adds. */
function imageEnv(podName: string): Record<string, string> {
  return { PATH: SYSTEM_PATH, NODE_ENV: 'production', HOSTNAME: podName };
}

interface ProberSpec extends NetworkNode {
  readonly podName: string;
  /** Replaced when the suite restarts the prober with another container environment. */
  env: Record<string, string>;
  readonly proberEntry: string;
  /** The node's fake kube-proxy (children/kube-proxy.ts): hangSync, sync. */
  readonly kubeProxy: RpcClient;
}

export interface ClusterNode extends ProberSpec {
  /** Replaced when the suite restarts the prober. */
  prober: ManagedProcess;
}

/** kubenurse's /alive: discovery state and neighbour list live inside last_check_result. */
export interface AliveDocument {
  hostname: string;
  last_check_result: Record<string, string> & {
    neighbourhood_state?: string;
    neighbourhood?: { NodeName: string; PodName: string; PodIP: string }[];
  };
  [key: string]: unknown;
}

/** The check results of an /alive document, without kubenurse's two discovery keys. */
export function checkResults(alive: AliveDocument): Record<string, string> {
  const checks: Record<string, string> = {};
  for (const [key, value] of Object.entries(alive.last_check_result))
    if (key !== 'neighbourhood_state' && key !== 'neighbourhood' && typeof value === 'string')
      checks[key] = value;
  return checks;
}

export class Cluster {
  readonly network: Network;
  readonly apiserver: ApiServerControl;
  readonly nodes: ClusterNode[];
  readonly prometheus: PrometheusClient;
  readonly daemonSet: DaemonSetContainer;
  /** The test overrides every prober gets on top of its container's env (testOverrides()). */
  readonly overrides: Readonly<Record<string, string>>;

  private constructor(
    network: Network,
    apiserver: ApiServerControl,
    nodes: ClusterNode[],
    prometheus: PrometheusClient,
    daemonSet: DaemonSetContainer,
    overrides: Record<string, string>,
  ) {
    this.network = network;
    this.apiserver = apiserver;
    this.nodes = nodes;
    this.prometheus = prometheus;
    this.daemonSet = daemonSet;
    this.overrides = overrides;
  }

  get agent() {
    return this.network.agent;
  }

  /**
   * `proberEntry` defaults to the shipped bundle; `extraEnv` is for debugging only (the suite
   * passes none, so the probers get the DaemonSet's env and testOverrides() alone).
   * `addressing`: separate pod addresses and dual stack (network.ts); default one IPv4 address
   * per node. `containerEnv`: entries added to the DaemonSet container's `env`, as a user who
   * turns on an opt-in the example leaves commented out (same name: replaced).
   * `alertHold`: the `for` of the alerts in these rule groups, instead of the example's.
   */
  static async start({
    nodeCount,
    proberEntry = DIST_MAIN,
    extraEnv = {},
    addressing = SHARED_IPV4,
    containerEnv: addedEnv = [],
    alertHold,
  }: {
    nodeCount: number;
    proberEntry?: string;
    extraEnv?: Record<string, string>;
    addressing?: NodeAddressing;
    containerEnv?: DaemonSetContainer['env'];
    alertHold?: AlertHold;
  }): Promise<Cluster> {
    const example = readDaemonSet(join(EXAMPLES, 'daemonset.yaml'));
    const added = new Set(addedEnv.map((entry) => entry.name));
    const daemonSet: DaemonSetContainer = {
      ...example,
      env: [...example.env.filter((entry) => !added.has(entry.name)), ...addedEnv],
    };
    const ingressRule = readIngress(join(EXAMPLES, 'ingress.yaml'));
    const clusterCa = createTestCa('e2e cluster CA');
    const ingressCa = createTestCa('e2e ingress CA');
    const apiserverCert = clusterCa.issue('apiserver', [
      ADDRESSES.apiserver,
      VIPS.kubernetes,
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ]);
    const ingressCert = ingressCa.issue('ingress', [ingressRule.host]);
    const removeCas = (): void => {
      for (const ca of [clusterCa, ingressCa]) rmSync(ca.dir, { recursive: true, force: true });
    };

    const network = await Network.start({
      nodeCount,
      // Like an EndpointSlice, the prober Service gets its endpoints once the pods are ready.
      services: clusterServices([]),
      dnsRecords: [
        { name: `kubernetes.default.svc.cluster.local`, address: VIPS.kubernetes },
        { name: `kube-dns.kube-system.svc.cluster.local`, address: VIPS.kubeDns },
        {
          name: `${KUBENURSE_SERVICE.name}.${PROBER_NAMESPACE}.svc.cluster.local`,
          address: VIPS.kubenurse,
        },
        // The ingress host is an outside name; cluster DNS would forward it upstream.
        { name: ingressRule.host, address: ADDRESSES.ingress },
      ],
      podNamespace: PROBER_NAMESPACE,
      dnsOptions: daemonSet.dnsOptions,
      addressing,
      ingress: {
        listen: `${ADDRESSES.ingress}:${INGRESS_HTTPS_PORT}`,
        host: ingressRule.host,
        tls: { certPath: ingressCert.certPath, keyPath: ingressCert.keyPath },
        routes: ingressRule.paths.map((path) => {
          if (path.serviceName !== KUBENURSE_SERVICE.name)
            throw new Error(`ingress.yaml routes to unknown Service ${path.serviceName}`);
          return {
            path: path.path,
            pathType: path.pathType,
            upstream: `${VIPS.kubenurse}:${PROBER_PORT}`,
          };
        }),
      },
    });

    try {
      const serviceAccountDir = join(network.runDir, 'serviceaccount');
      mkdirSync(serviceAccountDir, { recursive: true });
      const kubeProxies = network.nodes.map((netNode) =>
        startRpcHelper(network.group, netNode.ns, `kube-proxy-${netNode.name}`, 'kube-proxy.ts', [
          // kube-proxy's default bind address 0.0.0.0 is Go's wildcard: every address of both
          // families. One IPv4 address per node: that one.
          netNode.ipv6 === undefined ? netNode.ip : '::',
        ]),
      );
      const [apiserver] = await Promise.all([
        ApiServerControl.start(network.group, network.infraNamespaces.apiserver, {
          host: ADDRESSES.apiserver,
          port: APISERVER_PORT,
          token: randomBytes(24).toString('base64url'),
          certPath: apiserverCert.certPath,
          keyPath: apiserverCert.keyPath,
          caCertPath: clusterCa.caCertPath,
          serviceAccountDir,
          serviceAccountNamespace: PROBER_NAMESPACE,
        }),
        ...kubeProxies.map(async ({ rpc, process }) => {
          try {
            await rpc.call('ping', {}, 15_000);
          } catch (error) {
            throw new Error(
              `${process.name} did not start: ${(error as Error).message}\n${process.log()}`,
              { cause: error },
            );
          }
        }),
      ]);
      const overrides = testOverrides({ serviceAccountDir, ingressCa: ingressCa.caCertPath });

      const nodes: ClusterNode[] = [];
      for (const [index, netNode] of network.nodes.entries()) {
        const podName = `kubenurse-${randomBytes(3).toString('hex').slice(0, 5)}`;
        await apiserver.addNode({
          name: netNode.name,
          internalIP: netNode.ip,
          ...(netNode.ipv6 === undefined ? {} : { secondaryInternalIP: netNode.ipv6 }),
        });
        await apiserver.addPod({
          name: podName,
          namespace: PROBER_NAMESPACE,
          nodeName: netNode.name,
          podIP: netNode.podIp,
          hostIP: netNode.ip,
          ...(netNode.podIpv6 === undefined ? {} : { secondaryPodIP: netNode.podIpv6 }),
          ...(netNode.ipv6 === undefined ? {} : { secondaryHostIP: netNode.ipv6 }),
          labels: daemonSet.podLabels,
        });
        const env = {
          ...imageEnv(podName),
          ...containerEnv(
            daemonSet,
            {
              podName,
              namespace: PROBER_NAMESPACE,
              nodeName: netNode.name,
              hostIp: netNode.ip,
              podIp: netNode.podIp,
              serviceAccountName: daemonSet.serviceAccountName,
            },
            KUBERNETES_SERVICE,
            [KUBENURSE_SERVICE],
          ),
          ...overrides,
          ...extraEnv,
        };
        const spec: ProberSpec = {
          ...netNode,
          podName,
          env,
          proberEntry,
          kubeProxy: (kubeProxies[index] as { rpc: RpcClient }).rpc,
        };
        nodes.push({ ...spec, prober: Cluster.spawnProber(network, spec) });
      }

      startPrometheus(
        network.group,
        network.infraNamespaces.prometheus,
        network.runDir,
        `${ADDRESSES.prometheus}:${PROMETHEUS_PORT}`,
        [
          {
            // What the example ServiceMonitor produces: job from the app label, node from the pod's
            // node; the target is the pod's endpoint.
            name: daemonSet.podLabels['app.kubernetes.io/name'] ?? 'kubenurse',
            targets: nodes.map((node) => ({
              address: `${node.podIp}:${PROBER_PORT}`,
              labels: {
                namespace: PROBER_NAMESPACE,
                pod: node.podName,
                node: node.name,
                service: KUBENURSE_SERVICE.name,
                endpoint: 'http',
              },
            })),
          },
        ],
        readRules(alertHold),
      );
      const prometheus = new PrometheusClient(
        network.agent,
        `http://${ADDRESSES.prometheus}:${PROMETHEUS_PORT}`,
      );
      network.onDestroy(removeCas);
      const cluster = new Cluster(network, apiserver, nodes, prometheus, daemonSet, overrides);
      await cluster.waitUntilReady();
      return cluster;
    } catch (error) {
      await network.destroy();
      removeCas();
      throw error;
    }
  }

  /** Every prober answers /ready (then it becomes a Service endpoint) and Prometheus scrapes them all. */
  private async waitUntilReady(): Promise<void> {
    await waitFor('every prober answers /ready with 200', PROBER_START_TIMEOUT_MS, async () => {
      const exited = this.nodes.filter((node) => !node.prober.running);
      if (exited.length > 0)
        throw new GiveUp(
          exited
            .map((node) => `prober on ${node.name} exited:\n${node.prober.log(1500)}`)
            .join('\n'),
        );
      const answers = await Promise.all(
        this.nodes.map((node) => this.agent.tryGet(this.proberUrl(node, '/ready'), 1000)),
      );
      const notReady = this.nodes.filter((_node, index) => answers[index]?.status !== 200);
      return notReady.length === 0
        ? true
        : `not ready: ${notReady.map((node) => `${node.name} (${node.prober.running ? 'running' : `exited: ${node.prober.log(500)}`})`).join(', ')}`;
    });
    await this.setProberEndpoints(this.nodes);
    await waitFor('Prometheus scrapes every prober', PROBER_START_TIMEOUT_MS, async () => {
      if (!(await this.prometheus.ready())) return 'Prometheus not ready';
      const { up } = await this.prometheus.targetsUp();
      return up === this.nodes.length ? true : `${up} of ${this.nodes.length} targets up`;
    });
  }

  /** The ready prober pods behind the kubenurse Service, programmed on every node. */
  async setProberEndpoints(nodes: readonly ClusterNode[]): Promise<void> {
    await this.network.setServices(clusterServices(nodes.map((node) => node.podIp)));
  }

  private static spawnProber(network: Network, node: ProberSpec): ManagedProcess {
    // Its own UTS namespace, so os.hostname() is the pod name as in a container.
    return network.group.spawn(
      node.ns,
      `prober-${node.name}`,
      'unshare',
      [
        '--uts',
        '--',
        'sh',
        '-c',
        'hostname "$0" && exec "$@"',
        node.podName,
        NODE_BINARY,
        node.proberEntry,
      ],
      { env: node.env, cwd: PROJECT_ROOT },
    );
  }

  /** Starts the node's prober again (after a SIGTERM scenario). */
  restartProber(node: ClusterNode): ManagedProcess {
    node.prober = Cluster.spawnProber(this.network, node);
    return node.prober;
  }

  /**
   * The environment the kubelet would give the node's prober if its container `env` were
   * `containerEnvEntries` (another DaemonSet, e.g. upstream kubenurse's), plus the test overrides.
   */
  envWith(
    node: ClusterNode,
    containerEnvEntries: DaemonSetContainer['env'],
  ): Record<string, string> {
    return {
      ...imageEnv(node.podName),
      ...containerEnv(
        { ...this.daemonSet, env: containerEnvEntries },
        {
          podName: node.podName,
          namespace: PROBER_NAMESPACE,
          nodeName: node.name,
          hostIp: node.ip,
          podIp: node.podIp,
          serviceAccountName: this.daemonSet.serviceAccountName,
        },
        KUBERNETES_SERVICE,
        [KUBENURSE_SERVICE],
      ),
      ...this.overrides,
    };
  }

  /** The prober on its pod address, or on `address` (it listens on every address of its node). */
  proberUrl(node: ClusterNode, path: string, address = node.podIp): string {
    return `http://${address}:${PROBER_PORT}${path}`;
  }

  async metrics(node: ClusterNode, address?: string): Promise<MetricsSnapshot> {
    const answer = await this.agent.get(this.proberUrl(node, '/metrics', address));
    if (answer.status !== 200) throw new Error(`${node.name} /metrics answered ${answer.status}`);
    return new MetricsSnapshot(answer.body);
  }

  async alive(node: ClusterNode, address?: string): Promise<AliveDocument> {
    const answer = await this.agent.get(this.proberUrl(node, '/alive', address), {
      timeoutMs: 5000,
    });
    return JSON.parse(answer.body) as AliveDocument;
  }

  async destroy(): Promise<void> {
    await this.network.destroy();
  }

  /** The logs of every process that exited, for failure messages. */
  diagnostics(): string {
    return this.network.group.describeFailures();
  }
}

/**
 * A shorter `for` for the alerts of some rule groups: the expressions stay the example's, but
 * a test can see them fire (hold for longer than a transition between rounds) without waiting
 * minutes.
 */
export interface AlertHold {
  readonly groups: readonly string[];
  readonly for: string;
}

interface RuleGroup {
  name?: string;
  rules?: Record<string, unknown>[];
}

/** The groups of examples/prometheusrule.yaml as a plain Prometheus rules file. */
export function readRules(hold?: AlertHold): string {
  const resource = parse(readFileSync(join(EXAMPLES, 'prometheusrule.yaml'), 'utf8')) as {
    kind?: string;
    spec?: { groups?: RuleGroup[] };
  };
  if (resource.kind !== 'PrometheusRule' || !Array.isArray(resource.spec?.groups))
    throw new Error('examples/prometheusrule.yaml: expected a PrometheusRule with spec.groups');
  const { groups } = resource.spec;
  if (hold) {
    for (const name of hold.groups) {
      const group = groups.find((candidate) => candidate.name === name);
      if (!group) throw new Error(`examples/prometheusrule.yaml has no rule group ${name}`);
      for (const rule of group.rules ?? []) if ('alert' in rule) rule.for = hold.for;
    }
  }
  return stringify({ groups });
}
