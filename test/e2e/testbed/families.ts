// Per-host address families as data: a host of the test network is IPv4-only, IPv6-only or
// dual-stack, and may have IPv6 turned off in its kernel settings. IPv4 addresses are in
// 198.18.0.0/16 (see topology.ts), IPv6 ones in fd00:6b6e::/64, a unique-local (ULA) range
// that exists only inside the test namespaces: the root namespace gets no address or route.

export type FamilyLayout = 'ipv4' | 'ipv6' | 'dual-stack' | 'ipv4-ipv6-disabled';

export interface HostAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** net.ipv6.conf.{all,default,lo,eth0}.disable_ipv6=1 inside the namespace. */
  readonly ipv6Disabled?: boolean;
  /** Which family Kubernetes lists first (status.podIP / status.hostIP): IPv6 when present. */
  readonly primary: 'ipv4' | 'ipv6';
}

export const IPV4_PREFIX_LENGTH = 16; // 198.18.0.0/16
export const IPV6_PREFIX = 'fd00:6b6e::';
export const IPV6_PREFIX_LENGTH = 64; // fd00:6b6e::/64

/** The IPv6 twin of a test IPv4 address: 198.18.1.3 → fd00:6b6e::1:3 (same host bytes). */
export function ipv6Twin(ipv4: string): string {
  const [, , third, fourth] = ipv4.split('.');
  if (third === undefined || fourth === undefined) throw new Error(`not an IPv4 address: ${ipv4}`);
  return `${IPV6_PREFIX}${Number(third).toString(16)}:${Number(fourth).toString(16)}`;
}

/** The addresses of a host with IPv4 address `ipv4` (its slot in the topology) in `layout`. */
export function hostAddresses(ipv4: string, layout: FamilyLayout): HostAddresses {
  switch (layout) {
    case 'ipv4':
      return { ipv4, primary: 'ipv4' };
    case 'ipv4-ipv6-disabled':
      return { ipv4, ipv6Disabled: true, primary: 'ipv4' };
    case 'ipv6':
      return { ipv6: ipv6Twin(ipv4), primary: 'ipv6' };
    case 'dual-stack':
      return { ipv4, ipv6: ipv6Twin(ipv4), primary: 'ipv6' };
  }
}

/**
 * Pod addresses apart from the node's (the layers network, docs/e2e.md): IPv4 in a /24 inside
 * the node range, so it stays on-link for every host while the kernel route of that /24 makes
 * it the source of pod-to-pod traffic; IPv6 in a /64 of its own, fd00:6b6e:0:2::/64, so source
 * selection (longest matching prefix) picks the pod address for pod peers and the node address
 * for node peers.
 */
export const POD_IPV4_PREFIX_LENGTH = 24; // 198.18.2.0/24, see topology.ts
const POD_IPV6_PREFIX = 'fd00:6b6e:0:2::';
export const POD_IPV6_PREFIX_LENGTH = 64; // fd00:6b6e:0:2::/64

/** The IPv6 twin of a pod's IPv4 address: 198.18.2.3 → fd00:6b6e:0:2::3 (same last byte). */
export function podIpv6Twin(podIpv4: string): string {
  const fourth = podIpv4.split('.')[3];
  if (fourth === undefined) throw new Error(`not an IPv4 address: ${podIpv4}`);
  return `${POD_IPV6_PREFIX}${Number(fourth).toString(16)}`;
}

/** The address Kubernetes would report first for this host (podIP, hostIP). */
export function primaryAddress(addresses: HostAddresses): string {
  const address = addresses.primary === 'ipv6' ? addresses.ipv6 : addresses.ipv4;
  if (address === undefined) throw new Error(`no ${addresses.primary} address`);
  return address;
}

/** Every address of the host, primary first (status.podIPs). */
export function allAddresses(addresses: HostAddresses): string[] {
  const list = [addresses.ipv4, addresses.ipv6].filter((a): a is string => a !== undefined);
  return addresses.primary === 'ipv6' ? list.reverse() : list;
}

/** host:port for a URL (IPv6 literals in brackets). */
export function urlAuthority(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}
