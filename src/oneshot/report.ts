// What `kubenurse-ts check` prints: a table for people, JSON for machines, and the exit code.
import { checkView, compareTypes, withVerdict } from '../status/snapshot.ts';
import { LastErrors } from '../status/last-errors.ts';
import type { CheckView } from '../status/types.ts';
import type { OneShotResult } from './run.ts';
import { neighbourhoodHealthy, neighbourhoodStateText } from '../state.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;

/** Request phases as kubenurse's trace events mark their end; each column is the time since the previous mark. */
const PHASE_COLUMNS = [
  ['dns', 'dns_done'],
  ['connect', 'connect_done'],
  ['tls', 'tls_handshake_done'],
  ['send', 'wrote_request'],
  ['wait', 'got_first_resp_byte'],
] as const;

function phaseSegments(phases: Readonly<Record<string, number>> | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (!phases) return out;
  let previous = 0;
  for (const [column, event] of PHASE_COLUMNS) {
    const at = phases[event];
    if (at === undefined) continue;
    out[column] = Math.max(0, at - previous);
    previous = at;
  }
  return out;
}

function checksOf(result: OneShotResult): CheckView[] {
  const none = new LastErrors();
  return [...result.round.outcomes]
    .map(([type, outcome]) => withVerdict(checkView(type, outcome, none), result.round))
    .sort((a, b) => compareTypes(a.type, b.type));
}

export function exitCode(result: OneShotResult): number {
  const failed = [...result.round.outcomes.values()].some((outcome) => outcome.status === 'error');
  return failed || !neighbourhoodHealthy(result.neighbourhood.state) ? EXIT_FAILED : EXIT_OK;
}

/** Neighbour → layer verdict (docs/layers.md); undefined unless node paths or all IP families are on. */
function verdictsOf(
  result: OneShotResult,
): [string, { layer: string; detail: string }][] | undefined {
  const verdicts = result.round.verdicts;
  if (!verdicts) return undefined;
  return [...verdicts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, { layer, detail }]) => [node, { layer, detail }]);
}

export function toJson(result: OneShotResult): Record<string, unknown> {
  const verdicts = verdictsOf(result);
  return {
    ok: exitCode(result) === EXIT_OK,
    startedAt: result.round.startedAt.toISOString(),
    finishedAt: result.round.finishedAt.toISOString(),
    neighbourhood:
      result.neighbourhood.state.kind === 'skipped'
        ? null
        : {
            state: neighbourhoodStateText(result.neighbourhood.state),
            neighbours: result.neighbourhood.neighbours.length,
          },
    kubeProxy: result.kubeProxy ?? null,
    checks: checksOf(result).map(({ lastError: _unused, ...check }) => ({
      ...check,
      phaseBreakdownMs: phaseSegments(check.phases),
    })),
    ...(verdicts ? { verdicts: Object.fromEntries(verdicts) } : {}),
  };
}

const ms = (value: number | undefined | null): string =>
  value === undefined || value === null ? '' : value < 10 ? value.toFixed(1) : value.toFixed(0);

export function toTable(result: OneShotResult): string {
  const checks = checksOf(result);
  const header = ['CHECK', 'RESULT', 'TOTAL ms', ...PHASE_COLUMNS.map(([column]) => column)];
  const rows = checks.map((check) => {
    const segments = phaseSegments(check.phases);
    const outcome = check.status === 'error' ? `FAILED ${check.event ?? ''}`.trim() : check.status;
    return [
      check.type,
      outcome,
      ms(check.durationMs),
      ...PHASE_COLUMNS.map(([column]) => ms(segments[column])),
    ];
  });
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => (row[index] as string).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, index) =>
        index >= 2 ? cell.padStart(widths[index] as number) : cell.padEnd(widths[index] as number),
      )
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];

  const details = checks.filter((check) => check.status !== 'ok' && check.message);
  if (details.length > 0) {
    out.push('');
    for (const check of details) out.push(`${check.type}: ${check.message}`);
  }
  const { state, neighbours } = result.neighbourhood;
  if (state.kind !== 'skipped') {
    out.push('');
    out.push(
      `neighbourhood: ${neighbourhoodStateText(state)} (${neighbours.length} neighbours found)`,
    );
  }
  const verdicts = verdictsOf(result);
  if (verdicts && verdicts.length > 0) {
    out.push('');
    out.push('layer at fault, per neighbour (docs/layers.md):');
    const width = Math.max(...verdicts.map(([node]) => node.length));
    for (const [node, { layer, detail }] of verdicts)
      out.push(`  ${node.padEnd(width)}  ${layer.padEnd(13)}  ${detail}`);
  }
  const failed = checks.filter((check) => check.status === 'error').length;
  out.push('');
  const count = (status: string): number =>
    checks.filter((check) => check.status === status).length;
  const discoveryNote = neighbourhoodHealthy(state) ? '' : '; neighbour discovery is not ok';
  out.push(
    exitCode(result) === EXIT_OK
      ? `no failures: ${count('ok')} ok, ${count('skipped')} skipped`
      : `${failed} of ${checks.length} checks failed${discoveryNote}`,
  );
  return `${out.join('\n')}\n`;
}
