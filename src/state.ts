// The prober's own state beyond a round's outcomes, as typed values. Everything inside the
// process (status page, one-shot command, /ready) reads these; kubenurse's JSON names and
// texts are made from them only where HTTP leaves the process (src/alive.ts).
import type { KubeProxyAlive } from './kubeproxy/collector.ts';

/** Where neighbour discovery stands. `reason` is the operator-facing explanation. */
export type NeighbourhoodState =
  /** KUBENURSE_CHECK_NEIGHBOURHOOD=false. */
  | { readonly kind: 'skipped' }
  | { readonly kind: 'ok' }
  /** No list from the apiserver yet (no neighbours known, none checked). */
  | { readonly kind: 'starting'; readonly reason: string }
  /** Discovery cannot run or has never listed successfully (no neighbours known). */
  | { readonly kind: 'failed'; readonly reason: string }
  /** Listed once, failing since: the last known neighbours are still checked. */
  | { readonly kind: 'stale'; readonly reason: string }
  /** Neighbours known, but our own pod not seen yet: the ring has no origin, nobody is checked. */
  | { readonly kind: 'own-node-unknown'; readonly reason: string };

/** An eligible prober pod on another node. */
export interface Neighbour {
  readonly podName: string;
  readonly podIp: string;
  readonly hostIp: string;
  readonly nodeName: string;
  /** kubenurse's ring position: the first 8 bytes of sha256(nodeName), big-endian. */
  readonly nodeHash: bigint;
}

export interface NeighbourhoodView {
  readonly state: NeighbourhoodState;
  /** Every eligible neighbour (not only the checked ones), ordered by node name. */
  readonly neighbours: readonly Neighbour[];
}

export const NEIGHBOURHOOD_SKIPPED: NeighbourhoodView = Object.freeze({
  state: Object.freeze({ kind: 'skipped' as const }),
  neighbours: Object.freeze([]),
});

/** What the prober knows besides its last round; read fresh on every call. */
export interface ProberState {
  neighbourhood(): NeighbourhoodView;
  /** undefined when the kube-proxy monitor is off. */
  kubeProxy(): KubeProxyAlive | undefined;
}

/** True while the neighbour list is usable: neighbours are known (and, except own-node-unknown, checked). */
export function hasNeighbourList(state: NeighbourhoodState): boolean {
  return state.kind === 'ok' || state.kind === 'stale' || state.kind === 'own-node-unknown';
}

/** A broken discovery is a failure for the one-shot command; skipped and ok are not. */
export function neighbourhoodHealthy(state: NeighbourhoodState): boolean {
  return state.kind === 'ok' || state.kind === 'skipped';
}

/** kubenurse's neighbourhood_state text: "ok", "skipped", or the reason. */
export function neighbourhoodStateText(state: NeighbourhoodState): string {
  return state.kind === 'ok' || state.kind === 'skipped' ? state.kind : state.reason;
}
