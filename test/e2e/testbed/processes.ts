// Every long-running process of the testbed (probers, dnsmasq, nginx, Prometheus, fakes) is
// started here, inside its namespace, and ended here by its PID. `ip netns exec` execs the
// command in place, so the PID we get is the real process; nothing is ever killed by name.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** The complete environment of the process: nothing of the test runner's leaks in. */
  readonly env: Record<string, string>;
  /** `rpc`: stdin/stdout stay pipes to the test (see rpc.ts); otherwise stdout goes to the log. */
  readonly stdio?: 'log' | 'rpc';
  readonly cwd?: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly ns: string;
  readonly logPath: string;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  constructor(name: string, ns: string, logPath: string, child: ChildProcess) {
    this.name = name;
    this.ns = ns;
    this.logPath = logPath;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      child.once('error', () => {
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined)
      throw new Error(`${this.name} did not start (see ${this.logPath})`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<Exit> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  log(maxChars = 4000): string {
    try {
      return readFileSync(this.logPath, 'utf8').slice(-maxChars);
    } catch {
      return '';
    }
  }
}

export class ProcessGroup {
  readonly logDir: string;
  private readonly processes: ManagedProcess[] = [];

  constructor(logDir: string) {
    this.logDir = logDir;
  }

  spawn(
    ns: string,
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions,
  ): ManagedProcess {
    const logPath = join(this.logDir, `${name}.log`);
    const logFd = openSync(logPath, 'a');
    const rpc = options.stdio === 'rpc';
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: [rpc ? 'pipe' : 'ignore', rpc ? 'pipe' : logFd, logFd],
    });
    closeSync(logFd);
    const managed = new ManagedProcess(name, ns, logPath, child);
    this.processes.push(managed);
    return managed;
  }

  async killAll(): Promise<void> {
    for (const managed of this.processes) managed.signal('SIGKILL');
    await Promise.all(this.processes.map((managed) => managed.exited));
  }

  /** For process-exit handlers: no waiting possible, so straight to SIGKILL. */
  killAllSync(): void {
    for (const managed of this.processes) managed.signal('SIGKILL');
  }

  describeFailures(): string {
    return this.processes
      .filter((managed) => !managed.running)
      .map((managed) => `--- ${managed.name} (exited) ---\n${managed.log(2000)}`)
      .join('\n');
  }
}
