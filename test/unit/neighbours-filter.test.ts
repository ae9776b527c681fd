import { describe, expect, it } from 'vitest';
import {
  eligibleNeighbours,
  exclusion,
  nodeBlock,
  type NeighbourFilterOptions,
  type NodeLookup,
} from '../../src/neighbours/filter.ts';
import {
  summariseNode,
  summarisePod,
  type NodeSummary,
  type PodSummary,
} from '../../src/neighbours/objects.ts';

interface PodSpec {
  name?: string;
  /** null: the field is absent. */
  node?: string | null;
  phase?: string;
  ip?: string | null;
  hostIp?: string;
  ready?: boolean;
  deleting?: boolean;
}

function pod({
  name = 'kubenurse-a',
  node = 'worker-a',
  phase = 'Running',
  ip = '10.0.0.1',
  hostIp = '192.168.0.1',
  ready = true,
  deleting = false,
}: PodSpec = {}): PodSummary {
  const summary = summarisePod({
    metadata: {
      name,
      namespace: 'kube-system',
      resourceVersion: '7',
      ...(deleting ? { deletionTimestamp: '2026-11-01T10:00:00Z' } : {}),
    },
    spec: node === null ? {} : { nodeName: node },
    status: {
      phase,
      ...(ip === null ? {} : { podIP: ip }),
      hostIP: hostIp,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  });
  if (!summary) throw new Error('test pod must be valid');
  return summary;
}

interface NodeSpec {
  unschedulable?: boolean;
  taints?: { key: string; effect: string }[];
  deleting?: boolean;
}

function node(
  name: string,
  { unschedulable = false, taints = [], deleting = false }: NodeSpec = {},
): NodeSummary {
  const summary = summariseNode({
    metadata: {
      name,
      resourceVersion: '3',
      ...(deleting ? { deletionTimestamp: '2026-11-01T10:00:00Z' } : {}),
    },
    spec: { unschedulable, taints },
    status: { images: [{ names: ['huge'], sizeBytes: 1 }] },
  });
  if (!summary) throw new Error('test node must be valid');
  return summary;
}

function lookup(nodes: NodeSummary[], synced = true): NodeLookup {
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  return { knows: () => synced, get: (name) => byName.get(name) };
}

const options: NeighbourFilterOptions = {
  podName: 'kubenurse-me',
  allowUnschedulable: false,
  readyOnly: false,
};
const healthyNodes = lookup([node('worker-a'), node('worker-b'), node('worker-c')]);

describe('exclusion: pod rules', () => {
  it('keeps a Running pod with an IP on a schedulable node', () => {
    expect(exclusion(pod(), healthyNodes, options)).toBeUndefined();
  });

  it('excludes myself by pod name', () => {
    expect(exclusion(pod({ name: 'kubenurse-me' }), healthyNodes, options)).toBe('myself');
  });

  it('excludes pods that are not Running', () => {
    for (const phase of ['Pending', 'Succeeded', 'Failed', 'Unknown'])
      expect(exclusion(pod({ phase }), healthyNodes, options)).toBe('not-running');
  });

  it('excludes pods being deleted', () => {
    expect(exclusion(pod({ deleting: true }), healthyNodes, options)).toBe('terminating');
  });

  it('excludes pods without a pod IP yet, or with one that is not an IP', () => {
    expect(exclusion(pod({ ip: null }), healthyNodes, options)).toBe('no-pod-ip');
    expect(exclusion(pod({ ip: 'not-an-ip' }), healthyNodes, options)).toBe('no-pod-ip');
  });

  it('excludes pods without a (valid) node name', () => {
    expect(exclusion(pod({ node: null }), healthyNodes, options)).toBe('no-node-name');
    expect(exclusion(pod({ node: 'Bad Node/Name' }), healthyNodes, options)).toBe('no-node-name');
  });

  it('keeps not-Ready pods unless readyOnly is set', () => {
    expect(exclusion(pod({ ready: false }), healthyNodes, options)).toBeUndefined();
    expect(exclusion(pod({ ready: false }), healthyNodes, { ...options, readyOnly: true })).toBe(
      'not-ready',
    );
    expect(
      exclusion(pod({ ready: true }), healthyNodes, { ...options, readyOnly: true }),
    ).toBeUndefined();
  });
});

describe('exclusion and nodeBlock: node rules', () => {
  const cordoned = lookup([node('worker-a', { unschedulable: true })]);
  const taintedUnschedulable = lookup([
    node('worker-a', {
      taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    }),
  ]);
  const autoscaled = lookup([
    node('worker-a', { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] }),
  ]);
  const deleting = lookup([node('worker-a', { deleting: true })]);
  const allowed = { ...options, allowUnschedulable: true };

  it('excludes pods on a cordoned node unless allowUnschedulable', () => {
    expect(exclusion(pod(), cordoned, options)).toBe('node-unschedulable');
    expect(exclusion(pod(), cordoned, allowed)).toBeUndefined();
  });

  it('excludes pods on a node tainted node.kubernetes.io/unschedulable unless allowUnschedulable', () => {
    expect(exclusion(pod(), taintedUnschedulable, options)).toBe('node-tainted-unschedulable');
    expect(exclusion(pod(), taintedUnschedulable, allowed)).toBeUndefined();
  });

  it('always excludes pods on a node the cluster autoscaler is removing', () => {
    expect(exclusion(pod(), autoscaled, options)).toBe('node-to-be-deleted');
    expect(exclusion(pod(), autoscaled, allowed)).toBe('node-to-be-deleted');
  });

  it('always excludes pods on a node being deleted', () => {
    expect(exclusion(pod(), deleting, options)).toBe('node-being-deleted');
    expect(exclusion(pod(), deleting, allowed)).toBe('node-being-deleted');
  });

  it('ignores unrelated taints', () => {
    const other = lookup([
      node('worker-a', { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] }),
    ]);
    expect(exclusion(pod(), other, options)).toBeUndefined();
  });

  it('excludes pods whose node is gone once the node cache is synced, keeps them while it is not', () => {
    expect(exclusion(pod(), lookup([], true), options)).toBe('node-gone');
    expect(exclusion(pod(), lookup([], false), options)).toBeUndefined();
    expect(nodeBlock('worker-a', lookup([], false), false)).toBeUndefined();
  });
});

