// Where things are: the project root, the Node 24 binary the project pins (the system node
// is older and cannot run .ts files), and the minimal environment of a helper process.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ManagedProcess, ProcessGroup } from './processes.ts';
import { RpcClient } from './rpc.ts';
import { SYSTEM_SEARCH_PATH } from '../../../scripts/preflight/components.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NODE_BINARY = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
/** PATH of the testbed's processes: where the preflight looks for, and installs, the tools. */
export const SYSTEM_PATH = SYSTEM_SEARCH_PATH;

export function helperCommand(
  script: string,
  args: readonly string[] = [],
): { command: string; args: string[]; env: Record<string, string> } {
  if (!existsSync(NODE_BINARY)) throw new Error(`${NODE_BINARY} is missing: run npm ci first`);
  return {
    command: NODE_BINARY,
    args: [script, ...args],
    env: { PATH: SYSTEM_PATH, NODE_NO_WARNINGS: '1' },
  };
}

/** A helper script (children/*.ts) started inside `ns` and driven over its stdin/stdout. */
export function startRpcHelper(
  group: ProcessGroup,
  ns: string,
  name: string,
  script: string,
  args: readonly string[] = [],
): { process: ManagedProcess; rpc: RpcClient } {
  const {
    command,
    args: argv,
    env,
  } = helperCommand(fileURLToPath(new URL(`./children/${script}`, import.meta.url)), args);
  const managed = group.spawn(ns, name, command, argv, { env, stdio: 'rpc' });
  if (!managed.child.stdout || !managed.child.stdin) throw new Error(`${name}: no stdio pipes`);
  return { process: managed, rpc: new RpcClient(name, managed.child.stdout, managed.child.stdin) };
}
