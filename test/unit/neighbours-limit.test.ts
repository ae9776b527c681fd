import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  clusterEdges,
  nodeHash,
  ringDistance,
  selectNeighbours,
} from '../../src/neighbours/limit.ts';

/** Small deterministic PRNG so a failing property can be replayed. */
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

function randomNames(random: () => number, count: number, prefix = 'node'): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${prefix}-${Math.floor(random() * 1e9).toString(36)}`);
  return [...names];
}

/**
 * The rule written the slow, obvious way, independently of limit.ts: hash from the hex
 * digest, distance with % arithmetic, pick the minimum K times.
 */
function naiveSelect(me: string, others: readonly string[], limit: number): string[] {
  const hash = (name: string) =>
    BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 16)}`);
  const ring = 2n ** 64n;
  const mine = hash(me);
  const remaining = others.map((name) => ({
    name,
    distance: (((hash(name) - mine) % ring) + ring) % ring,
  }));
  const picked: string[] = [];
  const want = limit === 0 ? remaining.length : Math.min(limit, remaining.length);
  while (picked.length < want) {
    let best = 0;
    for (let i = 1; i < remaining.length; i++)
      if ((remaining[i]?.distance ?? 0n) < (remaining[best]?.distance ?? 0n)) best = i;
    picked.push((remaining[best] as { name: string }).name);
    remaining.splice(best, 1);
  }
  return picked;
}

const members = (names: readonly string[]) =>
  names.map((nodeName) => ({ nodeName, hash: nodeHash(nodeName) }));
const names = (chosen: readonly { nodeName: string }[]) => chosen.map((member) => member.nodeName);

function edgeSet(edges: Map<string, string[]>): Set<string> {
  const set = new Set<string>();
  for (const [from, targets] of edges) for (const to of targets) set.add(`${from}→${to}`);
  return set;
}

function symmetricDifference(a: Set<string>, b: Set<string>): number {
  let count = 0;
  for (const edge of a) if (!b.has(edge)) count++;
  for (const edge of b) if (!a.has(edge)) count++;
  return count;
}

describe('nodeHash', () => {
  it('is the first 8 bytes of sha256 as a big-endian unsigned 64-bit integer (kubenurse sha256Uint64)', () => {
    // Values from `printf worker-1 | sha256sum` and the digest of the empty string.
    expect(nodeHash('worker-1')).toBe(1369832739839236925n);
    expect(nodeHash('')).toBe(0xe3b0c44298fc1c14n);
  });

  it('stays within [0, 2^64)', () => {
    for (const name of randomNames(prng(7), 200)) {
      const hash = nodeHash(name);
      expect(hash >= 0n && hash < 2n ** 64n).toBe(true);
    }
  });
});

describe('ringDistance', () => {
  it('wraps around the 2^64 ring like Go uint64 subtraction', () => {
    expect(ringDistance(10n, 15n)).toBe(5n);
    expect(ringDistance(15n, 10n)).toBe(2n ** 64n - 5n);
    expect(ringDistance(2n ** 64n - 1n, 0n)).toBe(1n);
    expect(ringDistance(42n, 42n)).toBe(0n);
  });
});

describe('selectNeighbours', () => {
  it('matches the naive reference rule on random inputs', () => {
    const random = prng(20261101);
    for (let trial = 0; trial < 400; trial++) {
      const count = Math.floor(random() * 60);
      const pool = randomNames(random, count + 1);
      const me = pool[0] as string;
      const others = pool.slice(1);
      const limit = Math.floor(random() * 14);
      expect(names(selectNeighbours(me, members(others), limit))).toEqual(
        naiveSelect(me, others, limit),
      );
    }
  });

  it('takes everyone when the limit is 0 or larger than the neighbourhood', () => {
    const others = randomNames(prng(3), 12);
    expect(new Set(names(selectNeighbours('me', members(others), 0)))).toEqual(new Set(others));
    expect(new Set(names(selectNeighbours('me', members(others), 50)))).toEqual(new Set(others));
    expect(selectNeighbours('me', [], 10)).toEqual([]);
  });

  it('does not depend on the order the cache hands the pods over in', () => {
    const others = randomNames(prng(11), 80);
    const shuffled = [...others].sort(() => 0.5 - Math.random());
    expect(names(selectNeighbours('me', members(others), 10))).toEqual(
      names(selectNeighbours('me', members(shuffled), 10)),
    );
  });

  it('rejects a negative or fractional limit', () => {
    expect(() => selectNeighbours('me', [], -1)).toThrow(RangeError);
    expect(() => selectNeighbours('me', [], 1.5)).toThrow(RangeError);
  });
});

