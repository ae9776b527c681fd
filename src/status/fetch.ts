// A bounded JSON GET for reading neighbours: one deadline for the whole exchange, a body size
// limit, no redirects followed. Never throws; the failure is described in one line.
import { Agent, request } from 'undici';
import { readBounded } from '../bounded-body.ts';
import { describeError } from '../error-text.ts';

export type FetchResult =
  | { readonly ok: true; readonly statusCode: number; readonly json: unknown }
  | {
      readonly ok: false;
      /** http: answered with another status; transport: no answer (refused, reset, deadline). */
      readonly failure: 'http' | 'transport' | 'too-large' | 'not-json';
      readonly statusCode: number | null;
      readonly error: string;
    };

export interface JsonFetcherOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export class JsonFetcher {
  private readonly agent: Agent;
  private readonly options: JsonFetcherOptions;

  constructor(options: JsonFetcherOptions) {
    this.options = options;
    // Keep-alive: the page refreshes every few seconds and asks the same neighbours again.
    this.agent = new Agent({ keepAliveTimeout: 4000, connections: 2 });
  }

  async get(url: string): Promise<FetchResult> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    let statusCode: number | null = null;
    try {
      const response = await request(url, {
        dispatcher: this.agent,
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': 'kubenurse-ts-status' },
        signal: deadline,
      });
      statusCode = response.statusCode;
      if (statusCode !== 200) {
        await response.body.dump().catch(() => undefined);
        return { ok: false, failure: 'http', statusCode, error: `HTTP ${statusCode}` };
      }
      const body = await readBounded(response.body, this.options.maxBytes, true);
      if (body === 'too-large')
        return {
          ok: false,
          failure: 'too-large',
          statusCode,
          error: `response larger than ${this.options.maxBytes} bytes`,
        };
      try {
        return { ok: true, statusCode, json: JSON.parse(body.toString('utf8')) };
      } catch {
        return { ok: false, failure: 'not-json', statusCode, error: 'response is not valid JSON' };
      }
    } catch (error) {
      if (deadline.aborted)
        return {
          ok: false,
          failure: 'transport',
          statusCode,
          error: `no answer within ${this.options.timeoutMs} ms`,
        };
      return { ok: false, failure: 'transport', statusCode, error: describeError(error) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}
