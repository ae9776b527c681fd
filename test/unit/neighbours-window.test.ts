// The narrowed node watches must give exactly the selection that watching every node gives:
// starting from no node knowledge, watching the window the selection names, and repeating
// until the window is stable, ends in the same K neighbours for every cluster state.
import { describe, expect, it } from 'vitest';
import {
  candidateNodes,
  eligibleNeighbours,
  type NeighbourFilterOptions,
  type NodeLookup,
} from '../../src/neighbours/filter.ts';
import { nodeHash, selectNeighbours, watchWindow } from '../../src/neighbours/limit.ts';
import {
  summariseNode,
  summarisePod,
  type NodeSummary,
  type PodSummary,
} from '../../src/neighbours/objects.ts';

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Cluster {
  readonly pods: PodSummary[];
  readonly nodes: Map<string, NodeSummary>;
  readonly own: string;
}

/** Random nodes (some cordoned, tainted, being deleted, gone) with random prober pods. */
function randomCluster(random: () => number, size: number): Cluster {
  const pods: PodSummary[] = [];
  const nodes = new Map<string, NodeSummary>();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  for (let i = 0; i < size; i++) {
    const name = `node-${i}-${Math.floor(random() * 1e6).toString(36)}`;
    const state = pick([
      'ok',
      'ok',
      'ok',
      'ok',
      'cordon',
      'taint',
      'autoscaler',
      'deleting',
      'gone',
    ]);
    if (state !== 'gone') {
      const node = summariseNode({
        metadata: {
          name,
          resourceVersion: '1',
          ...(state === 'deleting' ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
        },
        spec: {
          unschedulable: state === 'cordon',
          taints:
            state === 'taint'
              ? [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]
              : state === 'autoscaler'
                ? [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }]
                : [],
        },
      });
      if (node) nodes.set(name, node);
    }
    const podState = pick(['ok', 'ok', 'ok', 'ok', 'ok', 'pending', 'noip', 'terminating', 'none']);
    if (podState === 'none') continue;
    const pod = summarisePod({
      metadata: {
        name: i === 0 ? 'kubenurse-me' : `kubenurse-${i}`,
        namespace: 'kube-system',
        resourceVersion: '1',
        ...(podState === 'terminating' ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
      },
      spec: { nodeName: name },
      status: {
        phase: podState === 'pending' ? 'Pending' : 'Running',
        ...(podState === 'noip' ? {} : { podIP: `10.0.${i >> 8}.${i & 255}` }),
        conditions: [{ type: 'Ready', status: random() < 0.8 ? 'True' : 'False' }],
      },
    });
    if (pod) pods.push(pod);
  }
  return { pods, nodes, own: pods[0]?.spec.nodeName ?? 'node-x' };
}

function lookupOf(nodes: Map<string, NodeSummary>, known: (name: string) => boolean): NodeLookup {
  return {
    knows: known,
    get: (name) => (known(name) ? nodes.get(name) : undefined),
  };
}

function select(
  cluster: Cluster,
  lookup: NodeLookup,
  limit: number,
  options: NeighbourFilterOptions,
) {
  const all = eligibleNeighbours(cluster.pods, lookup, options).map((pod) => ({
    ...pod,
    hash: nodeHash(pod.nodeName),
  }));
  const chosen = selectNeighbours(cluster.own, all, limit);
  const candidates = [...candidateNodes(cluster.pods, options)].map((nodeName) => ({
    nodeName,
    hash: nodeHash(nodeName),
  }));
  return { chosen, window: watchWindow(cluster.own, candidates, chosen, limit) };
}

describe('watching only the window', () => {
  it('converges to exactly the selection of a prober that watches every node (property, 600 clusters)', () => {
    const random = prng(15);
    for (let round = 0; round < 600; round++) {
      const cluster = randomCluster(random, 2 + Math.floor(random() * 60));
      const limit = Math.floor(random() * 8);
      const options: NeighbourFilterOptions = {
        podName: 'kubenurse-me',
        allowUnschedulable: random() < 0.3,
        readyOnly: random() < 0.3,
      };
      const full = select(
        cluster,
        lookupOf(cluster.nodes, () => true),
        limit,
        options,
      );

      let watched = new Set<string>();
      let steps = 0;
      for (;;) {
        const current = watched;
        const { window } = select(
          cluster,
          lookupOf(cluster.nodes, (n) => current.has(n)),
          limit,
          options,
        );
        if ([...window].every((n) => watched.has(n)) && window.size === watched.size) break;
        watched = window;
        if (++steps > cluster.pods.length + 2) throw new Error('window does not converge');
      }
      const narrowed = select(
        cluster,
        lookupOf(cluster.nodes, (n) => watched.has(n)),
        limit,
        options,
      );
      expect(narrowed.chosen.map((n) => n.nodeName)).toEqual(full.chosen.map((n) => n.nodeName));
      // The window is what the full view needs too: no more nodes than that.
      expect([...watched].sort()).toEqual([...full.window].sort());
    }
  });

  it('holds our own node, the K chosen and the skipped ones between them, nothing further', () => {
    const names = Array.from({ length: 40 }, (_, i) => `worker-${i}`);
    const pods = names.map((nodeName, i) =>
      summarisePod({
        metadata: { name: i === 0 ? 'kubenurse-me' : `kubenurse-${i}`, namespace: 'ns' },
        spec: { nodeName },
        status: { phase: 'Running', podIP: `10.0.0.${i + 1}` },
      }),
    ) as PodSummary[];
    const own = 'worker-0';
    const ring = names
      .filter((n) => n !== own)
      .sort((a, b) => {
        const da = BigInt.asUintN(64, nodeHash(a) - nodeHash(own));
        const db = BigInt.asUintN(64, nodeHash(b) - nodeHash(own));
        return da < db ? -1 : 1;
      });
    const cordoned = new Set([ring[1] as string, ring[2] as string]);
    const nodes = new Map(
      names.map((name) => [
        name,
        summariseNode({
          metadata: { name },
          spec: { unschedulable: cordoned.has(name) },
        }) as NodeSummary,
      ]),
    );
    const cluster = { pods, nodes, own };
    const options = { podName: 'kubenurse-me', allowUnschedulable: false, readyOnly: false };
    const { chosen, window } = select(
      cluster,
      lookupOf(nodes, () => true),
      3,
      options,
    );
    expect(chosen.map((n) => n.nodeName)).toEqual([ring[0], ring[3], ring[4]]);
    expect([...window].sort()).toEqual([own, ...ring.slice(0, 5)].sort());
  });
});
