// Where the prober's memory goes: bare Node, and each dependency bundled the way the
// production bundle bundles it (esbuild, ESM, minified, tree-shaken to the symbols we use),
// each in a fresh idle process.
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE, startChild } from './children.ts';
import { MiB, parseStatusField } from './proc.ts';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from './report.ts';

export interface Rss {
  readonly rssMiB: number;
  readonly anonMiB: number;
  readonly fileMiB: number;
}

export function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssMiB: parseStatusField(status, 'VmRSS') / MiB,
    anonMiB: parseStatusField(status, 'RssAnon') / MiB,
    fileMiB: parseStatusField(status, 'RssFile') / MiB,
  };
}

/** What the prober imports from each dependency (see src/); kept alive so nothing is dropped. */
const DEPENDENCY_ENTRIES: Readonly<Record<string, string>> = {
  '@kubernetes/client-node (Watch, deep-imported as discovery does in a pod)':
    "import { Watch } from '@kubernetes/client-node/dist/watch.js'; globalThis.keep = [Watch];",
  'undici (Client, buildConnector, request)':
    "import { Client, buildConnector, request } from 'undici'; globalThis.keep = [Client, buildConnector({}), request];",
  'express (app)': "import express from 'express'; globalThis.keep = express();",
  'prom-client (Registry + default metrics)':
    "import { Registry, Histogram, collectDefaultMetrics } from 'prom-client'; " +
    'const r = new Registry(); collectDefaultMetrics({ register: r }); globalThis.keep = [r, Histogram];',
  'pino (logger)': "import { pino } from 'pino'; globalThis.keep = pino({ level: 'warn' });",
};

const BANNER =
  "import { createRequire as __benchCreateRequire } from 'node:module';\nconst require = __benchCreateRequire(import.meta.url);";

async function bundleSnippet(code: string): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'bench-part-')), 'part.mjs');
  await build({
    stdin: {
      contents: `${code}\nsetInterval(() => {}, 1000);\n`,
      resolveDir: PROJECT_ROOT,
      loader: 'js',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    banner: { js: BANNER },
    logLevel: 'error',
  });
  return outfile;
}

/** RSS of an idle process running `args`, read after `settleMs`. */
async function idleRss(args: readonly string[], settleMs: number): Promise<Rss> {
  const child = startChild(NODE, args, { name: 'rss part' });
  try {
    await sleep(settleMs);
    if (child.process.exitCode !== null)
      throw new Error(`rss part exited early: ${child.output()}`);
    return readRss(child.pid);
  } finally {
    await child.stop();
  }
}

export async function bareNodeRss(settleMs: number): Promise<Rss> {
  return idleRss(['-e', 'setInterval(() => {}, 1000)'], settleMs);
}

export async function dependencyRss(settleMs: number): Promise<Record<string, Rss>> {
  const out: Record<string, Rss> = {};
  for (const [name, code] of Object.entries(DEPENDENCY_ENTRIES))
    out[name] = await idleRss([await bundleSnippet(code)], settleMs);
  return out;
}
