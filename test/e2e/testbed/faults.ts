// Faults injected at the network level, each with its exact undo. Rules the suite adds for a
// fault live in their own chain (E2E-FAULT), so healing flushes exactly them and nothing of
// the kube-proxy emulation.
import { applyServices } from './kubeproxy-rules.ts';
import type { ServicePort } from './kubeproxy-rules.ts';
import type { ClusterNode } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { startRpcHelper } from './helpers.ts';
import type { ManagedProcess } from './processes.ts';
import { nsRun } from './shell.ts';
import { PROBER_PORT } from './topology.ts';

const FAULT_CHAIN = 'E2E-FAULT';

async function faultRules(
  ns: string,
  table: 'filter' | 'nat',
  hooks: readonly string[],
  rules: readonly string[],
): Promise<void> {
  const lines = [
    `*${table}`,
    `:${FAULT_CHAIN} - [0:0]`,
    ...hooks.map((hook) => `-I ${hook} 1 -j ${FAULT_CHAIN}`),
    ...rules.map((rule) => `-A ${FAULT_CHAIN} ${rule}`),
    'COMMIT',
    '',
  ];
  await nsRun(ns, 'iptables-restore', ['--noflush'], { input: lines.join('\n') });
}

async function clearFaultRules(
  ns: string,
  table: 'filter' | 'nat',
  hooks: readonly string[],
): Promise<void> {
  const lines = [
    `*${table}`,
    `:${FAULT_CHAIN} - [0:0]`,
    ...hooks.map((hook) => `-D ${hook} -j ${FAULT_CHAIN}`),
    `-X ${FAULT_CHAIN}`,
    'COMMIT',
    '',
  ];
  await nsRun(ns, 'iptables-restore', ['--noflush'], { input: lines.join('\n') });
}

/** Node a and node b drop every packet from and to each other, on both sides. */
export async function partition(a: ClusterNode, b: ClusterNode): Promise<() => Promise<void>> {
  const cut = async (self: ClusterNode, peer: ClusterNode): Promise<void> =>
    faultRules(
      self.ns,
      'filter',
      ['INPUT', 'OUTPUT'],
      [`-s ${peer.ip}/32 -j DROP`, `-d ${peer.ip}/32 -j DROP`],
    );
  await Promise.all([cut(a, b), cut(b, a)]);
  return async () => {
    await Promise.all([
      clearFaultRules(a.ns, 'filter', ['INPUT', 'OUTPUT']),
      clearFaultRules(b.ns, 'filter', ['INPUT', 'OUTPUT']),
    ]);
  };
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
    [String(RELAY_PORT), node.ip, String(PROBER_PORT), String(delayMs)],
  );
  await rpc.call('ping', {}, 10_000);
  await faultRules(
    node.ns,
    'nat',
    ['PREROUTING'],
    [`-p tcp -d ${node.ip}/32 --dport ${PROBER_PORT} -j REDIRECT --to-ports ${RELAY_PORT}`],
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
