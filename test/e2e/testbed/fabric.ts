// The cluster network: one bridge inside a namespace of its own (the "fabric"), and one veth
// pair per attached namespace. The root namespace is never attached and gets no route, so
// nothing sent to a test address can leave the machine.
import {
  IPV4_PREFIX_LENGTH,
  IPV6_PREFIX_LENGTH,
  POD_IPV4_PREFIX_LENGTH,
  POD_IPV6_PREFIX_LENGTH,
  type HostAddresses,
} from './families.ts';
import { createNamespace } from './netns.ts';
import { run } from './shell.ts';

export const NODE_PREFIX_LENGTH = IPV4_PREFIX_LENGTH;
export const SERVICE_CIDR = '198.19.0.0/16';
const BRIDGE = 'br0';

export class Fabric {
  readonly ns: string;
  private attached = 0;

  private constructor(ns: string) {
    this.ns = ns;
  }

  static async create(ns: string): Promise<Fabric> {
    await createNamespace(ns);
    await run('ip', ['-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge']);
    await run('ip', ['-n', ns, 'link', 'set', BRIDGE, 'up']);
    return new Fabric(ns);
  }

  /**
   * Plugs `ns` into the bridge as eth0 with `address` (an IPv4 address, or the families of
   * families.ts). `serviceRoute` adds the route a node needs for the (IPv4) Service range:
   * without it connect() fails before any DNAT rule is seen. `podAddresses` are a node's pod
   * addresses, in the pod ranges of families.ts on the same link: pod peers are reached from
   * them, node peers from the node addresses, and Service traffic leaves from the pod address
   * as it would from a pod. Returns the fabric-side interface name (where traffic towards `ns`
   * can be shaped).
   */
  async attach(
    ns: string,
    address: string | HostAddresses,
    {
      serviceRoute = false,
      podAddresses,
    }: { serviceRoute?: boolean; podAddresses?: HostAddresses } = {},
  ): Promise<string> {
    const addresses: HostAddresses =
      typeof address === 'string' ? { ipv4: address, primary: 'ipv4' } : address;
    const port = `p${++this.attached}`;
    await run('ip', [
      '-n',
      this.ns,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      ns,
    ]);
    await run('ip', ['-n', this.ns, 'link', 'set', port, 'master', BRIDGE, 'up']);
    if (addresses.ipv6Disabled) await disableIpv6(ns);
    await addAddress(ns, addresses.ipv4, NODE_PREFIX_LENGTH);
    await addAddress(ns, addresses.ipv6, IPV6_PREFIX_LENGTH);
    await addAddress(ns, podAddresses?.ipv4, POD_IPV4_PREFIX_LENGTH);
    await addAddress(ns, podAddresses?.ipv6, POD_IPV6_PREFIX_LENGTH);
    if (addresses.ipv6 !== undefined || podAddresses?.ipv6 !== undefined)
      // Static IPv6 addresses go when the link goes down unless kept: a node whose link comes
      // back (a fault of the layers network) must find them again.
      await run('ip', [
        'netns',
        'exec',
        ns,
        'sh',
        '-c',
        'echo 1 > /proc/sys/net/ipv6/conf/eth0/keep_addr_on_down',
      ]);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    if (serviceRoute && addresses.ipv4 !== undefined)
      await run('ip', [
        '-n',
        ns,
        'route',
        'add',
        SERVICE_CIDR,
        'dev',
        'eth0',
        ...(podAddresses?.ipv4 === undefined ? [] : ['src', podAddresses.ipv4]),
      ]);
    return port;
  }
}

/**
 * IPv6 off for the whole namespace, as a node whose sysctl configuration disables it
 * (net.ipv6.conf.*.disable_ipv6=1). Written to /proc/sys from inside the namespace, where
 * net.* is the namespace's own, so no sysctl binary is needed.
 */
async function disableIpv6(ns: string): Promise<void> {
  await run('ip', [
    'netns',
    'exec',
    ns,
    'sh',
    '-c',
    'for d in all default lo eth0; do echo 1 > /proc/sys/net/ipv6/conf/$d/disable_ipv6; done',
  ]);
}

/** Puts an address (when there is one) on the namespace's eth0. */
async function addAddress(ns: string, address: string | undefined, prefix: number): Promise<void> {
  if (address === undefined) return;
  const family = address.includes(':') ? ['-6'] : [];
  // nodad: an IPv6 address is usable at once, without the second of duplicate address detection.
  const dad = address.includes(':') ? ['nodad'] : [];
  await run('ip', [
    '-n',
    ns,
    ...family,
    'addr',
    'add',
    `${address}/${prefix}`,
    'dev',
    'eth0',
    ...dad,
  ]);
}
