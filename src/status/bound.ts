// Bounds on the cluster matrix. A neighbour may send up to MAX_CHECKS cells (hostile, or an
// honest prober with KUBENURSE_NEIGHBOUR_LIMIT=0 in a large cluster); kept whole, 50 such rows
// made one /status.json ~100 MB and the page draw 235,000 cells. Each row keeps only what
// the page can show, the matrix has a fixed number of columns, and every cut is counted so
// the page can say "… N more".
import { dictionary } from '../dictionary.ts';
import { clip } from './last-errors.ts';
import { compareTypes } from './snapshot.ts';
import type { Cell, ClusterRow } from './types.ts';

export const MATRIX_LIMITS = {
  /** Node columns (path_<node> targets), rows' own nodes first. */
  maxNodeColumns: 100,
  /** Columns for the other checks (apiserver, service, ingress, extra, kube-proxy …). */
  maxCheckColumns: 30,
  /** A cell's message is a tooltip: a readable prefix is enough. */
  maxCellMessageChars: 200,
} as const;

export interface BoundedCells {
  readonly paths: Record<string, Cell>;
  readonly checks: Record<string, Cell>;
  /** Cells of this row that were dropped. */
  readonly more: number;
}

function clipCell(cell: Cell): Cell {
  return cell.message !== null && cell.message.length > MATRIX_LIMITS.maxCellMessageChars
    ? { ...cell, message: clip(cell.message, MATRIX_LIMITS.maxCellMessageChars) }
    : cell;
}

/** At most `limit` entries: those `preferred` first, then in `compare` order. */
function keepAtMost(
  cells: Readonly<Record<string, Cell>>,
  limit: number,
  preferred: (key: string) => boolean,
  compare: (a: string, b: string) => number,
): { kept: Record<string, Cell>; dropped: number } {
  const keys = Object.keys(cells);
  const chosen =
    keys.length <= limit
      ? keys
      : keys
          .sort((a, b) => Number(preferred(b)) - Number(preferred(a)) || compare(a, b))
          .slice(0, limit);
  const kept = dictionary<Cell>();
  for (const key of chosen) kept[key] = clipCell(cells[key] as Cell);
  return { kept, dropped: keys.length - chosen.length };
}

/**
 * What one row may keep when it is read: path cells to the matrix's row nodes first, and at
 * most as many cells of each kind as the matrix has columns. Applied before the row is cached,
 * so memory is bounded as well as the response.
 */
export function boundRowCells(
  paths: Readonly<Record<string, Cell>>,
  checks: Readonly<Record<string, Cell>>,
  rowNodes: ReadonlySet<string>,
): BoundedCells {
  const keptPaths = keepAtMost(
    paths,
    MATRIX_LIMITS.maxNodeColumns,
    (node) => rowNodes.has(node),
    (a, b) => a.localeCompare(b),
  );
  const keptChecks = keepAtMost(checks, MATRIX_LIMITS.maxCheckColumns, () => false, compareTypes);
  return {
    paths: keptPaths.kept,
    checks: keptChecks.kept,
    more: keptPaths.dropped + keptChecks.dropped,
  };
}

export interface MatrixColumns {
  readonly nodes: string[];
  readonly checkTypes: string[];
  /** Columns that rows have cells for but the matrix does not show. */
  readonly hidden: { readonly nodes: number; readonly checks: number };
}

/** Columns the rows share most, up to `limit`, `first` always included; `order` sorts the result. */
function topColumns(
  counts: ReadonlyMap<string, number>,
  first: ReadonlySet<string>,
  limit: number,
  order: (a: string, b: string) => number,
): string[] {
  const rank = (key: string): number => (first.has(key) ? Infinity : (counts.get(key) ?? 0));
  return [...counts.keys()]
    .sort((a, b) => rank(b) - rank(a) || order(a, b))
    .slice(0, limit)
    .sort(order);
}

function countKeys(
  rows: readonly ClusterRow[],
  pick: (row: ClusterRow) => object,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows)
    for (const key of Object.keys(pick(row))) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** Node columns: every row's node, then the targets most rows check; check columns likewise. */
export function matrixColumns(rows: readonly ClusterRow[]): MatrixColumns {
  const rowNodes = new Set(rows.map((row) => row.node));
  const nodeCounts = countKeys(rows, (row) => row.paths);
  for (const node of rowNodes) nodeCounts.set(node, nodeCounts.get(node) ?? 0);
  const checkCounts = countKeys(rows, (row) => row.checks);
  const byName = (a: string, b: string): number => a.localeCompare(b);
  const nodes = topColumns(nodeCounts, rowNodes, MATRIX_LIMITS.maxNodeColumns, byName);
  const checkTypes = topColumns(
    checkCounts,
    new Set(),
    MATRIX_LIMITS.maxCheckColumns,
    compareTypes,
  );
  return {
    nodes,
    checkTypes,
    hidden: { nodes: nodeCounts.size - nodes.length, checks: checkCounts.size - checkTypes.length },
  };
}

/** The row with only the cells of the shown columns; what it loses is added to `more`. */
export function onlyColumns(row: ClusterRow, columns: MatrixColumns): ClusterRow {
  const nodes = new Set(columns.nodes);
  const types = new Set(columns.checkTypes);
  const paths = dictionary<Cell>();
  const checks = dictionary<Cell>();
  let dropped = 0;
  for (const [node, cell] of Object.entries(row.paths)) {
    if (nodes.has(node)) paths[node] = cell;
    else dropped++;
  }
  for (const [type, cell] of Object.entries(row.checks)) {
    if (types.has(type)) checks[type] = cell;
    else dropped++;
  }
  return { ...row, paths, checks, more: row.more + dropped };
}
