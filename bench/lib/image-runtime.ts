// How the image runs the prober, read from the Dockerfile itself so that a benchmark "as the
// image runs it" cannot drift from what ships: the Node flags of the ENTRYPOINT (between the
// node binary and the script) and the ENV lines of the runtime stage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './report.ts';

export interface ImageRuntime {
  /** Node flags before the script in ENTRYPOINT, e.g. ['--max-semi-space-size=1']. */
  readonly nodeFlags: readonly string[];
  /** ENV of the runtime stage (NODE_ENV, MALLOC_ARENA_MAX, ...). */
  readonly env: Readonly<Record<string, string>>;
}

/** Parses the last stage of a Dockerfile: its ENTRYPOINT (exec form) and ENV lines. */
export function parseImageRuntime(dockerfile: string): ImageRuntime {
  const stages = dockerfile.split(/^FROM\s/m);
  const runtime = stages.at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const match of runtime.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)[=\s]+(\S+)\s*$/gm))
    env[match[1] as string] = (match[2] as string).replace(/^"|"$/g, '');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtime)?.[1];
  if (entry === undefined) throw new Error('Dockerfile: no exec-form ENTRYPOINT in the last stage');
  const argv = JSON.parse(entry) as string[];
  const script = argv.findIndex((arg) => arg.endsWith('.js'));
  if (script < 1) throw new Error(`Dockerfile: ENTRYPOINT ${entry} runs no .js script`);
  return { nodeFlags: argv.slice(1, script), env };
}

export const IMAGE_RUNTIME = parseImageRuntime(
  readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8'),
);

/** Human-readable: "--max-semi-space-size=1, MALLOC_ARENA_MAX=2". */
export function describeImageRuntime(runtime: ImageRuntime = IMAGE_RUNTIME): string {
  const env = Object.entries(runtime.env)
    .filter(([name]) => name !== 'NODE_ENV')
    .map(([name, value]) => `${name}=${value}`);
  return [...runtime.nodeFlags, ...env].join(' ') || 'no flags';
}
