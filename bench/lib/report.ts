// What every benchmark returns, how it runs on its own (`node bench/<name>.ts [--quick]`),
// and how run-all.ts merges the results into BENCHMARKS.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface Goal {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  /** undefined: not judged (no goal figure). */
  readonly met: boolean | undefined;
}

export interface BenchResult {
  readonly id: string;
  readonly title: string;
  /** The exact command that reproduces this section alone. */
  readonly command: string;
  readonly goals: readonly Goal[];
  /** Markdown body: tables and the method, without the heading. */
  readonly markdown: string;
  readonly data: unknown;
  readonly startedAt: string;
  readonly durationSeconds: number;
}

export interface BenchOptions {
  /** Small N for development; the recorded figures come from full runs. */
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

export type Benchmark = (
  options: BenchOptions,
) => Promise<Omit<BenchResult, 'startedAt' | 'durationSeconds'>>;

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RESULTS_DIR = resolve(PROJECT_ROOT, 'bench/results');

/** A Markdown table; cells are stringified as given. */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]) =>
    `| ${cells.map((cell) => String(cell).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function verdict(met: boolean | undefined): string {
  return met === undefined ? '–' : met ? 'met' : '**not met**';
}

/**
 * Replaces the text between `<!-- BEGIN name -->` and `<!-- END name -->` (markers kept);
 * appends a new marked block when the markers are absent. Hand-written text outside stays.
 */
export function replaceMarked(document: string, name: string, content: string): string {
  const begin = `<!-- BEGIN ${name} -->`;
  const end = `<!-- END ${name} -->`;
  const block = `${begin}\n${content.trim()}\n${end}`;
  const from = document.indexOf(begin);
  const to = document.indexOf(end);
  if (from >= 0 && to > from)
    return document.slice(0, from) + block + document.slice(to + end.length);
  return `${document.replace(/\s*$/, '')}\n\n${block}\n`;
}

/** Entry point of a benchmark file run directly: prints its Markdown, writes JSON with --json-out. */
export async function runStandalone(benchmark: Benchmark): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, 'json-out': { type: 'string' } },
  });
  const quick = values.quick || process.env.BENCH_QUICK === '1';
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const partial = await benchmark({ quick, log });
  const result: BenchResult = {
    ...partial,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  if (values['json-out']) {
    mkdirSync(dirname(values['json-out']), { recursive: true });
    writeFileSync(values['json-out'], `${JSON.stringify(result, null, 1)}\n`);
  }
  process.stdout.write(`\n## ${result.title}\n\n${result.markdown}\n`);
  // Lingering handles (keep-alive sockets of fetch) must not hold a finished benchmark open.
  process.exit(0);
}

export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}