describe('clusterEdges', () => {
  it('gives exactly the edges selectNeighbours picks node by node', () => {
    const all = randomNames(prng(5), 300);
    const memberList = members(all);
    for (const limit of [0, 1, 7, 10]) {
      const edges = clusterEdges(all, limit);
      for (const me of all) {
        const others = memberList.filter((member) => member.nodeName !== me);
        expect(edges.get(me)).toEqual(names(selectNeighbours(me, others, limit)));
      }
    }
  });

  it('agrees with selectNeighbours on sampled nodes of a 5,000-node cluster', () => {
    const random = prng(99);
    const all = randomNames(random, 5000);
    const memberList = members(all);
    const edges = clusterEdges(all, 10);
    for (let sample = 0; sample < 15; sample++) {
      const me = all[Math.floor(random() * all.length)] as string;
      expect(edges.get(me)).toEqual(
        names(
          selectNeighbours(
            me,
            memberList.filter((member) => member.nodeName !== me),
            10,
          ),
        ),
      );
    }
  });

  for (const size of [1000, 5000]) {
    for (const limit of [1, 3, 10]) {
      it(`at ${size} nodes with K=${limit}: every node checks exactly K others and is checked by exactly K`, () => {
        const all = randomNames(prng(size + limit), size);
        const edges = clusterEdges(all, limit);
        const inDegree = new Map<string, number>();
        for (const [from, targets] of edges) {
          expect(targets).toHaveLength(limit);
          expect(new Set(targets).size).toBe(limit);
          expect(targets).not.toContain(from);
          for (const to of targets) inDegree.set(to, (inDegree.get(to) ?? 0) + 1);
        }
        expect(edges.size).toBe(size);
        expect(inDegree.size).toBe(size);
        for (const count of inDegree.values()) expect(count).toBe(limit);
      });
    }

    it(`at ${size} nodes: one node joining or leaving changes at most 2K edges of the other nodes`, () => {
      // The joiner's own K checks are new by definition (and a leaver's vanish); among
      // everyone else only its K predecessors re-point one check each: K dropped + K added.
      const random = prng(size * 3);
      const all = randomNames(random, size);
      const limit = 10;
      const before = clusterEdges(all, limit);
      const withoutNode = (edges: Map<string, string[]>, node: string) =>
        edgeSet(new Map([...edges].filter(([from]) => from !== node)));
      const changedNodes = (a: Map<string, string[]>, b: Map<string, string[]>, skip: string) =>
        [...a.keys()].filter(
          (node) =>
            node !== skip &&
            b.has(node) &&
            JSON.stringify(a.get(node)) !== JSON.stringify(b.get(node)),
        ).length;
      for (let trial = 0; trial < (size > 1000 ? 2 : 4); trial++) {
        const joiner = `joiner-${trial}-${Math.floor(random() * 1e9)}`;
        const joined = clusterEdges([...all, joiner], limit);
        expect(
          symmetricDifference(withoutNode(before, joiner), withoutNode(joined, joiner)),
        ).toBeLessThanOrEqual(2 * limit);
        expect(symmetricDifference(edgeSet(before), edgeSet(joined))).toBeLessThanOrEqual(
          3 * limit,
        );
        expect(changedNodes(before, joined, joiner)).toBeLessThanOrEqual(limit);

        const leaver = all[Math.floor(random() * all.length)] as string;
        const left = clusterEdges(
          all.filter((name) => name !== leaver),
          limit,
        );
        expect(
          symmetricDifference(withoutNode(before, leaver), withoutNode(left, leaver)),
        ).toBeLessThanOrEqual(2 * limit);
        expect(symmetricDifference(edgeSet(before), edgeSet(left))).toBeLessThanOrEqual(3 * limit);
        expect(changedNodes(before, left, leaver)).toBeLessThanOrEqual(limit);
      }
    });
  }

  it('with fewer nodes than K + 1, everyone checks everyone else', () => {
    const all = randomNames(prng(1), 5);
    for (const [from, targets] of clusterEdges(all, 10))
      expect(new Set(targets)).toEqual(new Set(all.filter((name) => name !== from)));
  });
});
