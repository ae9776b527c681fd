// This prober's own view, from the newest round and its typed neighbourhood and kube-proxy state.
import { hostname } from 'node:os';
import type { RoundResult } from '../checks/round.ts';
import type { CheckOutcome } from '../checks/types.ts';
import type { KubeProxyAlive } from '../kubeproxy/collector.ts';
import { neighbourhoodStateText, type Neighbour, type NeighbourhoodView } from '../state.ts';
import { clip, type LastErrors } from './last-errors.ts';
import {
  PATH_PREFIX,
  STATUS_KIND,
  STATUS_VERSION,
  type CheckView,
  type NeighbourEntry,
  type SelfStatus,
} from './types.ts';

/** The built-in checks first, in kubenurse's order, then everything else by name. */
const ORDER = ['api_server_direct', 'api_server_dns', 'me_ingress', 'me_service'];

export function compareTypes(a: string, b: string): number {
  const rank = (type: string): number => {
    const index = ORDER.indexOf(type);
    if (index >= 0) return index;
    return type.startsWith(PATH_PREFIX) ? ORDER.length + 2 : ORDER.length + 1;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

function roundMs(value: number): number {
  return Math.round(value * 100) / 100;
}

function phasesOf(
  phases: Readonly<Record<string, number>> | undefined,
): Record<string, number> | null {
  if (phases === undefined) return null;
  const out: Record<string, number> = {};
  for (const [event, ms] of Object.entries(phases)) out[event] = roundMs(ms);
  return out;
}

export function checkView(type: string, outcome: CheckOutcome, lastErrors: LastErrors): CheckView {
  const lastError = lastErrors.get(type);
  switch (outcome.status) {
    case 'ok':
      return {
        type,
        status: 'ok',
        durationMs: roundMs(outcome.durationMs),
        phases: phasesOf(outcome.phases),
        event: null,
        message: null,
        lastError,
      };
    case 'skipped':
      return {
        type,
        status: 'skipped',
        durationMs: null,
        phases: null,
        event: null,
        message: clip(outcome.reason),
        lastError,
      };
    case 'error':
      return {
        type,
        status: 'error',
        durationMs: roundMs(outcome.durationMs),
        phases: phasesOf(outcome.phases),
        event: outcome.event,
        message: clip(outcome.message),
        lastError,
      };
  }
}

/** The round's verdict for a path_<node> check, on its view (docs/layers.md). */
export function withVerdict(view: CheckView, result: RoundResult): CheckView {
  if (!result.verdicts || !view.type.startsWith(PATH_PREFIX)) return view;
  const verdict = result.verdicts.get(view.type.slice(PATH_PREFIX.length));
  return verdict ? { ...view, verdict: { layer: verdict.layer, detail: verdict.detail } } : view;
}

/** The state a status document is made from, read once per document. */
export interface OwnState {
  readonly neighbourhood: NeighbourhoodView;
  readonly kubeProxy: KubeProxyAlive | undefined;
}

export function neighbourEntry(neighbour: Neighbour): NeighbourEntry {
  return {
    podName: neighbour.podName,
    podIP: neighbour.podIp,
    hostIP: neighbour.hostIp,
    nodeName: neighbour.nodeName,
  };
}

export interface SelfStatusInput {
  readonly result: RoundResult | undefined;
  readonly lastErrors: LastErrors;
  readonly state: OwnState;
  readonly node: string | undefined;
  readonly pod: string;
  readonly refreshMs: number;
  readonly now?: Date;
}

export function selfStatus(input: SelfStatusInput): SelfStatus {
  const { result } = input;
  const checks = result
    ? [...result.outcomes]
        .map(([type, outcome]) => withVerdict(checkView(type, outcome, input.lastErrors), result))
        .sort((a, b) => compareTypes(a.type, b.type))
    : [];
  return {
    kind: STATUS_KIND,
    version: STATUS_VERSION,
    node: input.node ?? null,
    pod: input.pod,
    hostname: hostname(),
    generatedAt: (input.now ?? new Date()).toISOString(),
    round: result
      ? { startedAt: result.startedAt.toISOString(), finishedAt: result.finishedAt.toISOString() }
      : null,
    checks,
    neighbourhoodState: neighbourhoodStateText(input.state.neighbourhood.state),
    kubeProxy: input.state.kubeProxy ?? null,
    refreshMs: input.refreshMs,
  };
}
