// Cluster DNS: dnsmasq in its own namespace, authoritative for cluster.local (nothing is ever
// forwarded: it has no upstream), reached by the nodes through the kube-dns Service VIP like
// CoreDNS is. Pods get the resolv.conf the kubelet writes for ClusterFirst.
import { join } from 'node:path';
import { writeNamespaceEtc } from './netns.ts';
import type { ManagedProcess, ProcessGroup } from './processes.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

export interface DnsRecord {
  readonly name: string;
  readonly address: string;
}

export function startDnsmasq(
  group: ProcessGroup,
  ns: string,
  listenAddress: string,
  records: readonly DnsRecord[],
  runDir: string,
): ManagedProcess {
  return group.spawn(
    ns,
    'dnsmasq',
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      `--listen-address=${listenAddress}`,
      `--pid-file=${join(runDir, 'dnsmasq.pid')}`,
      `--local=/${CLUSTER_DOMAIN}/`,
      '--log-facility=-',
      '--log-queries',
      ...records.map((record) => `--host-record=${record.name},${record.address}`),
    ],
    { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } },
  );
}

/** What the kubelet writes for a ClusterFirst pod, with the DaemonSet's dnsConfig options. */
export function podResolvConf(
  nameserver: string,
  podNamespace: string,
  options: readonly string[],
): string {
  const search = [`${podNamespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
  const lines = [`nameserver ${nameserver}`, `search ${search.join(' ')}`];
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export function writeResolvConf(ns: string, content: string): void {
  writeNamespaceEtc(ns, 'resolv.conf', content);
}
