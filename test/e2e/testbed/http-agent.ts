// The test process' window into the test network: an HTTP client running inside a test
// namespace (children/http-agent.ts), driven over its stdin/stdout.
import type { ProcessGroup } from './processes.ts';
import type { RpcClient } from './rpc.ts';
import { startRpcHelper } from './helpers.ts';

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
    return new HttpAgent(startRpcHelper(group, ns, 'http-agent', 'http-agent.ts').rpc);
  }

  get(
    url: string,
    {
      timeoutMs = 3000,
      headers = {},
      caPath,
    }: { timeoutMs?: number; headers?: Record<string, string>; caPath?: string } = {},
  ): Promise<HttpAnswer> {
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
