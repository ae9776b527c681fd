// One HTTP exchange on an undici dispatcher through dispatch() and a handler of our own,
// instead of undici's request(): no response stream, promise chain or abort plumbing per
// probe, and the moment the headers are parsed is seen synchronously (BENCHMARKS.md 1). The
// body is held only up to a limit, and only when the caller keeps it.
import type { Dispatcher } from 'undici';
import { toError } from '../error-text.ts';

export type BodyRead = Buffer | null | 'too-large';

export interface Exchange {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The rest of the body: whole when `keep`, else read to the end and dropped (null);
   * 'too-large' (and the exchange aborted) once more than `limit` bytes came.
   */
  body(limit: number, keep: boolean): Promise<BodyRead>;
}

export interface ExchangeOptions {
  /** Most bytes of body accepted before body() is called (the largest limit it may be called with). */
  readonly bufferLimit: number;
  /** Whether chunks are held before body() is called (else only counted). */
  readonly keepBody: boolean;
  /** Aborts the exchange; the promises then reject with its reason. */
  readonly signal: AbortSignal;
  /** Called synchronously when undici has parsed the response headers. */
  readonly onHeaders: () => void;
}

class TooLarge extends Error {}

/** Resolves with the response once its headers are parsed; rejects if it fails before. */
export function exchange(
  dispatcher: Dispatcher,
  request: Dispatcher.DispatchOptions,
  options: ExchangeOptions,
): Promise<Exchange> {
  return new Promise((resolveHeaders, rejectHeaders) => {
    let controller: Dispatcher.DispatchController | undefined;
    let chunks: Buffer[] = [];
    let size = 0;
    let limit = options.bufferLimit;
    let keep = options.keepBody;
    let ended = false;
    let failure: Error | undefined;
    let headersSeen = false;
    let waiter: { resolve: (read: BodyRead) => void; reject: (error: Error) => void } | undefined;
    const { signal } = options;

    const settleBody = () => {
      if (!waiter) return;
      const { resolve, reject } = waiter;
      if (failure instanceof TooLarge) resolve('too-large');
      else if (failure) reject(failure);
      else if (ended) resolve(keep ? Buffer.concat(chunks) : null);
      else return;
      waiter = undefined;
      chunks = [];
    };
    const fail = (error: Error) => {
      if (failure || ended) return;
      failure = error;
      signal.removeEventListener('abort', onAbort);
      if (!headersSeen) rejectHeaders(error);
      settleBody();
    };
    const onAbort = () => {
      const error = toError(signal.reason);
      fail(error);
      controller?.abort(error);
    };
    const overLimit = () => {
      fail(new TooLarge());
      controller?.abort(new Error('response body over the limit'));
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (failure) started.abort(failure);
      },
      onResponseStart(_controller, statusCode, headers) {
        // 1xx informational answers are not the response.
        if (statusCode < 200 || failure) return;
        headersSeen = true;
        options.onHeaders();
        resolveHeaders({
          statusCode,
          headers,
          body(bodyLimit, keepBody) {
            limit = bodyLimit;
            keep = keepBody;
            if (!keep) chunks = [];
            if (size > limit) overLimit();
            return new Promise<BodyRead>((resolve, reject) => {
              waiter = { resolve, reject };
              settleBody();
            });
          },
        });
      },
      onResponseData(_controller, chunk) {
        if (failure) return;
        size += chunk.length;
        if (size > limit) return overLimit();
        if (keep) chunks.push(chunk);
      },
      onResponseEnd() {
        if (failure) return;
        ended = true;
        signal.removeEventListener('abort', onAbort);
        settleBody();
      },
      onResponseError(_controller, error) {
        fail(error);
      },
    };

    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      dispatcher.dispatch(request, handler);
    } catch (error) {
      fail(toError(error));
    }
  });
}
