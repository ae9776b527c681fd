// The cluster network: one bridge inside a namespace of its own (the "fabric"), and one veth
// pair per attached namespace. The root namespace is never attached and gets no route, so
// nothing sent to a test address can leave the machine.
import { createNamespace } from './netns.ts';
import { run } from './shell.ts';

export const NODE_PREFIX_LENGTH = 16; // 198.18.0.0/16
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
   * Plugs `ns` into the bridge as eth0 with `address`. `serviceRoute` adds the route a node
   * needs for the Service range: without it connect() fails before any DNAT rule is seen.
   * Returns the fabric-side interface name (where traffic towards `ns` can be shaped).
   */
  async attach(ns: string, address: string, { serviceRoute = false } = {}): Promise<string> {
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
    await run('ip', ['-n', ns, 'addr', 'add', `${address}/${NODE_PREFIX_LENGTH}`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    if (serviceRoute) await run('ip', ['-n', ns, 'route', 'add', SERVICE_CIDR, 'dev', 'eth0']);
    return port;
  }
}
