// The suite runs the prober as it ships: dist/main.js from `npm run build`. It is rebuilt when
// missing or older than anything it is built from, so a stale bundle is never what is tested.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './helpers.ts';

export const DIST_MAIN = join(PROJECT_ROOT, 'dist', 'main.js');
const INPUTS = ['src', 'scripts/bundle.mjs', 'package.json', 'package-lock.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, entry) => Math.max(newest, newestMtime(join(path, entry))),
    stat.mtimeMs,
  );
}

export function bundleIsStale(): boolean {
  if (!existsSync(DIST_MAIN)) return true;
  const built = statSync(DIST_MAIN).mtimeMs;
  return INPUTS.some((input) => newestMtime(join(PROJECT_ROOT, input)) > built);
}

export async function ensureBuilt(): Promise<void> {
  if (!bundleIsStale()) return;
  try {
    await promisify(execFile)('npm', ['run', 'build'], {
      cwd: PROJECT_ROOT,
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `npm run build failed, so there is no prober to test:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
    );
  }
  if (!existsSync(DIST_MAIN))
    throw new Error(`npm run build succeeded but ${DIST_MAIN} is missing`);
}
