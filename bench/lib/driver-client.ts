// Parent side of probe-driver.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverProbe } from './probe-driver.ts';

const DRIVER_SCRIPT = fileURLToPath(new URL('./probe-driver.ts', import.meta.url));

export class DriverClient {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly pending = new Map<number, (value: DriverProbe) => void>();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (raw) => {
      const { seq, result } = raw as { seq: number; result: DriverProbe };
      this.pending.get(seq)?.(result);
      this.pending.delete(seq);
    });
  }

  static async start(): Promise<DriverClient> {
    const child = fork(DRIVER_SCRIPT, [], {
      execPath: process.execPath,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const client = new DriverClient(child);
    await new Promise<void>((resolve, reject) => {
      client.pending.set(0, () => resolve());
      child.once('exit', (code) => reject(new Error(`probe driver exited (${code})`)));
      setTimeout(() => reject(new Error('probe driver did not start within 15 s')), 15_000).unref();
    });
    return client;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  probe(url: string): Promise<DriverProbe> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve);
      this.child.send({ seq, url });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
