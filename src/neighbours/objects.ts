// Pods and nodes from the apiserver are untrusted and, at thousands of nodes, large (a
// node's status lists every image on it). The informer caches keep only these summaries:
// the few validated fields the filters need, in the same shape as the API objects
// (metadata.name/namespace/resourceVersion), which is what client-node's cache indexes by.
import { isIP } from 'node:net';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  /** metadata.deletionTimestamp: set while the object is being deleted (grace period, finalizers). */
  readonly terminatingSince?: string;
}

export interface PodSummary {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly nodeName?: string };
  readonly status: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly hostIP?: string;
    /** Dual-stack: the status.podIPs / status.hostIPs entry of the other address family. */
    readonly secondaryPodIP?: string;
    readonly secondaryHostIP?: string;
    /** The pod's Ready condition is True. */
    readonly ready: boolean;
  };
}

export interface Taint {
  readonly key: string;
  readonly effect?: string;
}

export interface NodeSummary {
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly unschedulable: boolean;
    /** Only the taints the filters look at; a node can carry many others. */
    readonly taints: readonly Taint[];
  };
}

export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';
const RELEVANT_TAINTS = new Set([UNSCHEDULABLE_TAINT, TO_BE_DELETED_TAINT]);

/** RFC 1123 subdomain, as Kubernetes requires for pod and node names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MAX_SHORT_TEXT = 128;

function isValidObjectName(name: unknown): name is string {
  return typeof name === 'string' && DNS_SUBDOMAIN.test(name);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function shortText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_SHORT_TEXT
    ? value
    : undefined;
}

function ipAddress(value: unknown): string | undefined {
  return typeof value === 'string' && isIP(value) !== 0 ? value : undefined;
}

/**
 * The address of the other family in a status.podIPs/hostIPs list ([{ip}], primary first, at
 * most one per family). Only the first few entries are looked at: a list is bounded by the API,
 * but the object is untrusted.
 */
function secondaryAddress(list: unknown, primary: string | undefined): string | undefined {
  if (primary === undefined || !Array.isArray(list)) return undefined;
  const primaryFamily = isIP(primary);
  for (const entry of list.slice(0, 4)) {
    const address = ipAddress(record(entry).ip);
    if (address !== undefined && isIP(address) !== primaryFamily) return address;
  }
  return undefined;
}

function summariseMeta(raw: Record<string, unknown>): ObjectMeta | undefined {
  const name = raw.name;
  // Anything without a valid name cannot be cached, deleted or become a metric label.
  if (!isValidObjectName(name)) return undefined;
  const meta: { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] } = { name };
  const namespace = shortText(raw.namespace);
  if (namespace !== undefined) meta.namespace = namespace;
  const resourceVersion = shortText(raw.resourceVersion);
  if (resourceVersion !== undefined) meta.resourceVersion = resourceVersion;
  // Lists and watches are plain JSON: the timestamp is its RFC 3339 string.
  const deletion = shortText(raw.deletionTimestamp);
  if (deletion !== undefined) meta.terminatingSince = deletion;
  return meta;
}

/** A pod object from a list or watch → its summary, or undefined when it has no valid name. */
export function summarisePod(raw: unknown): PodSummary | undefined {
  const object = record(raw);
  const metadata = summariseMeta(record(object.metadata));
  if (!metadata) return undefined;
  const spec = record(object.spec);
  const status = record(object.status);
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const ready = conditions.some((condition) => {
    const c = record(condition);
    return c.type === 'Ready' && c.status === 'True';
  });
  const nodeName = isValidObjectName(spec.nodeName) ? spec.nodeName : undefined;
  const phase = shortText(status.phase);
  const podIP = ipAddress(status.podIP);
  const hostIP = ipAddress(status.hostIP);
  const secondaryPodIP = secondaryAddress(status.podIPs, podIP);
  const secondaryHostIP = secondaryAddress(status.hostIPs, hostIP);
  return {
    metadata,
    spec: nodeName === undefined ? {} : { nodeName },
    status: {
      ...(phase === undefined ? {} : { phase }),
      ...(podIP === undefined ? {} : { podIP }),
      ...(hostIP === undefined ? {} : { hostIP }),
      ...(secondaryPodIP === undefined ? {} : { secondaryPodIP }),
      ...(secondaryHostIP === undefined ? {} : { secondaryHostIP }),
      ready,
    },
  };
}

/** A node object from a list or watch → its summary, or undefined when it has no valid name. */
export function summariseNode(raw: unknown): NodeSummary | undefined {
  const object = record(raw);
  const metadata = summariseMeta(record(object.metadata));
  if (!metadata) return undefined;
  const spec = record(object.spec);
  const taints: Taint[] = [];
  for (const entry of Array.isArray(spec.taints) ? spec.taints : []) {
    const taint = record(entry);
    if (typeof taint.key !== 'string' || !RELEVANT_TAINTS.has(taint.key)) continue;
    const effect = shortText(taint.effect);
    taints.push(effect === undefined ? { key: taint.key } : { key: taint.key, effect });
  }
  return { metadata, spec: { unschedulable: spec.unschedulable === true, taints } };
}
