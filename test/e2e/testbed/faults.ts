// Faults injected at the network level, each with its exact undo. Rules the suite adds for a
// fault live in their own chain (E2E-FAULT), so healing flushes exactly them and nothing of
// the kube-proxy emulation.
import { applyServices } from './kubeproxy-rules.ts';
import type { ServicePort } from './kubeproxy-rules.ts';
import type { ClusterNode } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { startRpcHelper } from './helpers.ts';
import type { ManagedProcess } from './processes.ts';
import { nsRun, run } from './shell.ts';
import { PROBER_PORT } from './topology.ts';

const FAULT_CHAIN = 'E2E-FAULT';

type Family = 'ipv4' | 'ipv6';
const RESTORE: Record<Family, string> = { ipv4: 'iptables-restore', ipv6: 'ip6tables-restore' };

async function faultRules(
  ns: string,
  table: 'filter' | 'nat',
  hooks: readonly string[],
  rules: readonly string[],
  family: Family = 'ipv4',
): Promise<void> {
  const lines = [
    `*${table}`,
    `:${FAULT_CHAIN} - [0:0]`,
    ...hooks.map((hook) => `-I ${hook} 1 -j ${FAULT_CHAIN}`),
    ...rules.map((rule) => `-A ${FAULT_CHAIN} ${rule}`),
    'COMMIT',
    '',
  ];
  await nsRun(ns, RESTORE[family], ['--noflush'], { input: lines.join('\n') });
}

async function clearFaultRules(
  ns: string,
  table: 'filter' | 'nat',
  hooks: readonly string[],
  family: Family = 'ipv4',
): Promise<void> {
  const lines = [
    `*${table}`,
    `:${FAULT_CHAIN} - [0:0]`,
    ...hooks.map((hook) => `-D ${hook} -j ${FAULT_CHAIN}`),
    `-X ${FAULT_CHAIN}`,
    'COMMIT',
    '',
  ];
  await nsRun(ns, RESTORE[family], ['--noflush'], { input: lines.join('\n') });
}

type Undo = () => Promise<void>;

/** Filter rules in `node`'s INPUT and OUTPUT, per family; the undo removes exactly them. */
async function filterFault(
  node: ClusterNode,
  rules: Readonly<Record<Family, readonly string[]>>,
): Promise<Undo> {
  const families = (Object.keys(rules) as Family[]).filter((family) => rules[family].length > 0);
  for (const family of families)
    await faultRules(node.ns, 'filter', ['INPUT', 'OUTPUT'], rules[family], family);
  return async () => {
    for (const family of families)
      await clearFaultRules(node.ns, 'filter', ['INPUT', 'OUTPUT'], family);
  };
}

/** Every address of a node and its pod, by family (the pod's are the node's with shared addressing). */
function addressesOf(node: ClusterNode): Record<Family, string[]> {
  const unique = (list: (string | undefined)[]) => [
    ...new Set(list.filter((a): a is string => a !== undefined)),
  ];
  return { ipv4: unique([node.ip, node.podIp]), ipv6: unique([node.ipv6, node.podIpv6]) };
}

const prefixLength = (family: Family): number => (family === 'ipv4' ? 32 : 128);

/** Node a and node b drop every packet from and to each other (every address), on both sides. */
export async function partition(a: ClusterNode, b: ClusterNode): Promise<Undo> {
  const cut = (self: ClusterNode, peer: ClusterNode): Promise<Undo> => {
    const peerAddresses = addressesOf(peer);
    const rules = (family: Family) =>
      peerAddresses[family].flatMap((address) => [
        `-s ${address}/${prefixLength(family)} -j DROP`,
        `-d ${address}/${prefixLength(family)} -j DROP`,
      ]);
    return filterFault(self, { ipv4: rules('ipv4'), ipv6: rules('ipv6') });
  };
  const undos = await Promise.all([cut(a, b), cut(b, a)]);
  return async () => void (await Promise.all(undos.map((undo) => undo())));
}

/**
 * The pod network of `node` is broken, its node network is not: nothing reaches its pod
 * addresses (both families) and nothing comes back to them, as with a CNI agent down.
 */
export function podNetworkDown(node: ClusterNode): Promise<Undo> {
  if (node.podIp === node.ip) throw new Error(`${node.name}: its pod has no address of its own`);
  const pod = (address: string | undefined, family: Family): string[] =>
    address === undefined ? [] : [`-d ${address}/${prefixLength(family)} -j DROP`];
  return filterFault(node, { ipv4: pod(node.podIp, 'ipv4'), ipv6: pod(node.podIpv6, 'ipv6') });
}

/** `node` drops every packet on its link, in and out, both families: down as seen from the network. */
export function nodeDown(node: ClusterNode): Promise<Undo> {
  const all = ['-i eth0 -j DROP', '-o eth0 -j DROP'];
  return filterFault(node, { ipv4: all, ipv6: all });
}

/** `node` drops every packet of one family on its link, node and pod addresses alike. */
export function familyDown(node: ClusterNode, family: Family): Promise<Undo> {
  const all = ['-i eth0 -j DROP', '-o eth0 -j DROP'];
  return filterFault(node, {
    ipv4: family === 'ipv4' ? all : [],
    ipv6: family === 'ipv6' ? all : [],
  });
}

/**
 * The underlay fails `node` while the node itself runs untouched: its switch port (the bridge
 * port in the fabric namespace) goes down, so its link loses carrier.
 */
export async function switchPortDown(fabricNs: string, node: ClusterNode): Promise<Undo> {
  await run('ip', ['-n', fabricNs, 'link', 'set', node.fabricPort, 'down']);
  return async () => void (await run('ip', ['-n', fabricNs, 'link', 'set', node.fabricPort, 'up']));
}

/**
 * kube-proxy on `node` lost the rules of one Service (a failed or partial iptables-restore):
 * its ClusterIP is no longer translated there, everything else is as before.
 */
export async function deleteServiceRules(
  node: ClusterNode,
  services: readonly ServicePort[],
  name: string,
): Promise<() => Promise<void>> {
  await applyServices(
    node.ns,
    services.filter((service) => service.name !== name),
  );
  return async () => applyServices(node.ns, services);
}

const RELAY_PORT = 18080;

/** Every connection to `node`'s prober port is answered `delayMs` later (see children/delay-relay.ts). */
export async function slowNode(
  cluster: Cluster,
  node: ClusterNode,
  delayMs: number,
): Promise<() => Promise<void>> {
  const { process, rpc } = startRpcHelper(
    cluster.network.group,
    node.ns,
    `delay-relay-${node.name}`,
    'delay-relay.ts',
    [String(RELAY_PORT), node.podIp, String(PROBER_PORT), String(delayMs)],
  );
  await rpc.call('ping', {}, 10_000);
  await faultRules(
    node.ns,
    'nat',
    ['PREROUTING'],
    [`-p tcp -d ${node.podIp}/32 --dport ${PROBER_PORT} -j REDIRECT --to-ports ${RELAY_PORT}`],
  );
  return async () => {
    await clearFaultRules(node.ns, 'nat', ['PREROUTING']);
    rpc.close();
    await stopped(process);
  };
}

async function stopped(process: ManagedProcess): Promise<void> {
  await process.stop(2000);
}
