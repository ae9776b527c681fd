// Faults the demo can inject and undo, named by a short spec used on the command line
// (--fault SPEC), in the control API and on the control page.
//
//   partition:node-2,node-3   the listed nodes cannot reach each other (every pair, both ways,
//                             pod and node network: a broken link between them)
//   isolate:node-1            node-1 cannot reach any other node, nor they it, on either network
//                             (its underlay link is down; its processes keep running)
//   node-down:node-4          node-4's pod IP and node address refuse connections
//   cni:node-2                node-2's pod network is cut off both ways; its node network works
//   service                   the Service VIP stops (connection refused)
//   ingress                   the Ingress stops (connection refused)
//   apiserver                 the apiserver goes down (api_server_direct fails, discovery goes stale)
//   kube-proxy-hang:node-1    node-1's kube-proxy stops syncing: the sync lag grows and its
//                             /healthz turns 503 after the health timeout
import type { FakeApiServer } from '../fakes/fake-apiserver.ts';
import type { FakeKubeProxy } from '../fakes/fake-kube-proxy.ts';
import type { PodNetwork } from './pod-network.ts';
import type { IngressProxy, ServiceProxy } from './stand-ins.ts';
import { NODES, nodeByName } from './topology.ts';

export class FaultSpecError extends Error {}

export interface DemoWorld {
  readonly podNetwork: PodNetwork;
  /** What node_<node> checks cross (docs/layers.md). */
  readonly nodeNetwork: PodNetwork;
  readonly service: ServiceProxy;
  readonly ingress: IngressProxy;
  readonly apiserver: FakeApiServer;
  readonly kubeProxies: ReadonlyMap<string, FakeKubeProxy>;
  /** Nodes whose kube-proxy sync loop is stopped; the demo's sync ticker skips them. */
  readonly hungKubeProxies: Set<string>;
}

export interface Fault {
  /** Canonical spec, e.g. partition:node-2,node-3. */
  readonly spec: string;
  readonly description: string;
  apply(world: DemoWorld): Promise<void>;
  undo(world: DemoWorld): Promise<void>;
}

/** The toggles offered on the control page and as terminal keys 1–8. */
export const PRESETS: readonly string[] = [
  'partition:node-2,node-3',
  'isolate:node-1',
  'node-down:node-4',
  'service',
  'ingress',
  'apiserver',
  'kube-proxy-hang:node-1',
  'cni:node-2',
];

function nodesOf(kind: string, argument: string | undefined, min: number, max: number): string[] {
  const names = (argument ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const known = NODES.map((node) => node.name).join(', ');
  if (names.length < min || names.length > max) {
    throw new FaultSpecError(
      `${kind} needs ${min === max ? min : `${min} to ${max}`} node name${max > 1 ? 's' : ''} (${known}), e.g. ${kind}:${NODES.slice(
        1,
        1 + min,
      )
        .map((node) => node.name)
        .join(',')}`,
    );
  }
  for (const name of names)
    if (!nodeByName(name))
      throw new FaultSpecError(`${kind}: unknown node "${name}" (known: ${known})`);
  if (new Set(names).size !== names.length)
    throw new FaultSpecError(`${kind}: a node is listed twice`);
  return names;
}

/** A link that breaks between two machines breaks both networks over it. */
function both(world: DemoWorld, change: (network: PodNetwork) => void): void {
  change(world.podNetwork);
  change(world.nodeNetwork);
}

function pairs(names: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) out.push([names[i] as string, names[j] as string]);
  return out;
}

