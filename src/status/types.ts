// The JSON the status page reads (`/status.json`) and that probers read from each other
// (`/status.json?view=self`). One shape for both, so a neighbour's answer is parsed with the
// same validator (parse.ts) that guards against anything a hostile or broken peer sends.
import type { KubeProxyAlive } from '../kubeproxy/collector.ts';

export const STATUS_KIND = 'kubenurse-ts-status';
export const STATUS_VERSION = 1;

export type CellStatus = 'ok' | 'error' | 'skipped';

export interface LastError {
  readonly message: string;
  readonly event: string;
  /** ISO time the failing round finished. */
  readonly at: string;
}

/** Which layer the prober blames for a neighbour (docs/layers.md); only on path_<node> views. */
export interface VerdictView {
  readonly layer: string;
  readonly detail: string;
}

export interface CheckView {
  readonly type: string;
  readonly status: CellStatus;
  readonly durationMs: number | null;
  /** Time from probe start to each request phase (kubenurse's trace events), in ms. */
  readonly phases: Readonly<Record<string, number>> | null;
  readonly event: string | null;
  /** Error text, or the reason a check was skipped. */
  readonly message: string | null;
  /** The newest failure of this check, even when it is ok again now. */
  readonly lastError: LastError | null;
  /** path_<node> only, with node paths or all IP families on. */
  readonly verdict?: VerdictView;
}

export interface NeighbourEntry {
  readonly podName: string;
  readonly podIP: string;
  readonly hostIP: string;
  readonly nodeName: string;
}

/** What one prober knows about itself. */
export interface SelfStatus {
  readonly kind: typeof STATUS_KIND;
  readonly version: typeof STATUS_VERSION;
  readonly node: string | null;
  readonly pod: string;
  readonly hostname: string;
  readonly generatedAt: string;
  readonly round: { readonly startedAt: string; readonly finishedAt: string } | null;
  readonly checks: readonly CheckView[];
  /** kubenurse's neighbourhood_state text ("ok", "skipped" or why not). */
  readonly neighbourhoodState: string;
  readonly kubeProxy: KubeProxyAlive | null;
  /** How often the page should refresh, in ms. */
  readonly refreshMs: number;
}

/** A check as a matrix row carries it (`?view=self&cells=row`, row-view.ts). */
export type RowCheck = Pick<
  CheckView,
  'type' | 'status' | 'durationMs' | 'event' | 'message' | 'verdict'
>;

/** What a prober answers to `?view=self&cells=row`: the cells a neighbour's matrix row shows. */
export interface RowAnswer {
  readonly kind: typeof STATUS_KIND;
  readonly version: typeof STATUS_VERSION;
  readonly node: string | null;
  readonly pod: string;
  readonly generatedAt: string;
  readonly round: SelfStatus['round'];
  readonly checks: readonly RowCheck[];
  /** Checks the row leaves out (beyond the matrix's columns or the answer's byte budget). */
  readonly moreChecks: number;
}

export interface Cell {
  readonly status: CellStatus;
  readonly durationMs: number | null;
  readonly event: string | null;
  readonly message: string | null;
  readonly verdict?: VerdictView;
}

/** Where a matrix row came from: our own round, a neighbour's status.json, its /alive (plain kubenurse), or nothing. */
export type RowSource = 'self' | 'status' | 'alive' | 'unreachable';

export interface ClusterRow {
  readonly node: string;
  readonly pod: string;
  readonly podIP: string | null;
  readonly source: RowSource;
  /** Why the row could not be fetched (source unreachable). */
  readonly error: string | null;
  /** Target node → this row's path_<target> result. */
  readonly paths: Readonly<Record<string, Cell>>;
  /** Every other check of that prober (apiserver, service, ingress, extra, kube-proxy). */
  readonly checks: Readonly<Record<string, Cell>>;
  /** Cells of this row left out (columns not shown, or beyond the per-row bound, bound.ts). */
  readonly more: number;
}

export interface ClusterView {
  readonly generatedAt: string;
  /** Node columns, sorted: every row's node, then the path targets most rows check (bounded). */
  readonly nodes: readonly string[];
  /** Columns of the other checks, in display order (bounded). */
  readonly checkTypes: readonly string[];
  /** Columns some row has cells for that are not shown. */
  readonly hiddenColumns: { readonly nodes: number; readonly checks: number };
  readonly rows: readonly ClusterRow[];
  /** Set when the neighbourhood is larger than the page shows. */
  readonly truncated: { readonly shown: number; readonly total: number } | null;
}

export interface FullStatus extends SelfStatus {
  /** This prober's checks not listed in `checks` (bounded for the page, failures kept first). */
  readonly moreChecks: number;
  /** At most MAX_LISTED_NEIGHBOURS entries; the rest are counted in moreNeighbours. */
  readonly neighbourhood: readonly NeighbourEntry[];
  readonly moreNeighbours: number;
  readonly cluster: ClusterView;
}

export const PATH_PREFIX = 'path_';
