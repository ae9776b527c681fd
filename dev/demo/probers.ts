// The demo's prober processes: the real entry point (src/main.ts), one per node, each with
// its DaemonSet-like environment and its log in a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Node 24 runs .ts files directly; the system node may be older, the npm package's is not. */
export function nodeBinary(projectRoot: string): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return process.execPath;
  const local = join(projectRoot, 'node_modules', '.bin', 'node');
  if (existsSync(local)) return local;
  throw new Error(
    `Node.js 24 or newer is needed (this is ${process.version}); run the demo through npm: npm run demo`,
  );
}

export interface ProberProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<string>;
}

export function startProber(
  projectRoot: string,
  name: string,
  env: Record<string, string>,
  logFile: string,
): ProberProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(nodeBinary(projectRoot), [join(projectRoot, 'src', 'main.ts')], {
    cwd: projectRoot,
    // Only what a pod would have: the user's own KUBENURSE_* or KUBECONFIG must not leak in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', log, log],
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)),
  );
  return { name, child, logFile, exited };
}

export { stopProcess } from '../process/stop-process.ts';

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
