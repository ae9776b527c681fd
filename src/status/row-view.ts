// The matrix row one prober asks another for: `/status.json?view=self&cells=row&nodes=a,b,…`.
// The asking side names the nodes its matrix has rows for; the answering side sends only the
// cells a matrix row can show (path cells to those nodes first, at most as many cells of each
// kind as the matrix has columns, short messages) within ROW_ANSWER_BUDGET bytes, and counts
// the rest in `moreChecks`. So a neighbour's answer is tens of KB whatever its cluster size,
// and the asking side can cap what it reads near that (ROW_ANSWER_MAX_BYTES). An older prober
// of ours ignores the two parameters and sends its whole self view; the cap covers that too.
import { NODE_PATH_PREFIX } from '../config.ts';
import { MATRIX_LIMITS } from './bound.ts';
import { clip } from './last-errors.ts';
import { compareTypes } from './snapshot.ts';
import {
  PATH_PREFIX,
  STATUS_KIND,
  STATUS_VERSION,
  type CheckView,
  type RowAnswer,
  type RowCheck,
  type SelfStatus,
} from './types.ts';

/** `cells=row`: answer with a matrix row (this module), not the whole self view. */
export const ROW_CELLS = 'row';
/** What the answering side keeps its row answer under, envelope included. */
export const ROW_ANSWER_BUDGET = 64 * 1024;
/** What the asking side reads of a row answer at most: the budget with room to spare. */
export const ROW_ANSWER_MAX_BYTES = 2 * ROW_ANSWER_BUDGET;
/** Node names sent in `nodes=` (the asker's rows); longer lists are cut, not refused. */
export const MAX_WANTED_NODES = 200;
/** Characters of the `nodes=` value: well inside Node's 16 KiB request-header limit. */
export const MAX_WANTED_NODES_CHARS = 8 * 1024;
const VERDICT_DETAIL_CHARS = 300;

/**
 * node_<t> and path_<t>_<family> (docs/layers.md) are the evidence behind path_<t>'s verdict,
 * which its cell shows; as columns of their own they would add one per node. Node names have
 * no "_", so a type is one of them only when the row also has path_<t>.
 */
export function isLayerProbe(type: string, types: ReadonlySet<string>): boolean {
  const base = type.startsWith(NODE_PATH_PREFIX)
    ? type.slice(NODE_PATH_PREFIX.length)
    : type.startsWith(PATH_PREFIX)
      ? type.slice(PATH_PREFIX.length)
      : undefined;
  if (base === undefined) return false;
  const node = base.replace(/_ipv[46]$/, '');
  return (node !== base || type.startsWith(NODE_PATH_PREFIX)) && types.has(`${PATH_PREFIX}${node}`);
}

/** The query that asks a neighbour for its matrix row, preferring path cells to `nodes`. */
export function rowQuery(nodes: readonly string[]): string {
  const kept: string[] = [];
  let chars = 0;
  for (const node of nodes.slice(0, MAX_WANTED_NODES)) {
    const encoded = encodeURIComponent(node);
    if (chars + encoded.length + 1 > MAX_WANTED_NODES_CHARS) break;
    kept.push(encoded);
    chars += encoded.length + 1;
  }
  return `view=self&cells=${ROW_CELLS}&nodes=${kept.join(',')}`;
}

/** The `nodes=` value as the answering side reads it: anything odd is ignored, never refused. */
export function wantedNodes(value: unknown): ReadonlySet<string> {
  if (typeof value !== 'string' || value.length > MAX_WANTED_NODES_CHARS) return new Set();
  return new Set(
    value
      .split(',')
      .slice(0, MAX_WANTED_NODES)
      .filter((node) => node.length > 0 && node.length <= 253),
  );
}

function rowCheck(view: CheckView): RowCheck {
  return {
    type: view.type,
    status: view.status,
    durationMs: view.durationMs,
    event: view.event,
    message: view.message === null ? null : clip(view.message, MATRIX_LIMITS.maxCellMessageChars),
    ...(view.verdict
      ? {
          verdict: {
            layer: view.verdict.layer,
            detail: clip(view.verdict.detail, VERDICT_DETAIL_CHARS),
          },
        }
      : {}),
  };
}

/**
 * The cells a matrix row shows, most wanted first: path cells to the asker's rows, the other
 * checks (kubenurse's order), then path cells to other nodes by name; at most as many of each
 * kind as the matrix has columns.
 */
function byPriority(shown: readonly CheckView[], wanted: ReadonlySet<string>): CheckView[] {
  const paths = shown.filter((view) => view.type.startsWith(PATH_PREFIX));
  const others = shown
    .filter((view) => !view.type.startsWith(PATH_PREFIX))
    .sort((a, b) => compareTypes(a.type, b.type))
    .slice(0, MATRIX_LIMITS.maxCheckColumns);
  const isWanted = (view: CheckView): boolean => wanted.has(view.type.slice(PATH_PREFIX.length));
  const byName = (a: CheckView, b: CheckView): number => a.type.localeCompare(b.type);
  const orderedPaths = [
    ...paths.filter(isWanted).sort(byName),
    ...paths.filter((view) => !isWanted(view)).sort(byName),
  ].slice(0, MATRIX_LIMITS.maxNodeColumns);
  const wantedCount = orderedPaths.filter(isWanted).length;
  return [...orderedPaths.slice(0, wantedCount), ...others, ...orderedPaths.slice(wantedCount)];
}

/** This prober's matrix row for a neighbour that asked for it, within ROW_ANSWER_BUDGET bytes. */
export function rowAnswer(self: SelfStatus, wanted: ReadonlySet<string>): RowAnswer {
  const types = new Set(self.checks.map((view) => view.type));
  const shown = self.checks.filter((view) => !isLayerProbe(view.type, types));
  const envelope: RowAnswer = {
    kind: STATUS_KIND,
    version: STATUS_VERSION,
    node: self.node,
    pod: self.pod,
    generatedAt: self.generatedAt,
    round: self.round,
    checks: [],
    moreChecks: shown.length,
  };
  // The envelope with a count of up to 10 digits, then each cell and its comma.
  let bytes = Buffer.byteLength(JSON.stringify(envelope)) + 10;
  const kept: RowCheck[] = [];
  for (const view of byPriority(shown, wanted)) {
    const check = rowCheck(view);
    const size = Buffer.byteLength(JSON.stringify(check)) + 1;
    if (bytes + size > ROW_ANSWER_BUDGET) break;
    bytes += size;
    kept.push(check);
  }
  kept.sort((a, b) => compareTypes(a.type, b.type));
  return { ...envelope, checks: kept, moreChecks: shown.length - kept.length };
}
