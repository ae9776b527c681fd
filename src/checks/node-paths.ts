// The checks that let a prober tell the layers apart (docs/layers.md), for the neighbours the
// ring chose for path_<node>: the same K, the same ring, no new neighbours.
//   node_<node>          the neighbour's node (status.hostIP) on a port every node serves,
//                        kube-proxy's :10256/healthz by default (KUBENURSE_CHECK_NODE_PATHS)
//   path_<node>_<family> the neighbour pod's address of its other family
//   node_<node>_<family> the node's address of its other family (KUBENURSE_CHECK_ALL_IP_FAMILIES)
// The primary family keeps the plain types, so path_<node> stays exactly kubenurse's series.
// Node names cannot contain "_", so neither suffix nor prefix can be mistaken for a node name.
import type { Config } from '../config.ts';
import { NODE_PATH_PREFIX } from '../config.ts';
import type { ProberContext } from '../context.ts';
import type { NeighbourPod } from '../neighbours/filter.ts';
import { NEIGHBOUR_ORIGIN_HEADER, podPathRequest } from '../neighbours/pod-path.ts';
import { urlHost } from '../url-host.ts';
import { familyOf, type IpFamily } from '../verdict.ts';
import type { Check, CheckSource } from './types.ts';

const POD_PATH_PREFIX = 'path_';

/** Which check types carry one family's pod and node path to one neighbour. */
export interface FamilyPlan {
  readonly family: IpFamily;
  readonly podType: string | undefined;
  readonly nodeType: string | undefined;
}

export interface NeighbourPlan {
  readonly node: string;
  readonly families: readonly FamilyPlan[];
}

interface Probe {
  readonly type: string;
  readonly family: IpFamily;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

function nodePathUrl(config: Config, address: string): string {
  return `http://${urlHost(address)}:${config.nodePathPort}${config.nodePathPath}`;
}

/** The extra probes for one neighbour and which type answers for which layer and family. */
export function planNeighbour(
  config: Config,
  neighbour: NeighbourPod,
): { plan: NeighbourPlan; probes: Probe[] } {
  const { nodeName } = neighbour;
  const podTypes = new Map<IpFamily, string>();
  const nodeTypes = new Map<IpFamily, string>();
  const probes: Probe[] = [];
  const primary = familyOf(neighbour.podIp);
  // The plain path_<node> check is the neighbour module's own.
  podTypes.set(primary, `${POD_PATH_PREFIX}${nodeName}`);

  if (config.checkAllIpFamilies && neighbour.secondaryPodIp !== undefined) {
    const family = familyOf(neighbour.secondaryPodIp);
    const type = `${POD_PATH_PREFIX}${nodeName}_${family}`;
    podTypes.set(family, type);
    probes.push({ type, family, ...podPathRequest(config, neighbour.secondaryPodIp) });
  }
  if (config.checkNodePaths) {
    const addNode = (address: string, type: string) => {
      const family = familyOf(address);
      nodeTypes.set(family, type);
      // The same origin header as the pod path: endpoints ignore it, test networks and the
      // demo use it to cut one pair without root (loopback hides the source address).
      const headers = { [NEIGHBOUR_ORIGIN_HEADER]: config.podName };
      probes.push({ type, family, url: nodePathUrl(config, address), headers });
    };
    if (neighbour.hostIp !== '') addNode(neighbour.hostIp, `${NODE_PATH_PREFIX}${nodeName}`);
    if (config.checkAllIpFamilies && neighbour.secondaryHostIp !== undefined)
      addNode(
        neighbour.secondaryHostIp,
        `${NODE_PATH_PREFIX}${nodeName}_${familyOf(neighbour.secondaryHostIp)}`,
      );
  }

  const families: FamilyPlan[] = [];
  for (const family of new Set([...podTypes.keys(), ...nodeTypes.keys()]))
    families.push({ family, podType: podTypes.get(family), nodeType: nodeTypes.get(family) });
  return { plan: { node: nodeName, families }, probes };
}

/**
 * A CheckSource next to the neighbour module's: the extra checks for the neighbours it
 * selected, and the plan of the last call (one call per round, at the round's start).
 */
export class LayerChecks implements CheckSource {
  private readonly ctx: ProberContext;
  private readonly selected: () => readonly NeighbourPod[];
  /** Check objects survive rounds while their type and URL stay the same. */
  private cache = new Map<string, Check>();
  private lastPlan: readonly NeighbourPlan[] = [];

  constructor(ctx: ProberContext, selected: () => readonly NeighbourPod[]) {
    this.ctx = ctx;
    this.selected = selected;
  }

  checks(): readonly Check[] {
    const plans: NeighbourPlan[] = [];
    const next = new Map<string, Check>();
    for (const neighbour of this.selected()) {
      const { plan, probes } = planNeighbour(this.ctx.config, neighbour);
      plans.push(plan);
      for (const probe of probes) {
        const key = `${probe.type} ${probe.url}`;
        next.set(key, this.cache.get(key) ?? this.checkFor(probe));
      }
    }
    this.cache = next;
    this.lastPlan = plans;
    return [...next.values()];
  }

  /** Which types the checks of the newest round were, per neighbour and family. */
  plan(): readonly NeighbourPlan[] {
    return this.lastPlan;
  }

  private checkFor({ type, url, headers }: Probe): Check {
    const { prober } = this.ctx;
    return {
      type,
      run: async (signal) => (await prober.probe({ type, url, headers }, signal)).outcome,
    };
  }
}
