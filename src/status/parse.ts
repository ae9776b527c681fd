// Turns a neighbour's answer (our status.json, or plain kubenurse's /alive) into matrix cells.
// The input is untrusted: anything unexpected is dropped or rejected with a clear reason,
// never passed through to the page as is.
import { clip } from './last-errors.ts';
import { LAYERS } from '../verdict.ts';
import { STATUS_KIND, type Cell, type CellStatus, type VerdictView } from './types.ts';

/** More checks than any real prober has (neighbour limit 0 at 5,000 nodes stays below). */
export const MAX_CHECKS = 10_000;
const CHECK_TYPE = /^[A-Za-z0-9_.:-]{1,300}$/;
const STATUSES: readonly CellStatus[] = ['ok', 'error', 'skipped'];

export class PeerFormatError extends Error {}

export interface PeerChecks {
  readonly node: string | null;
  readonly checks: Map<string, Cell>;
  /** Checks the peer says it left out of its answer (a row answer's `moreChecks`). */
  readonly more: number;
}

/** A count a peer reports: a non-negative integer below any real prober's check count. */
function optionalCount(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 1e7
    ? value
    : 0;
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' ? clip(value) : null;
}

function optionalMs(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PeerFormatError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

const KNOWN_LAYERS: ReadonlySet<string> = new Set(LAYERS);

/** A peer's verdict on a path cell: a layer we know and a short text, or nothing. */
function optionalVerdict(value: unknown): { verdict?: VerdictView } {
  if (typeof value !== 'object' || value === null) return {};
  const { layer, detail } = value as Record<string, unknown>;
  if (typeof layer !== 'string' || !KNOWN_LAYERS.has(layer)) return {};
  return { verdict: { layer, detail: typeof detail === 'string' ? clip(detail, 300) : '' } };
}

export function isStatusDocument(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>).kind === STATUS_KIND
  );
}

/** A neighbour's `/status.json?view=self` (its whole self view, or its matrix row). */
export function parseStatusDocument(value: unknown): PeerChecks {
  const doc = record(value, 'status.json');
  if (doc.kind !== STATUS_KIND) throw new PeerFormatError('status.json has an unknown kind');
  if (!Array.isArray(doc.checks)) throw new PeerFormatError('status.json has no checks list');
  if (doc.checks.length > MAX_CHECKS)
    throw new PeerFormatError(`status.json lists more than ${MAX_CHECKS} checks`);
  const checks = new Map<string, Cell>();
  for (const item of doc.checks) {
    if (typeof item !== 'object' || item === null) continue;
    const entry = item as Record<string, unknown>;
    if (typeof entry.type !== 'string' || !CHECK_TYPE.test(entry.type)) continue;
    if (!STATUSES.includes(entry.status as CellStatus)) continue;
    checks.set(entry.type, {
      status: entry.status as CellStatus,
      durationMs: optionalMs(entry.durationMs),
      event: optionalText(entry.event),
      message: optionalText(entry.message),
      ...optionalVerdict(entry.verdict),
    });
  }
  const node = typeof doc.node === 'string' && doc.node.length <= 253 ? doc.node : null;
  return { node, checks, more: optionalCount(doc.moreChecks) };
}

const NOT_CHECKS = new Set(['neighbourhood_state', 'neighbourhood']);

/** kubenurse's `/alive`: last_check_result maps a type to "ok", "skipped" or the error text. */
export function parseAliveDocument(value: unknown): PeerChecks {
  const doc = record(value, '/alive');
  const results = record(doc.last_check_result ?? {}, 'last_check_result');
  const entries = Object.entries(results);
  if (entries.length > MAX_CHECKS)
    throw new PeerFormatError(`last_check_result has more than ${MAX_CHECKS} entries`);
  const checks = new Map<string, Cell>();
  for (const [type, result] of entries) {
    // kubenurse keeps its discovery state in the same map; it is not a check.
    if (NOT_CHECKS.has(type) || !CHECK_TYPE.test(type) || typeof result !== 'string') continue;
    if (result === 'ok' || result === 'skipped')
      checks.set(type, { status: result, durationMs: null, event: null, message: null });
    else
      checks.set(type, { status: 'error', durationMs: null, event: null, message: clip(result) });
  }
  return { node: null, checks, more: 0 };
}
