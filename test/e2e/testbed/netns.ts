// Network namespaces of one test run. Every name starts with `kn-e2e-<pid>-`, so a later run
// can tell the leftovers of a crashed run (its pid is gone) from a run still in progress.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runSyncQuietly } from './shell.ts';

export const NAMESPACE_PREFIX = 'kn-e2e-';
const NETNS_ETC = '/etc/netns';

export function runPrefix(pid = process.pid): string {
  return `${NAMESPACE_PREFIX}${pid}-`;
}

export async function createNamespace(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Files bind-mounted over /etc by `ip netns exec` (resolv.conf); nsenter would not apply them. */
export function writeNamespaceEtc(name: string, file: string, content: string): void {
  const dir = join(NETNS_ETC, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), content);
}

function pidsIn(name: string): number[] {
  return runSyncQuietly('ip', ['netns', 'pids', name])
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 1);
}

/**
 * `ip netns del` only unmounts the name: processes inside keep the namespace (and its
 * addresses) alive. Whatever still runs in one of our namespaces was started by the suite.
 */
export function deleteNamespaceSync(name: string): void {
  for (const pid of pidsIn(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  runSyncQuietly('ip', ['netns', 'del', name]);
  rmSync(join(NETNS_ETC, name), { recursive: true, force: true });
}

export function listNamespaces(): string[] {
  return runSyncQuietly('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function leftByDeadRun(name: string): boolean {
  const pid = Number(/^kn-e2e-(\d+)-/.exec(name)?.[1] ?? NaN);
  return Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
}

/** Namespaces, /etc/netns dirs and run directories left by runs whose process no longer exists. */
export function removeStaleNamespaces(): string[] {
  const etcNames = existsSync(NETNS_ETC) ? readdirSync(NETNS_ETC) : [];
  const stale = [...new Set([...listNamespaces(), ...etcNames])].filter(leftByDeadRun);
  for (const name of stale) deleteNamespaceSync(name);
  for (const dir of readdirSync(tmpdir()).filter(leftByDeadRun))
    rmSync(join(tmpdir(), dir), { recursive: true, force: true });
  return stale;
}
