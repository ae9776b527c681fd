// Parent side of probe-driver.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverMode, DriverProbe, DriverRequest } from './probe-driver.ts';
import type { ImageRuntime } from './image-runtime.ts';
import { stopProcess } from '../../dev/process/stop-process.ts';

const DRIVER_SCRIPT = fileURLToPath(new URL('./probe-driver.ts', import.meta.url));

export class DriverClient {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly pending = new Map<number, (value: DriverProbe[]) => void>();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (raw) => {
      const { seq, results } = raw as { seq: number; results: DriverProbe[] };
      this.pending.get(seq)?.(results);
      this.pending.delete(seq);
    });
  }

  /** `runtime`: the Node flags and environment the driver runs with (the image's, for "as shipped"). */
  static async start(runtime?: ImageRuntime): Promise<DriverClient> {
    const child = fork(DRIVER_SCRIPT, [], {
      execPath: process.execPath,
      execArgv: [...(runtime?.nodeFlags ?? [])],
      env: { ...process.env, ...runtime?.env },
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

  /** One probe of `url`. */
  async probe(url: string, mode: DriverMode = 'ours'): Promise<DriverProbe> {
    return (await this.burst([url], mode))[0] as DriverProbe;
  }

  /** Probes every URL at once (as a round starts its checks together); results in order. */
  burst(urls: readonly string[], mode: DriverMode = 'ours'): Promise<DriverProbe[]> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve);
      const request: DriverRequest = { seq, mode, urls };
      this.child.send(request);
    });
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, new Promise((resolve) => this.child.once('exit', resolve)));
  }
}