export function parseFault(spec: string): Fault {
  const trimmed = spec.trim();
  const colon = trimmed.indexOf(':');
  const kind = colon < 0 ? trimmed : trimmed.slice(0, colon);
  const argument = colon < 0 ? undefined : trimmed.slice(colon + 1);
  const noArgument = (): void => {
    if (argument !== undefined) throw new FaultSpecError(`${kind} takes no argument`);
  };
  switch (kind) {
    case 'partition': {
      const names = nodesOf(kind, argument, 2, NODES.length).sort();
      return {
        spec: `partition:${names.join(',')}`,
        description: `${names.join(' ⟷ ')} cannot reach each other`,
        apply: async (world) =>
          pairs(names).forEach(([a, b]) => both(world, (network) => network.cut(a, b))),
        undo: async (world) =>
          pairs(names).forEach(([a, b]) => both(world, (network) => network.heal(a, b))),
      };
    }
    case 'isolate': {
      const [name] = nodesOf(kind, argument, 1, 1) as [string];
      const others = NODES.map((node) => node.name).filter((other) => other !== name);
      return {
        spec: `isolate:${name}`,
        description: `${name} is cut off from every other node`,
        apply: async (world) =>
          others.forEach((other) => both(world, (network) => network.cut(name, other))),
        undo: async (world) =>
          others.forEach((other) => both(world, (network) => network.heal(name, other))),
      };
    }
    case 'cni': {
      const [name] = nodesOf(kind, argument, 1, 1) as [string];
      const others = NODES.map((node) => node.name).filter((other) => other !== name);
      return {
        spec: `cni:${name}`,
        description: `${name}'s pod network (CNI) is broken, its node network works`,
        apply: async (world) => others.forEach((other) => world.podNetwork.cut(name, other)),
        undo: async (world) => others.forEach((other) => world.podNetwork.heal(name, other)),
      };
    }
    case 'node-down': {
      const [name] = nodesOf(kind, argument, 1, 1) as [string];
      return {
        spec: `node-down:${name}`,
        description: `${name} is down: its pod IP and node address refuse connections`,
        apply: async (world) => {
          await world.podNetwork.setDown(name, true);
          await world.nodeNetwork.setDown(name, true);
        },
        undo: async (world) => {
          await world.podNetwork.setDown(name, false);
          await world.nodeNetwork.setDown(name, false);
        },
      };
    }
    case 'service':
      noArgument();
      return {
        spec: 'service',
        description: 'the Service VIP is down',
        apply: (world) => world.service.stop(),
        undo: (world) => world.service.start(),
      };
    case 'ingress':
      noArgument();
      return {
        spec: 'ingress',
        description: 'the Ingress is down',
        apply: (world) => world.ingress.stop(),
        undo: (world) => world.ingress.start(),
      };
    case 'apiserver':
      noArgument();
      return {
        spec: 'apiserver',
        description: 'the apiserver is down',
        apply: (world) => world.apiserver.close(),
        undo: (world) => world.apiserver.listen(),
      };
    case 'kube-proxy-hang': {
      const [name] = nodesOf(kind, argument, 1, 1) as [string];
      return {
        spec: `kube-proxy-hang:${name}`,
        description: `${name}'s kube-proxy stopped syncing rules`,
        apply: async (world) => {
          world.hungKubeProxies.add(name);
          world.kubeProxies.get(name)?.hangSync();
        },
        undo: async (world) => {
          world.hungKubeProxies.delete(name);
          world.kubeProxies.get(name)?.sync();
        },
      };
    }
    default:
      throw new FaultSpecError(
        `unknown fault "${spec}"; one of: partition:A,B[,…]  isolate:N  node-down:N  cni:N  service  ingress  apiserver  kube-proxy-hang:N`,
      );
  }
}

export interface FaultState {
  readonly spec: string;
  readonly description: string;
  readonly active: boolean;
}

/** The faults in effect; every change goes through here so undo always matches apply. */
export class FaultBoard {
  private readonly world: DemoWorld;
  private readonly active = new Map<string, Fault>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(world: DemoWorld) {
    this.world = world;
  }

  /** Turns a fault on or off; serialised, so two clicks cannot interleave. Throws FaultSpecError. */
  set(spec: string, on: boolean): Promise<FaultState> {
    const fault = parseFault(spec);
    const run = this.queue.then(async () => {
      if (on && !this.active.has(fault.spec)) {
        await fault.apply(this.world);
        this.active.set(fault.spec, fault);
      } else if (!on && this.active.has(fault.spec)) {
        await fault.undo(this.world);
        this.active.delete(fault.spec);
      }
      return {
        spec: fault.spec,
        description: fault.description,
        active: this.active.has(fault.spec),
      };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  toggle(spec: string): Promise<FaultState> {
    return this.set(spec, !this.isActive(spec));
  }

  isActive(spec: string): boolean {
    return this.active.has(parseFault(spec).spec);
  }

  /** The presets plus any other fault in effect. */
  list(): FaultState[] {
    const specs = [...PRESETS.map((preset) => parseFault(preset).spec)];
    for (const spec of this.active.keys()) if (!specs.includes(spec)) specs.push(spec);
    return specs.map((spec) => {
      const fault = parseFault(spec);
      return {
        spec: fault.spec,
        description: fault.description,
        active: this.active.has(fault.spec),
      };
    });
  }

  async healAll(): Promise<void> {
    for (const spec of [...this.active.keys()]) await this.set(spec, false);
  }
}
