// kube-proxy's iptables mode, reproduced for the emulated nodes: nat KUBE-SERVICES matches a
// ClusterIP:port and jumps to KUBE-SVC-<hash>, which picks an endpoint with
// `-m statistic --mode random --probability 1/remaining` and jumps to KUBE-SEP-<hash> (DNAT).
// A Service without endpoints is REJECTed in the filter table. Chain names use kube-proxy's
// own hash (sha256 of "ns/name:port" + lower-case protocol, base32, 16 characters), so they
// read like a real node's: default/kubernetes:https is KUBE-SVC-NPX46M4PTMTKRN6Y.
import { createHash } from 'node:crypto';
import { nsRun } from './shell.ts';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export interface ServicePort {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly clusterIp: string;
  readonly port: number;
  readonly endpoints: readonly Endpoint[];
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function hash16(text: string): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, 16);
}

export function servicePortName(service: ServicePort): string {
  return `${service.namespace}/${service.name}:${service.portName}`;
}

export function serviceChain(service: ServicePort): string {
  return `KUBE-SVC-${hash16(servicePortName(service) + service.protocol.toLowerCase())}`;
}

export function endpointChain(service: ServicePort, endpoint: Endpoint): string {
  return `KUBE-SEP-${hash16(servicePortName(service) + service.protocol.toLowerCase() + `${endpoint.ip}:${endpoint.port}`)}`;
}

/** The probability kube-proxy gives the i-th of n endpoints, so each is picked 1/n of the time. */
export function endpointProbability(index: number, count: number): string | undefined {
  return index === count - 1 ? undefined : (1 / (count - index)).toFixed(10);
}

/**
 * Input for `iptables-restore --noflush`: declaring a chain flushes it, so re-applying replaces
 * our chains and leaves everything else (fault-injection rules) alone. Chains in
 * `existingChains` that no Service needs any more are deleted, as kube-proxy does.
 */
export function renderKubeProxyRules(
  services: readonly ServicePort[],
  existingChains: readonly string[] = [],
): string {
  const nat: string[] = [];
  const natChains = new Set<string>(['KUBE-SERVICES']);
  const filter: string[] = [];
  for (const service of services) {
    const lower = service.protocol.toLowerCase();
    const name = servicePortName(service);
    if (service.endpoints.length === 0) {
      filter.push(
        `-A KUBE-SERVICES -d ${service.clusterIp}/32 -p ${lower} -m comment --comment "${name} has no endpoints" -m ${lower} --dport ${service.port} -j REJECT --reject-with icmp-port-unreachable`,
      );
      continue;
    }
    const svcChain = serviceChain(service);
    natChains.add(svcChain);
    nat.push(
      `-A KUBE-SERVICES -d ${service.clusterIp}/32 -p ${lower} -m comment --comment "${name} cluster IP" -m ${lower} --dport ${service.port} -j ${svcChain}`,
    );
    service.endpoints.forEach((endpoint, index) => {
      const sepChain = endpointChain(service, endpoint);
      natChains.add(sepChain);
      const probability = endpointProbability(index, service.endpoints.length);
      const statistic =
        probability === undefined ? '' : ` -m statistic --mode random --probability ${probability}`;
      nat.push(
        `-A ${svcChain} -m comment --comment "${name} -> ${endpoint.ip}:${endpoint.port}"${statistic} -j ${sepChain}`,
      );
      nat.push(
        `-A ${sepChain} -m comment --comment "${name}" -p ${lower} -m ${lower} -j DNAT --to-destination ${endpoint.ip}:${endpoint.port}`,
      );
    });
  }
  const stale = existingChains.filter(
    (chain) => /^KUBE-(SVC|SEP)-/.test(chain) && !natChains.has(chain),
  );
  return [
    '*nat',
    ...[...natChains, ...stale].map((chain) => `:${chain} - [0:0]`),
    ...nat,
    ...stale.map((chain) => `-X ${chain}`),
    'COMMIT',
    '*filter',
    ':KUBE-SERVICES - [0:0]',
    ...filter,
    'COMMIT',
    '',
  ].join('\n');
}

async function natChainsIn(ns: string): Promise<string[]> {
  const saved = await nsRun(ns, 'iptables-save', ['-t', 'nat']);
  return saved
    .split('\n')
    .flatMap((line) => (line.startsWith(':KUBE-') ? [line.slice(1).split(' ')[0] ?? ''] : []));
}

/** Programs `services` into namespace `ns`, replacing what kube-proxy emulation put there before. */
export async function applyServices(ns: string, services: readonly ServicePort[]): Promise<void> {
  await nsRun(ns, 'iptables-restore', ['--noflush'], {
    input: renderKubeProxyRules(services, await natChainsIn(ns)),
  });
}

/** The hooks kube-proxy installs once: Service traffic, local and forwarded, goes through KUBE-SERVICES. */
export async function installKubeProxy(
  ns: string,
  services: readonly ServicePort[],
): Promise<void> {
  await applyServices(ns, services);
  const hooks = [
    '*nat',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'COMMIT',
    '*filter',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'COMMIT',
    '',
  ].join('\n');
  await nsRun(ns, 'iptables-restore', ['--noflush'], { input: hooks });
}
