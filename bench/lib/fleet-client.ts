// Parent side of fleet.ts: starts it, sends requests, stops it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetRequest, FleetStats } from './fleet.ts';
import { stopProcess } from '../../dev/process/stop-process.ts';

const FLEET_SCRIPT = fileURLToPath(new URL('./fleet.ts', import.meta.url));

export class FleetClient {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (raw) => {
      const { seq, result, error } = raw as { seq: number; result?: unknown; error?: string };
      const waiter = this.pending.get(seq);
      if (!waiter) return;
      this.pending.delete(seq);
      if (error !== undefined) waiter.reject(new Error(`fleet: ${error}`));
      else waiter.resolve(result);
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`fleet process exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  static async start(): Promise<FleetClient> {
    const child = fork(FLEET_SCRIPT, [], {
      execPath: process.execPath,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const client = new FleetClient(child);
    await new Promise<void>((resolve, reject) => {
      client.pending.set(0, { resolve: () => resolve(), reject });
      setTimeout(
        () => reject(new Error('fleet process did not start within 15 s')),
        15_000,
      ).unref();
    });
    return client;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  private request<T>(request: FleetRequest): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ seq, request });
    });
  }

  /** Starts the delay target on host (port 0 = any); returns its base URL. */
  async target(host: string, port = 0): Promise<string> {
    const { port: bound } = await this.request<{ port: number }>({ op: 'target', host, port });
    return `http://${host}:${bound}`;
  }

  async neighbours(hosts: readonly string[], port: number): Promise<void> {
    await this.request({ op: 'neighbours', hosts, port });
  }

  stats(reset = false): Promise<FleetStats> {
    return this.request<FleetStats>({ op: 'stats', reset });
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, new Promise((resolve) => this.child.once('exit', resolve)));
  }
}
