// `npm run bench`: runs every benchmark, each in a fresh process (so none inherits another's
// heap), one after the other, then writes the results into BENCHMARKS.md between the
// generated markers (hand-written text outside them stays) and bench/results/*.json.
//
//   npm run bench                     all, full size (about 25 minutes on 2 cores)
//   npm run bench -- --quick          all, small N (development only; do not record)
//   npm run bench -- --only cpu,rss   a subset; the other sections keep their last results
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBlackbox } from './lib/blackbox.ts';
import { NODE } from './lib/children.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import {
  PROJECT_ROOT,
  replaceMarked,
  RESULTS_DIR,
  table,
  verdict,
  type BenchResult,
} from './lib/report.ts';

/** Order of the sections in BENCHMARKS.md; file = bench/<id>.ts. */
export const BENCHMARKS = [
  'accuracy',
  'cpu',
  'rss',
  'churn',
  'scale',
  'alive-load',
  'metrics-render',
] as const;

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const selected = values.only ? values.only.split(',').map((id) => id.trim()) : [...BENCHMARKS];
for (const id of selected)
  if (!(BENCHMARKS as readonly string[]).includes(id))
    throw new Error(`unknown benchmark "${id}"; known: ${BENCHMARKS.join(', ')}`);

// Fails early, with the apt-get command, before any benchmark has run.
ensureBlackbox();

const failed: string[] = [];
for (const id of selected) {
  process.stderr.write(`\n=== bench/${id}.ts${values.quick ? ' --quick' : ''} ===\n`);
  const args = [
    join(PROJECT_ROOT, 'bench', `${id}.ts`),
    '--json-out',
    join(RESULTS_DIR, `${id}.json`),
    ...(values.quick ? ['--quick'] : []),
  ];
  const run = spawnSync(NODE, args, { stdio: 'inherit', cwd: PROJECT_ROOT });
  if (run.status !== 0) failed.push(id);
}

const machine = machineInfo();
const results: BenchResult[] = BENCHMARKS.map((id) => join(RESULTS_DIR, `${id}.json`))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchResult);

const goalRows = results.flatMap((result) =>
  result.goals.map((goal) => [goal.what, goal.target, goal.measured, verdict(goal.met)]),
);
const sections = results.map((result) =>
  [
    `### ${result.title}`,
    '',
    `Command: \`${result.command}\` — run ${result.startedAt}, took ${result.durationSeconds} s.`,
    '',
    result.markdown,
  ].join('\n'),
);
const generated = [
  `Machine: ${machineLine(machine)}.`,
  '',
  'Command: `npm run bench`' +
    (values.quick ? ' **(--quick: small N, not the recorded figures)**' : '') +
    (values.only ? ` (this update: --only ${values.only})` : '') +
    '.',
  '',
  table(['goal', 'target', 'measured', 'verdict'], goalRows),
  '',
  ...sections.flatMap((section) => [section, '']),
].join('\n');

const documentPath = join(PROJECT_ROOT, 'BENCHMARKS.md');
const document = existsSync(documentPath) ? readFileSync(documentPath, 'utf8') : '# Benchmarks\n';
writeFileSync(documentPath, replaceMarked(document, 'bench results', generated));
writeFileSync(join(RESULTS_DIR, 'machine.json'), `${JSON.stringify(machine, null, 1)}\n`);
process.stderr.write(
  `\nwrote BENCHMARKS.md (${results.length} sections)${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`,
);
process.exit(failed.length ? 1 : 0);
