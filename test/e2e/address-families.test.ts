// End-to-end: the shipped prober on nodes of every address family. Upstream listens on ":8080"
// (internal/kubenurse/server.go), which serves IPv4 and IPv6; a prober bound to IPv4 only never
// becomes Ready on an IPv6-only or IPv6-primary cluster, because the kubelet's probes and the
// neighbours' /alwayshappy checks go to the pod's IPv6 address. Three nodes, addresses from
// families.ts (IPv6 from the ULA range fd00:6b6e::/64, only inside the test namespaces):
//   node-v6  IPv6 only                 pod IP fd00:6b6e::1:1
//   node-ds  dual-stack, IPv6 primary  pod IP fd00:6b6e::1:2, also 198.18.1.2
//   node-v4  IPv4, IPv6 disabled by sysctl (net.ipv6.conf.*.disable_ipv6=1)
// The apiserver and the test's client are dual-stack. No Service and no ingress here (their
// paths are IPv4 in the main e2e suite), so me_service and me_ingress are off.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../dev/fakes/pki.ts';
import { ApiServerControl } from './testbed/apiserver.ts';
import { DIST_MAIN, ensureBuilt } from './testbed/build.ts';
import { Fabric } from './testbed/fabric.ts';
import {
  hostAddresses,
  primaryAddress,
  urlAuthority,
  type FamilyLayout,
  type HostAddresses,
} from './testbed/families.ts';
import { HttpAgent } from './testbed/http-agent.ts';
import { NODE_BINARY, PROJECT_ROOT, SYSTEM_PATH } from './testbed/helpers.ts';
import {
  createNamespace,
  deleteNamespaceSync,
  removeStaleNamespaces,
  runPrefix,
  writeNamespaceEtc,
} from './testbed/netns.ts';
import { assertPreflight } from './testbed/preflight.ts';
import { ProcessGroup, type ManagedProcess } from './testbed/processes.ts';
import { run } from './testbed/shell.ts';
import { APISERVER_PORT, PROBER_NAMESPACE, PROBER_PORT } from './testbed/topology.ts';
import { GiveUp, waitFor } from './testbed/wait.ts';

const APISERVER_DNS = 'kubernetes.default.svc.cluster.local';
const LABELS = { 'app.kubernetes.io/name': 'kubenurse' };
const WAIT_MS = 60_000;

interface FamilyNode {
  readonly name: string;
  readonly layout: FamilyLayout;
  readonly addresses: HostAddresses;
  readonly ns: string;
  readonly podName: string;
  /** In the apiserver's pod list (neighbour discovery on); node-v4 is a separate, IPv4 cluster. */
  readonly meshed: boolean;
  prober?: ManagedProcess;
}

interface Alive {
  remote_addr: string;
  last_check_result: Record<string, string> & {
    neighbourhood?: { PodName: string; PodIP: string; NodeName: string }[];
  };
}

