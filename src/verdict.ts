// Which layer is at fault between this prober and one neighbour, from one round's probes.
// Pure: the round's outcomes go in, a verdict comes out; every rule is a row in its table test.
//
// Two probes per address family tell the layers apart: the pod path (our pod → the neighbour's
// pod, over the CNI) and the node path (our pod → the neighbour's node address, over the host
// network / underlay, kube-proxy's health port by default). What a probe proves:
//   - an HTTP answer of any status proves the network carried the request both ways (a 503
//     from kube-proxy's /healthz while its node is being deleted is not "node down");
//   - no HTTP answer (refused, unreachable, timeout, reset) means the layer did not carry it;
//   - a probe that did not run this round proves nothing: a failing pod path without a node
//     path to compare with is "unknown", never a guess.
import type { CheckOutcome } from './checks/types.ts';

export type IpFamily = 'ipv4' | 'ipv6';

/** What one probe of one round says about the layer it crossed. */
export type Reach =
  /** 200: the layer and the endpoint are fine. */
  | 'up'
  /** An HTTP answer with another status (or a body we refused): the layer works, the endpoint complained. */
  | 'answered'
  /** No HTTP answer at all. */
  | 'down'
  /** Not probed this round (setting off, no address of that family, skipped). */
  | 'unprobed';

/**
 * The layer a prober blames for one neighbour.
 *   none           every probed path answered
 *   pod_network    pod path down, node path of the same family answers: CNI / overlay
 *   node_network   pod and node path down: the node itself or the underlay between us
 *   ipv4 / ipv6    the pod path of that family is down while another family's answers
 *   node_endpoint  pod path fine, node path down: the node's health endpoint or a host firewall
 *   neighbour_pod  the neighbour's prober answered with an error status: the network is fine
 *   unknown        pod path down, nothing to compare with (node path off or not probed)
 */
export const LAYERS = [
  'none',
  'pod_network',
  'node_network',
  'ipv4',
  'ipv6',
  'node_endpoint',
  'neighbour_pod',
  'unknown',
] as const;
export type Layer = (typeof LAYERS)[number];

export interface FamilyProbes {
  readonly family: IpFamily;
  readonly pod: Reach;
  readonly node: Reach;
}

export interface Verdict {
  readonly layer: Layer;
  /** One line for people: which probes said what. */
  readonly detail: string;
}

/** Reach of a probe from its outcome; `undefined` when it was not part of the round. */
export function reachOf(outcome: CheckOutcome | undefined): Reach {
  if (outcome === undefined || outcome.status === 'skipped') return 'unprobed';
  if (outcome.status === 'ok') return 'up';
  // The first response byte arrived: whatever failed afterwards (status, body size), the
  // network delivered the request and the answer.
  if (outcome.event.startsWith('status_code_') || outcome.phases?.got_first_resp_byte !== undefined)
    return 'answered';
  return 'down';
}

const carried = (reach: Reach): boolean => reach === 'up' || reach === 'answered';

type FamilyLayer = Exclude<Layer, 'ipv4' | 'ipv6'>;

/** The verdict of one family alone; undefined when its pod path was not probed. */
function familyLayer({ pod, node }: FamilyProbes): FamilyLayer | undefined {
  switch (pod) {
    case 'unprobed':
      return undefined;
    case 'up':
      return node === 'down' ? 'node_endpoint' : 'none';
    case 'answered':
      return 'neighbour_pod';
    case 'down':
      if (carried(node)) return 'pod_network';
      return node === 'down' ? 'node_network' : 'unknown';
  }
}

/** When families disagree and none is confined, the most telling layer wins. */
const SEVERITY: readonly FamilyLayer[] = [
  'node_network',
  'pod_network',
  'unknown',
  'neighbour_pod',
  'node_endpoint',
  'none',
];

function describe(probes: readonly FamilyProbes[]): string {
  return probes
    .map(({ family, pod, node }) => `${family}: pod path ${pod}, node path ${node}`)
    .join('; ');
}

export function verdict(probes: readonly FamilyProbes[]): Verdict {
  const evaluated = probes.flatMap((probe) => {
    const layer = familyLayer(probe);
    return layer === undefined ? [] : [{ probe, layer }];
  });
  if (evaluated.length === 0) return { layer: 'unknown', detail: 'no pod path probed' };
  const detail = describe(probes);

  // A fault confined to one family: its pod path is down while another family's pod path
  // carries traffic. Whatever the node paths say, "only IPv6 is broken" is the finding.
  const down = evaluated.filter(({ probe }) => probe.pod === 'down');
  const [confined] = down;
  if (down.length === 1 && evaluated.length > 1 && confined !== undefined)
    return { layer: confined.probe.family, detail };

  for (const layer of SEVERITY)
    if (evaluated.some((entry) => entry.layer === layer)) return { layer, detail };
  return { layer: 'unknown', detail };
}

/** The family of an IP address literal (callers pass validated addresses). */
export function familyOf(address: string): IpFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}
