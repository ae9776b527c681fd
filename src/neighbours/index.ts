// The neighbour mesh as the prober core sees it: a CheckSource of path_<node> checks, the
// neighbourhood fields of /alive, and whether our own node still wants traffic (/ready).
import type { AliveContributor, Check, CheckSource } from '../checks/types.ts';
import type { ProberContext } from '../context.ts';
import { Discovery, type DiscoveryTuning } from './discovery.ts';
import { eligibleNeighbours, nodeBlock, type NeighbourPod } from './filter.ts';
import { nodeHash, selectNeighbours } from './limit.ts';
import { podPathRequest } from './pod-path.ts';

export interface Neighbourhood extends CheckSource, AliveContributor {
  start(): void;
  stop(): Promise<void>;
  nodeReady(): boolean;
  /** This prober's node: KUBENURSE_NODE_NAME, or the own pod's spec.nodeName once seen. */
  ownNode(): string | undefined;
  /** The neighbours the ring chose for the current path_<node> checks. */
  selected(): readonly NeighbourPod[];
}

export { NEIGHBOUR_ORIGIN_HEADER } from './pod-path.ts';
const MAX_LOGGED_NAMES = 20;

interface RankedNeighbour extends NeighbourPod {
  readonly hash: bigint;
}

interface Selection {
  readonly generation: number;
  readonly ownNode: string | undefined;
  readonly all: readonly RankedNeighbour[];
  readonly chosen: readonly RankedNeighbour[];
  readonly checks: readonly Check[];
  readonly state: string;
}

/** `undefined` when KUBENURSE_CHECK_NEIGHBOURHOOD=false. */
export function createNeighbourhood(
  ctx: ProberContext,
  tuning?: Partial<DiscoveryTuning>,
): Neighbourhood | undefined {
  if (!ctx.config.checkNeighbourhood) return undefined;
  const discovery = new Discovery({
    config: ctx.config,
    logger: ctx.logger,
    registry: ctx.metrics.registry,
    ...(tuning ? { tuning } : {}),
  });
  return new NeighbourMesh(ctx, discovery);
}

export class NeighbourMesh implements Neighbourhood {
  private readonly ctx: ProberContext;
  private readonly discovery: Discovery;
  private selection: Selection | undefined;
  /** Hashes and Check objects survive recomputations; both only depend on their key. */
  private hashes = new Map<string, bigint>();
  private checkCache = new Map<string, Check>();

  constructor(ctx: ProberContext, discovery: Discovery) {
    this.ctx = ctx;
    this.discovery = discovery;
  }

  start(): void {
    this.discovery.start();
  }

  stop(): Promise<void> {
    return this.discovery.stop();
  }

  ownNode(): string | undefined {
    return this.discovery.ownNodeName();
  }

  checks(): readonly Check[] {
    return this.current().checks;
  }

  selected(): readonly NeighbourPod[] {
    return this.current().chosen;
  }

  aliveFields(): Record<string, unknown> {
    const { all, state } = this.current();
    return {
      neighbourhood_state: state,
      // NodeHash stays a bigint: /alive writes it as an exact JSON number, as kubenurse does.
      neighbourhood: all.map((n) => ({
        PodName: n.podName,
        PodIP: n.podIp,
        HostIP: n.hostIp,
        NodeName: n.nodeName,
        NodeHash: n.hash,
      })),
    };
  }

  /** 503 on /ready while our own node is one neighbours would skip (cordoned, being removed). */
  nodeReady(): boolean {
    const own = this.discovery.ownNodeName();
    if (own === undefined) return true;
    const block = nodeBlock(own, this.discovery.nodeLookup(), this.ctx.config.allowUnschedulable);
    // Our own node missing from the node list says more about the list than about the node.
    return block === undefined || block === 'node-gone';
  }

  /** The selection for the caches as they are now; recomputed only when they changed. */
  private current(): Selection {
    const generation = this.discovery.generation;
    const ownNode = this.discovery.ownNodeName();
    const previous = this.selection;
    if (previous && previous.generation === generation && previous.ownNode === ownNode)
      return previous;
    const next = this.compute(generation, ownNode);
    this.logChanges(previous, next);
    this.selection = next;
    return next;
  }

  private compute(generation: number, ownNode: string | undefined): Selection {
    const { config } = this.ctx;
    const status = this.discovery.status();
    const pods = eligibleNeighbours(this.discovery.podList(), this.discovery.nodeLookup(), {
      podName: config.podName,
      allowUnschedulable: config.allowUnschedulable,
      readyOnly: config.neighbourReadyOnly,
    });
    const hashes = new Map<string, bigint>();
    const all = pods.map((pod) => {
      const hash = this.hashes.get(pod.nodeName) ?? nodeHash(pod.nodeName);
      hashes.set(pod.nodeName, hash);
      return { ...pod, hash };
    });
    this.hashes = hashes;

    let state = status.state;
    let chosen: RankedNeighbour[];
    if (ownNode === undefined && config.neighbourLimit !== 0) {
      // The ring needs our own position; until our pod shows up we check nobody rather than the wrong K.
      chosen = [];
      if (state === 'ok')
        state = `own node unknown: pod ${config.podName} not yet seen by discovery (set KUBENURSE_NODE_NAME or check KUBENURSE_NEIGHBOUR_FILTER matches it)`;
    } else {
      chosen = selectNeighbours(ownNode ?? '', all, config.neighbourLimit);
    }

    const checks = new Map<string, Check>();
    for (const neighbour of chosen) {
      const check = this.checkFor(neighbour);
      checks.set(`${check.type} ${neighbour.podIp}`, check);
    }
    this.checkCache = checks;
    return { generation, ownNode, all, chosen, checks: [...checks.values()], state };
  }

  private checkFor(neighbour: RankedNeighbour): Check {
    const type = `path_${neighbour.nodeName}`;
    const cached = this.checkCache.get(`${type} ${neighbour.podIp}`);
    if (cached) return cached;
    const { config, prober } = this.ctx;
    const { url, headers } = podPathRequest(config, neighbour.podIp);
    return {
      type,
      run: async (signal) => (await prober.probe({ type, url, headers }, signal)).outcome,
    };
  }

  private logChanges(previous: Selection | undefined, next: Selection): void {
    const before = new Set(previous?.checks.map((check) => check.type) ?? []);
    const after = new Set(next.checks.map((check) => check.type));
    const added = [...after].filter((type) => !before.has(type));
    const removed = [...before].filter((type) => !after.has(type));
    // Discovery logs its own failures; this line is about who gets checked.
    if (previous && added.length === 0 && removed.length === 0) return;
    this.ctx.logger.info(
      {
        ownNode: next.ownNode,
        neighbours: next.all.length,
        checked: next.checks.length,
        added: added.slice(0, MAX_LOGGED_NAMES),
        removed: removed.slice(0, MAX_LOGGED_NAMES),
        state: next.state,
      },
      'neighbour selection changed',
    );
  }
}
