// kubenurse's neighbour ring, bit for bit, so a fleet mixing kubenurse and kubenurse-ts
// agrees on who checks whom.
//
// Every node sits on a 2^64 ring at hash(nodeName). A node checks the K nodes that follow
// it clockwise: the K smallest (theirHash − myHash) mod 2^64. Because every node looks
// clockwise, every node is also looked at by exactly the K nodes that precede it, and a
// node joining or leaving only moves the edges of its K predecessors.
import { createHash } from 'node:crypto';

const RING_BITS = 64;

/** First 8 bytes of sha256(nodeName), big-endian, as kubenurse's sha256Uint64. */
export function nodeHash(nodeName: string): bigint {
  return createHash('sha256').update(nodeName, 'utf8').digest().readBigUInt64BE(0);
}

/** Clockwise distance from `from` to `to` on the 2^64 ring. */
export function ringDistance(from: bigint, to: bigint): bigint {
  return BigInt.asUintN(RING_BITS, to - from);
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface RingMember {
  readonly nodeName: string;
  /** nodeHash(nodeName); callers pass it so a round hashes each name once. */
  readonly hash: bigint;
}

/**
 * The members `myNode` checks: the `limit` members that follow it clockwise, nearest first.
 * `limit` 0 means all of them. Members on my own node (distance 0) come first, as in
 * kubenurse. O(n log n).
 */
export function selectNeighbours<T extends RingMember>(
  myNode: string,
  members: readonly T[],
  limit: number,
): T[] {
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`neighbour limit must be a whole number ≥ 0, got ${limit}`);
  const mine = nodeHash(myNode);
  const byDistance = members
    .map((member) => ({ member, distance: ringDistance(mine, member.hash) }))
    .sort(
      (a, b) =>
        compareBigInt(a.distance, b.distance) ||
        (a.member.nodeName < b.member.nodeName
          ? -1
          : a.member.nodeName > b.member.nodeName
            ? 1
            : 0),
    );
  const chosen = limit === 0 ? byDistance : byDistance.slice(0, limit);
  return chosen.map(({ member }) => member);
}

/**
 * Who checks whom in a whole cluster of distinct node names, from one sort of the ring:
 * node i checks the `limit` nodes after it in ring order. Gives the same edges as calling
 * selectNeighbours once per node (each node excluding itself) in O(n log n + n·K) instead
 * of O(n² log n); used to reason about (and test) the mesh at thousands of nodes.
 */
export function clusterEdges(nodeNames: readonly string[], limit: number): Map<string, string[]> {
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`neighbour limit must be a whole number ≥ 0, got ${limit}`);
  const ring = [...new Set(nodeNames)]
    .map((nodeName) => ({ nodeName, hash: nodeHash(nodeName) }))
    .sort((a, b) => compareBigInt(a.hash, b.hash) || (a.nodeName < b.nodeName ? -1 : 1));
  const others = ring.length - 1;
  const k = limit === 0 ? others : Math.min(limit, others);
  const edges = new Map<string, string[]>();
  for (const [index, { nodeName }] of ring.entries()) {
    const targets: string[] = [];
    for (let step = 1; step <= k; step++)
      targets.push((ring[(index + step) % ring.length] as RingMember).nodeName);
    edges.set(nodeName, targets);
  }
  return edges;
}

/**
 * The nodes whose state `myNode`'s selection depends on: its own, and every candidate from
 * it clockwise up to the last one chosen — the chosen ones and the ones skipped on the way
 * (cordoned, being removed: if one of them comes back, it displaces the last chosen one).
 * Nothing beyond the last chosen node can change the selection unless one of these changes
 * first, so these are the only nodes a prober needs to watch. With fewer chosen than
 * `limit` (or `limit` 0), every candidate matters.
 */
export function watchWindow(
  myNode: string,
  candidates: readonly RingMember[],
  chosen: readonly RingMember[],
  limit: number,
): Set<string> {
  const window = new Set([myNode]);
  const last = limit === 0 || chosen.length < limit ? undefined : chosen[limit - 1];
  const mine = nodeHash(myNode);
  const lastDistance = last === undefined ? undefined : ringDistance(mine, last.hash);
  for (const candidate of candidates) {
    if (last !== undefined && lastDistance !== undefined) {
      const distance = ringDistance(mine, candidate.hash);
      if (distance > lastDistance) continue;
      if (distance === lastDistance && candidate.nodeName > last.nodeName) continue;
    }
    window.add(candidate.nodeName);
  }
  return window;
}
