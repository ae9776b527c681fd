// A bounded JSON GET for reading neighbours: one deadline for the whole exchange, a body size
// limit per request (the read stops and the connection is dropped as soon as the body passes
// it, or at once when Content-Length says it will), no redirects followed. Never throws; the
// failure is described in one line.
import { Agent, request } from 'undici';
import { readBounded } from '../bounded-body.ts';
import { describeError, errorMessage } from '../error-text.ts';

/**
 * Decodes a body as it streams in, keeping only part of it (alive-stream.ts): push() each
 * chunk, end() for the value. Either throws; `tooLarge` says which errors mean "too much kept".
 */
export interface StreamingDecoder {
  push(chunk: Buffer): void;
  end(): unknown;
  tooLarge(error: unknown): boolean;
}

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
}

export class JsonFetcher {
  private readonly agent: Agent;
  private readonly options: JsonFetcherOptions;

  constructor(options: JsonFetcherOptions) {
    this.options = options;
    // Keep-alive: the page refreshes every few seconds and asks the same neighbours again.
    this.agent = new Agent({ keepAliveTimeout: 4000, connections: 2 });
  }

  /** GET `url`, reading at most `maxBytes`; whole and JSON.parse'd, or through `decoder`. */
  async get(url: string, maxBytes: number, decoder?: StreamingDecoder): Promise<FetchResult> {
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
      const tooLarge = {
        ok: false,
        failure: 'too-large',
        statusCode,
        error: `response larger than ${maxBytes} bytes`,
      } as const;
      if (Number(response.headers['content-length']) > maxBytes) {
        response.body.destroy();
        return tooLarge;
      }
      if (decoder) return await decodeStream(response.body, maxBytes, decoder, statusCode);
      const body = await readBounded(response.body, maxBytes, true);
      if (body === 'too-large') return tooLarge;
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

/** Reads through `decoder`; a transport failure (the deadline included) propagates to get(). */
async function decodeStream(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  maxBytes: number,
  decoder: StreamingDecoder,
  statusCode: number,
): Promise<FetchResult> {
  const refused = (error: unknown): FetchResult => {
    // The decoder refused what it read: the rest is not read.
    body.destroy();
    const message = errorMessage(error);
    return decoder.tooLarge(error)
      ? { ok: false, failure: 'too-large', statusCode, error: message }
      : { ok: false, failure: 'not-json', statusCode, error: message };
  };
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      return {
        ok: false,
        failure: 'too-large',
        statusCode,
        error: `response larger than ${maxBytes} bytes`,
      };
    }
    try {
      decoder.push(chunk);
    } catch (error) {
      return refused(error);
    }
  }
  try {
    return { ok: true, statusCode, json: decoder.end() };
  } catch (error) {
    return refused(error);
  }
}
