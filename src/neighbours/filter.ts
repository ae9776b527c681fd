// Which discovered prober pods are neighbours worth checking. kubenurse's rules (Running,
// not terminating, not myself, not on a cordoned node unless allowed) plus what its and
// goldpinger's users asked for: no pod without an IP yet, no node the autoscaler is about
// to remove or that is being deleted, and optionally Ready pods only.
import {
  TO_BE_DELETED_TAINT,
  UNSCHEDULABLE_TAINT,
  type NodeSummary,
  type PodSummary,
} from './objects.ts';

export interface NeighbourFilterOptions {
  /** This prober's own pod, never its own neighbour. */
  readonly podName: string;
  /** KUBENURSE_ALLOW_UNSCHEDULABLE: also keep pods on cordoned nodes. */
  readonly allowUnschedulable: boolean;
  /** KUBENURSE_NEIGHBOUR_READY_ONLY: keep only pods whose Ready condition is True. */
  readonly readyOnly: boolean;
}

export type NodeBlock =
  | 'node-unschedulable'
  | 'node-tainted-unschedulable'
  | 'node-to-be-deleted'
  | 'node-being-deleted'
  | 'node-gone';

export type Exclusion =
  'myself' | 'not-running' | 'terminating' | 'no-pod-ip' | 'no-node-name' | 'not-ready' | NodeBlock;

/**
 * What the node caches know about a node. `knows` distinguishes "this node does not exist"
 * from "we cannot tell" (its watch has not listed yet, it is not watched, or nodes are not
 * readable): like kubenurse with KUBENURSE_ALLOW_UNSCHEDULABLE, a pod whose node we cannot
 * see is kept.
 */
export interface NodeLookup {
  knows(name: string): boolean;
  get(name: string): NodeSummary | undefined;
}

/**
 * Why no prober on this node should be checked (and why our own /ready goes 503 on it).
 * Autoscaler removal and node deletion count even with allowUnschedulable: the node is
 * going away, probing it only produces noise.
 */
export function nodeBlock(
  name: string,
  nodes: NodeLookup,
  allowUnschedulable: boolean,
): NodeBlock | undefined {
  const node = nodes.get(name);
  if (!node) return nodes.knows(name) ? 'node-gone' : undefined;
  if (node.metadata.terminatingSince !== undefined) return 'node-being-deleted';
  if (node.spec.taints.some((taint) => taint.key === TO_BE_DELETED_TAINT))
    return 'node-to-be-deleted';
  if (allowUnschedulable) return undefined;
  if (node.spec.unschedulable) return 'node-unschedulable';
  if (node.spec.taints.some((taint) => taint.key === UNSCHEDULABLE_TAINT))
    return 'node-tainted-unschedulable';
  return undefined;
}

/** Why `pod` itself (whatever its node) is not a neighbour, or undefined. */
function podExclusion(
  pod: PodSummary,
  options: Omit<NeighbourFilterOptions, 'allowUnschedulable'>,
): Exclusion | undefined {
  if (pod.metadata.name === options.podName) return 'myself';
  if (pod.status.phase !== 'Running') return 'not-running';
  if (pod.metadata.terminatingSince !== undefined) return 'terminating';
  if (pod.status.podIP === undefined) return 'no-pod-ip';
  if (pod.spec.nodeName === undefined) return 'no-node-name';
  if (options.readyOnly && !pod.status.ready) return 'not-ready';
  return undefined;
}

/** Why `pod` is not a neighbour, or undefined when it is one. Cheapest checks first. */
export function exclusion(
  pod: PodSummary,
  nodes: NodeLookup,
  options: NeighbourFilterOptions,
): Exclusion | undefined {
  return (
    podExclusion(pod, options) ??
    nodeBlock(pod.spec.nodeName as string, nodes, options.allowUnschedulable)
  );
}

/**
 * The nodes carrying at least one prober that passes the pod filters: the ring's candidates,
 * before anything is known about the nodes themselves.
 */
export function candidateNodes(
  pods: Iterable<PodSummary>,
  options: Omit<NeighbourFilterOptions, 'allowUnschedulable'>,
): Set<string> {
  const nodes = new Set<string>();
  for (const pod of pods)
    if (podExclusion(pod, options) === undefined) nodes.add(pod.spec.nodeName as string);
  return nodes;
}

/** A prober pod to check, as shown in /alive's neighbourhood list. */
export interface NeighbourPod {
  readonly podName: string;
  readonly podIp: string;
  readonly hostIp: string;
  readonly nodeName: string;
  /** Dual-stack only: the pod's / node's address of the other family (not in /alive). */
  readonly secondaryPodIp?: string;
  readonly secondaryHostIp?: string;
}

/**
 * The neighbours among `pods`, one per node, ordered by node name. Two eligible probers on
 * one node (a DaemonSet surge during a rollout) would share the path_<node> type, so one
 * is picked: a Ready one first, then the first by name, so every prober picks the same.
 */
export function eligibleNeighbours(
  pods: Iterable<PodSummary>,
  nodes: NodeLookup,
  options: NeighbourFilterOptions,
): NeighbourPod[] {
  const byNode = new Map<string, PodSummary>();
  for (const pod of pods) {
    if (exclusion(pod, nodes, options) !== undefined) continue;
    const nodeName = pod.spec.nodeName as string;
    const current = byNode.get(nodeName);
    if (!current || isPreferredOver(pod, current)) byNode.set(nodeName, pod);
  }
  return [...byNode.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([nodeName, pod]) => ({
      podName: pod.metadata.name,
      podIp: pod.status.podIP as string,
      hostIp: pod.status.hostIP ?? '',
      nodeName,
      ...(pod.status.secondaryPodIP === undefined
        ? {}
        : { secondaryPodIp: pod.status.secondaryPodIP }),
      ...(pod.status.secondaryHostIP === undefined
        ? {}
        : { secondaryHostIp: pod.status.secondaryHostIP }),
    }));
}

function isPreferredOver(candidate: PodSummary, current: PodSummary): boolean {
  if (candidate.status.ready !== current.status.ready) return candidate.status.ready;
  return candidate.metadata.name < current.metadata.name;
}