describe('prober on IPv6-only, dual-stack and IPv6-disabled nodes', { concurrent: false }, () => {
  const prefix = `${runPrefix()}af-`;
  const namespaces: string[] = [];
  const cleanups: (() => void)[] = [];
  let group: ProcessGroup;
  let agent: HttpAgent;
  let ca: TestCa;
  const apiserver = hostAddresses('198.18.0.2', 'dual-stack');
  const client = hostAddresses('198.18.0.250', 'dual-stack');
  const nodes: FamilyNode[] = (
    [
      ['node-v6', '198.18.1.1', 'ipv6', true],
      ['node-ds', '198.18.1.2', 'dual-stack', true],
      ['node-v4', '198.18.1.3', 'ipv4-ipv6-disabled', false],
    ] as const
  ).map(([name, slot, layout, meshed]) => ({
    name,
    layout,
    addresses: hostAddresses(slot, layout),
    ns: `${prefix}${name}`,
    podName: `kubenurse-${randomBytes(3).toString('hex').slice(0, 5)}`,
    meshed,
  }));
  const node = (name: string): FamilyNode => nodes.find((n) => n.name === name) as FamilyNode;

  function destroy(): void {
    group?.killAllSync();
    for (const ns of [...namespaces].reverse()) deleteNamespaceSync(ns);
    for (const cleanup of cleanups.splice(0)) cleanup();
  }

  async function addNamespace(name: string): Promise<string> {
    namespaces.push(name);
    await createNamespace(name);
    return name;
  }

  beforeAll(async () => {
    assertPreflight();
    await ensureBuilt();
    removeStaleNamespaces();
    process.once('exit', destroy);
    const runDir = join('/tmp', `${prefix}${process.pid}`);
    mkdirSync(runDir, { recursive: true });
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    group = new ProcessGroup(runDir);

    namespaces.push(`${prefix}fabric`);
    const fabric = await Fabric.create(`${prefix}fabric`);
    const apiserverNs = await addNamespace(`${prefix}apiserver`);
    const clientNs = await addNamespace(`${prefix}client`);
    await fabric.attach(apiserverNs, apiserver);
    await fabric.attach(clientNs, client);
    for (const n of nodes) {
      await addNamespace(n.ns);
      await fabric.attach(n.ns, n.addresses);
    }

    ca = createTestCa('e2e address families CA');
    cleanups.push(() => rmSync(ca.dir, { recursive: true, force: true }));
    const cert = ca.issue('apiserver', [
      apiserver.ipv4 as string,
      apiserver.ipv6 as string,
      APISERVER_DNS,
    ]);
    const serviceAccountDir = join(runDir, 'serviceaccount');
    mkdirSync(serviceAccountDir, { recursive: true });
    const api = await ApiServerControl.start(group, apiserverNs, {
      host: '::',
      port: APISERVER_PORT,
      token: randomBytes(24).toString('base64url'),
      certPath: cert.certPath,
      keyPath: cert.keyPath,
      caCertPath: ca.caCertPath,
      serviceAccountDir,
      serviceAccountNamespace: PROBER_NAMESPACE,
    });
    agent = HttpAgent.start(group, clientNs);

    for (const n of nodes) {
      const ip = primaryAddress(n.addresses);
      const apiserverIp = n.addresses.ipv6 !== undefined ? apiserver.ipv6 : apiserver.ipv4;
      // Cluster DNS stands in as the namespace's hosts file (applied by ip netns exec); no
      // resolver is reachable from the namespace, so nothing is ever asked outside.
      writeNamespaceEtc(n.ns, 'hosts', `127.0.0.1 localhost\n${apiserverIp} ${APISERVER_DNS}\n`);
      writeNamespaceEtc(n.ns, 'resolv.conf', 'nameserver 127.0.0.1\n');
      if (n.meshed) {
        await api.addNode({ name: n.name, internalIP: ip });
        await api.addPod({
          name: n.podName,
          namespace: PROBER_NAMESPACE,
          nodeName: n.name,
          podIP: ip,
          hostIP: ip,
          labels: LABELS,
        });
      }
      // kubenurse's own variables as its examples/daemonset.yaml sets them, what the kubelet
      // adds (the apiserver as an IPv6 literal on IPv6 nodes), and the test's timing.
      const env: Record<string, string> = {
        PATH: SYSTEM_PATH,
        NODE_ENV: 'production',
        HOSTNAME: n.podName,
        KUBERNETES_SERVICE_HOST: apiserverIp as string,
        KUBERNETES_SERVICE_PORT: String(APISERVER_PORT),
        KUBENURSE_NAMESPACE: PROBER_NAMESPACE,
        KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
        KUBENURSE_CHECK_ME_INGRESS: 'false',
        KUBENURSE_CHECK_ME_SERVICE: 'false',
        KUBENURSE_CHECK_NEIGHBOURHOOD: n.meshed ? 'true' : 'false',
        KUBENURSE_CHECK_INTERVAL: '2s',
        KUBENURSE_CHECK_TIMEOUT: '2s',
        KUBENURSE_CACHE_TTL: '1s',
        KUBENURSE_SERVICE_ACCOUNT_DIR: serviceAccountDir,
      };
      n.prober = group.spawn(
        n.ns,
        `prober-${n.name}`,
        'unshare',
        [
          '--uts',
          '--',
          'sh',
          '-c',
          'hostname "$0" && exec "$@"',
          n.podName,
          NODE_BINARY,
          DIST_MAIN,
        ],
        { env, cwd: PROJECT_ROOT },
      );
    }
  }, 120_000);

  afterAll(() => {
    process.removeListener('exit', destroy);
    destroy();
  });

  const url = (address: string, path: string): string =>
    `http://${urlAuthority(address, PROBER_PORT)}${path}`;

  async function alive(address: string): Promise<Alive> {
    const answer = await agent.get(url(address, '/alive'), { timeoutMs: 5000 });
    if (answer.status !== 200) throw new Error(`/alive answered ${answer.status}`);
    return JSON.parse(answer.body) as Alive;
  }

  function running(n: FamilyNode): void {
    if (!n.prober?.running) throw new GiveUp(`prober on ${n.name} exited:\n${n.prober?.log()}`);
  }

  it('node-v4 really has IPv6 disabled, node-v6 has no IPv4', async () => {
    const v4 = node('node-v4');
    expect(
      (
        await run('ip', ['netns', 'exec', v4.ns, 'cat', '/proc/sys/net/ipv6/conf/all/disable_ipv6'])
      ).trim(),
    ).toBe('1');
    expect(await run('ip', ['-n', v4.ns, '-6', 'addr', 'show'])).toBe('');
    expect(await run('ip', ['-n', node('node-v6').ns, '-4', 'addr', 'show', 'dev', 'eth0'])).toBe(
      '',
    );
  });

  it('every prober answers /ready on every address of its node (the kubelet probe)', async () => {
    for (const n of nodes) {
      const addresses = [n.addresses.ipv6, n.addresses.ipv4].filter(
        (a): a is string => a !== undefined,
      );
      for (const address of addresses)
        await waitFor(`${n.name} /ready on ${address}`, WAIT_MS, async () => {
          running(n);
          const answer = await agent.tryGet(url(address, '/ready'), 1000);
          return answer?.status === 200 ? true : `answer ${answer?.status ?? 'none'}`;
        });
    }
  });

  it('neighbours probe each other over IPv6 pod IPs, and the apiserver over an IPv6 literal and by name', async () => {
    const v6 = node('node-v6');
    const ds = node('node-ds');
    for (const [self, other] of [
      [v6, ds],
      [ds, v6],
    ] as const) {
      await waitFor(`${self.name}: every check ok`, WAIT_MS, async () => {
        running(self);
        const results = (await alive(primaryAddress(self.addresses))).last_check_result;
        const wanted = {
          api_server_direct: 'ok',
          api_server_dns: 'ok',
          [`path_${other.name}`]: 'ok',
          neighbourhood_state: 'ok',
        };
        const wrong = Object.entries(wanted).filter(([key, value]) => results[key] !== value);
        return wrong.length === 0
          ? true
          : wrong.map(([key]) => `${key}=${String(results[key])}`).join(', ');
      });
      const { last_check_result: results } = await alive(primaryAddress(self.addresses));
      expect(results.neighbourhood).toEqual([
        expect.objectContaining({
          PodName: other.podName,
          PodIP: other.addresses.ipv6,
          NodeName: other.name,
        }),
      ]);
    }
  });

  it("remote_addr is Go's: [ip]:port for IPv6 clients, plain IPv4 for IPv4 clients of the same socket", async () => {
    const ds = node('node-ds');
    expect((await alive(ds.addresses.ipv6 as string)).remote_addr).toMatch(
      /^\[fd00:6b6e::fa\]:\d+$/,
    );
    expect((await alive(ds.addresses.ipv4 as string)).remote_addr).toMatch(/^198\.18\.0\.250:\d+$/);
  });

  it('with IPv6 disabled the default listener still serves IPv4, and the checks work', async () => {
    const v4 = node('node-v4');
    await waitFor('node-v4: api_server_direct ok', WAIT_MS, async () => {
      running(v4);
      const results = (await alive(v4.addresses.ipv4 as string)).last_check_result;
      return results.api_server_direct === 'ok' &&
        results.api_server_dns === 'ok' &&
        results.neighbourhood_state === 'skipped'
        ? true
        : JSON.stringify(results);
    });
    expect(v4.prober?.log()).toMatch(/"msg":"listening"/);
  });
});
