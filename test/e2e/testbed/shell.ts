// Running the system tools the testbed is made of (ip, iptables, tc): every call bounded in
// time and output, and a failure carries the command and its stderr so a broken setup says why.
import { execFileSync, spawn } from 'node:child_process';

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

export class CommandError extends Error {
  readonly stderr: string;
  readonly code: number | null;

  constructor(
    command: string,
    args: readonly string[],
    code: number | null,
    stderr: string,
    reason?: string,
  ) {
    super(
      `${[command, ...args].join(' ')} failed (${reason ?? `exit ${code}`}): ${stderr.trim().slice(0, 2000)}`,
    );
    this.name = 'CommandError';
    this.stderr = stderr;
    this.code = code;
  }
}

export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(stdout);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new CommandError(command, args, null, stderr, `no exit after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
    });
    child.on('error', (error) =>
      finish(new CommandError(command, args, null, stderr, error.message)),
    );
    child.on('close', (code) =>
      finish(code === 0 ? undefined : new CommandError(command, args, code, stderr)),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** For exit handlers, where nothing asynchronous runs any more. Never throws. */
export function runSyncQuietly(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
      encoding: 'utf8',
    });
  } catch {
    return '';
  }
}

/** A command run inside a network namespace; `ip netns exec` also applies /etc/netns/<ns>/. */
export function nsRun(
  ns: string,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return run('ip', ['netns', 'exec', ns, command, ...args], options);
}