describe('eligibleNeighbours', () => {
  it('filters, keeps one prober per node, and orders by node name', () => {
    const pods = [
      pod({ name: 'kubenurse-c', node: 'worker-c', ip: '10.0.0.3' }),
      pod({ name: 'kubenurse-me', node: 'worker-a', ip: '10.0.0.9' }),
      pod({ name: 'kubenurse-b2', node: 'worker-b', ip: '10.0.0.22', ready: false }),
      pod({ name: 'kubenurse-b1', node: 'worker-b', ip: '10.0.0.21' }),
      pod({ name: 'kubenurse-b0', node: 'worker-b', ip: '10.0.0.20', deleting: true }),
      pod({ name: 'kubenurse-x', node: 'worker-c', ip: '10.0.0.30', ready: false }),
      pod({ name: 'kubenurse-pending', node: 'worker-a', phase: 'Pending' }),
    ];
    expect(eligibleNeighbours(pods, healthyNodes, options)).toEqual([
      { podName: 'kubenurse-b1', podIp: '10.0.0.21', hostIp: '192.168.0.1', nodeName: 'worker-b' },
      { podName: 'kubenurse-c', podIp: '10.0.0.3', hostIp: '192.168.0.1', nodeName: 'worker-c' },
    ]);
  });

  it('picks the same prober on a shared node whatever the order', () => {
    const a = pod({ name: 'kubenurse-1', node: 'worker-b' });
    const b = pod({ name: 'kubenurse-2', node: 'worker-b' });
    expect(eligibleNeighbours([a, b], healthyNodes, options)).toEqual(
      eligibleNeighbours([b, a], healthyNodes, options),
    );
  });
});

describe('summaries of untrusted API objects', () => {
  it('drops objects without a valid name', () => {
    expect(summarisePod({ metadata: {} })).toBeUndefined();
    expect(summarisePod(null)).toBeUndefined();
    expect(summarisePod({ metadata: { name: 'x'.repeat(300) } })).toBeUndefined();
    expect(summariseNode({ metadata: { name: 'UPPER' } })).toBeUndefined();
  });

  it('keeps only the fields the filters read', () => {
    const summary = summariseNode({
      metadata: { name: 'worker-a', resourceVersion: '5', labels: { a: 'b' } },
      spec: {
        unschedulable: 'yes',
        taints: [
          { key: 'dedicated', effect: 'NoSchedule' },
          { key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule', value: '123' },
        ],
      },
      status: { images: new Array(100).fill({ names: ['image'], sizeBytes: 1 }) },
    });
    expect(summary).toEqual({
      metadata: { name: 'worker-a', resourceVersion: '5' },
      spec: {
        unschedulable: false,
        taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }],
      },
    });
  });

  it('takes the deletion timestamp as the JSON string lists and watches carry, nothing else', () => {
    expect(
      summarisePod({ metadata: { name: 'p', deletionTimestamp: 1_793_527_200 } })?.metadata
        .terminatingSince,
    ).toBeUndefined();
    expect(
      summarisePod({ metadata: { name: 'p', deletionTimestamp: '2026-11-01T10:00:00Z' } })?.metadata
        .terminatingSince,
    ).toBe('2026-11-01T10:00:00Z');
  });

  it('accepts IPv6 pod IPs', () => {
    expect(
      summarisePod({ metadata: { name: 'p' }, status: { podIP: 'fd00::1' } })?.status.podIP,
    ).toBe('fd00::1');
  });
});
