// The neighbour mesh as the prober core sees it: a CheckSource of path_<node> checks, a typed
// view of the neighbourhood, and whether our own node still wants traffic (/ready).
import type { Check, CheckSource } from '../checks/types.ts';
import type { ProberContext } from '../context.ts';
import { Discovery, type DiscoveryTuning, type NodeWindow } from './discovery.ts';
import { candidateNodes, eligibleNeighbours, nodeBlock, type NeighbourPod } from './filter.ts';
import { nodeHash as hashOf, selectNeighbours, watchWindow } from './limit.ts';
import { podPathRequest } from './pod-path.ts';
import type { Neighbour, NeighbourhoodState, NeighbourhoodView } from '../state.ts';

export interface Neighbourhood extends CheckSource {
  /** Discovery's state and every eligible neighbour, as of the caches now. */
  view(): NeighbourhoodView;
  start(): void;
  stop(): Promise<void>;
  nodeReady(): boolean;
  /** This prober's node: KUBENURSE_NODE_NAME, or the own pod's spec.nodeName once seen. */
  ownNode(): string | undefined;
  /** The neighbours the ring chose for the current path_<node> checks. */
  selected(): readonly NeighbourPod[];
}

const MAX_LOGGED_NAMES = 20;

interface Selection extends NeighbourhoodView {
  readonly generation: number;
  readonly ownNode: string | undefined;
  readonly chosen: readonly Neighbour[];
  readonly checks: readonly Check[];
  /** The nodes this selection depends on (undefined while our own node is unknown). */
  readonly window: NodeWindow | undefined;
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
    // Discovery watches only the nodes the current selection depends on.
    discovery.setWindowSource(() => this.current().window);
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

  view(): NeighbourhoodView {
    const { state, neighbours } = this.current();
    return { state, neighbours };
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
    const podList = this.discovery.podList();
    const filterOptions = {
      podName: config.podName,
      allowUnschedulable: config.allowUnschedulable,
      readyOnly: config.neighbourReadyOnly,
    };
    const pods = eligibleNeighbours(podList, this.discovery.nodeLookup(), filterOptions);
    const hashes = new Map<string, bigint>();
    const hashFor = (nodeName: string): bigint => {
      const hash = hashes.get(nodeName) ?? this.hashes.get(nodeName) ?? hashOf(nodeName);
      hashes.set(nodeName, hash);
      return hash;
    };
    const neighbours: Neighbour[] = pods.map((pod: NeighbourPod) => ({
      ...pod,
      nodeHash: hashFor(pod.nodeName),
    }));
    // Every node with a prober that passes the pod filters, whatever its node's state.
    const candidates = [...candidateNodes(podList, filterOptions)].map((nodeName) => ({
      nodeName,
      hash: hashFor(nodeName),
    }));
    this.hashes = hashes;

    let state: NeighbourhoodState = status;
    let chosen: Neighbour[];
    if (ownNode === undefined && config.neighbourLimit !== 0) {
      // The ring needs our own position; until our pod shows up we check nobody rather than the wrong K.
      chosen = [];
      if (state.kind === 'ok')
        state = {
          kind: 'own-node-unknown',
          reason:
            `own node unknown: pod ${config.podName} not yet seen by discovery (set ` +
            `KUBENURSE_NODE_NAME or check KUBENURSE_NEIGHBOUR_FILTER matches it)`,
        };
    } else {
      const ring = neighbours.map((neighbour) => ({ ...neighbour, hash: neighbour.nodeHash }));
      chosen = selectNeighbours(ownNode ?? '', ring, config.neighbourLimit);
    }
    const window: NodeWindow | undefined =
      ownNode === undefined
        ? config.neighbourLimit === 0
          ? { nodes: new Set(candidates.map((c) => c.nodeName)), candidates: candidates.length }
          : undefined
        : {
            nodes: watchWindow(
              ownNode,
              candidates,
              chosen.map((neighbour) => ({
                nodeName: neighbour.nodeName,
                hash: neighbour.nodeHash,
              })),
              config.neighbourLimit,
            ),
            candidates: candidates.length,
          };

    const checks = new Map<string, Check>();
    for (const neighbour of chosen) {
      const check = this.checkFor(neighbour);
      checks.set(`${check.type} ${neighbour.podIp}`, check);
    }
    this.checkCache = checks;
    return {
      generation,
      ownNode,
      neighbours,
      chosen,
      checks: [...checks.values()],
      state,
      window,
    };
  }

  private checkFor(neighbour: Neighbour): Check {
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
        neighbours: next.neighbours.length,
        checked: next.checks.length,
        added: added.slice(0, MAX_LOGGED_NAMES),
        removed: removed.slice(0, MAX_LOGGED_NAMES),
        state: next.state.kind === 'ok' ? 'ok' : next.state.kind,
      },
      'neighbour selection changed',
    );
  }
}
