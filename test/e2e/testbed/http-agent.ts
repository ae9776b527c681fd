// The test process' window into the test network: an HTTP client running inside a test
// namespace (children/http-agent.ts), driven over its stdin/stdout.
import { fileURLToPath } from 'node:url';
import type { ProcessGroup } from './processes.ts';
import { RpcClient } from './rpc.ts';
import { helperCommand } from './helpers.ts';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export class HttpAgent {
  private readonly rpc: RpcClient;

  constructor(rpc: RpcClient) {
    this.rpc = rpc;
  }

  static start(group: ProcessGroup, ns: string): HttpAgent {
    const { command, args, env } = helperCommand(fileURLToPath(new URL('./children/http-agent.ts', import.meta.url)));
    const managed = group.spawn(ns, 'http-agent', command, args, { env, stdio: 'rpc' });
    if (!managed.child.stdout || !managed.child.stdin) throw new Error('http-agent: no stdio pipes');
    return new HttpAgent(new RpcClient('http-agent', managed.child.stdout, managed.child.stdin));
  }

  get(url: string, { timeoutMs = 3000, headers = {}, caPath }: { timeoutMs?: number; headers?: Record<string, string>; caPath?: string } = {}): Promise<HttpAnswer> {
    return this.rpc.call<HttpAnswer>('get', { url, timeoutMs, headers, caPath }, timeoutMs + 2000);
  }

  /** undefined when the request failed (refused, timed out): for polling. */
  async tryGet(url: string, timeoutMs = 3000): Promise<HttpAnswer | undefined> {
    try {
      return await this.get(url, { timeoutMs });
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.rpc.close();
  }
}
