// The suite runs the prober as it ships: dist/main.js from `npm run build`. It is rebuilt when
// missing or older than anything it is built from, so a stale bundle is never what is tested.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** Held while one test file builds: e2e files run in parallel and must not write dist/ at once. */
const BUILD_LOCK = join(PROJECT_ROOT, 'node_modules', '.kubenurse-e2e-build.lock');
const BUILD_TIMEOUT_MS = 180_000;

function holderAlive(): boolean {
  try {
    process.kill(Number(readFileSync(join(BUILD_LOCK, 'pid'), 'utf8')), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withBuildLock(work: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + BUILD_TIMEOUT_MS + 10_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      writeFileSync(join(BUILD_LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that died (crashed run) leaves the directory: take it over.
      if (existsSync(join(BUILD_LOCK, 'pid')) && !holderAlive())
        rmSync(BUILD_LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`${BUILD_LOCK} held too long`, { cause: error });
      else await sleep(200);
    }
  }
  try {
    await work();
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

export async function ensureBuilt(): Promise<void> {
  if (!bundleIsStale()) return;
  // Whoever waited for the lock finds the bundle fresh and builds nothing.
  await withBuildLock(async () => {
    if (bundleIsStale()) await build();
  });
}

async function build(): Promise<void> {
  try {
    await promisify(execFile)('npm', ['run', 'build'], {
      cwd: PROJECT_ROOT,
      timeout: BUILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `npm run build failed, so there is no prober to test:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
      { cause: error },
    );
  }
  if (!existsSync(DIST_MAIN))
    throw new Error(`npm run build succeeded but ${DIST_MAIN} is missing`);
}
