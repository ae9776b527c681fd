// One HTTP probe as kubenurse's check makes it: a GET that follows redirects as Go's http.Client
// does, under one deadline, and whose answer (or failure) becomes a check outcome, the response
// metrics and the phase timings. Where the connection comes from is connections.ts; how the
// phases are stamped is trace.ts.
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeMetrics } from '../metrics.ts';
import type { CheckOutcome } from '../checks/types.ts';
import { startDeadline, type Deadline } from './deadline.ts';
import { classifyFailure, type Progress } from './classify.ts';
import { describeError } from '../error-text.ts';
import type { TrustOptions } from './tls.ts';
import { proxyAuthorization } from './tunnel.ts';
import { proxyFor, type ProxySettings } from './proxy.ts';
import { isFollowedRedirect, RedirectChain, type Hop } from './redirect.ts';
import { basicAuthorization, withoutUserinfo } from './userinfo.ts';
import { bareHost } from '../url-host.ts';
import { exchange, type Exchange } from './exchange.ts';
import { Connections, type Lease } from './connections.ts';
import { mark, recordPhases, startTrace, type Trace } from './trace.ts';

export interface ProbeTarget {
  /** The `type` label under which timings and codes are recorded. */
  readonly type: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** When set, the response body is returned, and a body larger than this fails the probe. */
  readonly bodyLimit?: number;
}

export interface ProbeResult {
  readonly outcome: CheckOutcome;
  readonly statusCode?: number;
  readonly body?: Buffer;
}

export interface ProberOptions {
  readonly metrics: ProbeMetrics;
  readonly trust: TrustOptions;
  readonly timeoutMs: number;
  readonly reuseConnections: boolean;
  /** HTTP_PROXY/HTTPS_PROXY/NO_PROXY; none means every probe goes direct. */
  readonly proxy?: ProxySettings;
}

/** Bodies we do not need are still read (to see the response end) but never kept beyond this. */
const DISCARDED_BODY_LIMIT = 1024 * 1024;

/** Go's client reads at most this much of a redirect's body before following it (maxBodySlurpSize). */
const REDIRECT_BODY_SLURP = 2 * 1024;

interface SentHop {
  readonly response: Exchange;
  readonly release: Lease['release'];
}

export class Prober {
  /** Lent per hop; owned here so that close() ends the kept connections with the prober. */
  private readonly connections: Connections;
  private readonly options: ProberOptions;

  constructor(options: ProberOptions) {
    this.options = options;
    this.connections = new Connections({
      trust: options.trust,
      reuseConnections: options.reuseConnections,
    });
  }

  /**
   * Runs one probe, following redirects as Go's http.Client does; never throws. The deadline
   * (the prober's timeout or `signal`, whichever is first) covers the whole redirect chain.
   * The result, the status code counted and the phase timings are those of the final answer;
   * phases describe the final hop, measured from the start of the first.
   */
  async probe(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
    const deadline = startDeadline(this.options.timeoutMs, signal);
    try {
      return await this.followChain(target, signal, deadline);
    } finally {
      deadline.dispose();
    }
  }

  private async followChain(
    target: ProbeTarget,
    signal: AbortSignal | undefined,
    deadline: Deadline,
  ): Promise<ProbeResult> {
    const trace = startTrace();
    const abort = deadline.signal;
    const chain = new RedirectChain(new URL(target.url), {
      'user-agent': 'kubenurse-ts',
      ...target.headers,
    });
    let hop = chain.first;
    for (;;) {
      const url = withoutUserinfo(hop.url);
      let release: SentHop['release'] | undefined;
      try {
        const sent = await this.send(hop, url, trace, abort, {
          first: chain.redirects === 0,
          bufferLimit: Math.max(REDIRECT_BODY_SLURP, target.bodyLimit ?? DISCARDED_BODY_LIMIT),
          keepBody: target.bodyLimit !== undefined,
        });
        release = sent.release;
        const { response } = sent;
        const location = isFollowedRedirect(response.statusCode)
          ? firstValue(response.headers.location)
          : undefined;
        if (location === undefined) {
          const result = await this.answer(target, url, trace, response);
          release(abort.aborted);
          return result;
        }
        await response.body(REDIRECT_BODY_SLURP, false);
        release(abort.aborted);
        release = undefined;
        const next = chain.follow(location);
        if ('hop' in next) {
          // The next hop's phases replace this one's; the clock keeps running from the start.
          trace.marks.clear();
          trace.headersAt = undefined;
          hop = next.hop;
          continue;
        }
        if (next.kind === 'round_trip')
          return this.failed(target.type, url, trace, new Error(next.error), {
            deadline,
            signal,
            message: next.error,
          });
        return this.stopped(target.type, url, trace, response.statusCode, next.error);
      } catch (error) {
        release?.(true);
        return this.failed(target.type, url, trace, error, { deadline, signal });
      }
    }
  }

  /** Sends one hop; resolves once its response headers arrived. The caller releases the client. */
  private async send(
    hop: Hop,
    url: URL,
    trace: Trace,
    abort: AbortSignal,
    { first, bufferLimit, keepBody }: { first: boolean; bufferLimit: number; keepBody: boolean },
  ): Promise<SentHop> {
    const proxy = this.options.proxy ? proxyFor(url, this.options.proxy) : undefined;
    const forwardProxy = proxy !== undefined && url.protocol === 'http:';
    const headers: Record<string, string> = { ...hop.headers };
    // Go's Client.send: URL credentials become Basic auth unless Authorization is already set.
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
      const basic = basicAuthorization(hop.url);
      if (basic !== undefined) headers.authorization = basic;
    }
    if (forwardProxy) Object.assign(headers, forwardProxyHeaders(url, proxy));
    const { client, release } = this.connections.lend(url, proxy, trace);
    try {
      // Creating our per-probe dispatcher is not network time.
      if (first) trace.start = performance.now();
      // A deadline rejects at once, even during a connect or TLS handshake that undici would
      // not give up; release() then destroys the connection.
      const response = await exchange(
        client,
        {
          origin: url.origin,
          path: forwardProxy
            ? `${url.origin}${url.pathname}${url.search}`
            : `${url.pathname}${url.search}`,
          method: 'GET',
          headers,
          // Go's Transport with DisableKeepAlives (upstream's default) sends Connection: close.
          reset: !this.options.reuseConnections,
        },
        {
          bufferLimit,
          keepBody,
          signal: abort,
          onHeaders: () => {
            trace.headersAt ??= performance.now() - trace.start;
          },
        },
      );
      // A connection we did not open ourselves has no first-byte stamp: the headers are it.
      mark(trace, 'got_first_resp_byte');
      return { response, release };
    } catch (error) {
      release(true);
      throw error;
    }
  }

  /** The final answer of a chain: its status and body decide the outcome. */
  private async answer(
    target: ProbeTarget,
    url: URL,
    trace: Trace,
    response: Exchange,
  ): Promise<ProbeResult> {
    const headersAt = trace.headersAt as number;
    // The first byte is stamped; what is left (body, metrics, teardown) can wait until the
    // event loop has handled the other sockets that are readable now, so that probes of one
    // round do not add their tail to each other's first byte (BENCHMARKS.md 1).
    await afterReadableSockets();
    const bodyLimit = target.bodyLimit ?? DISCARDED_BODY_LIMIT;
    const body = await response.body(bodyLimit, target.bodyLimit !== undefined);
    recordPhases(this.options.metrics, target.type, trace);
    this.options.metrics.observeResponse(target.type, response.statusCode, headersAt / 1000);
    const phases = Object.fromEntries(trace.marks);
    if (body === 'too-large') {
      return {
        statusCode: response.statusCode,
        outcome: {
          status: 'error',
          event: 'round_trip_error',
          message: `response body larger than ${bodyLimit} bytes`,
          durationMs: headersAt,
          target: url.host,
          phases,
        },
      };
    }
    if (response.statusCode !== 200) {
      return {
        statusCode: response.statusCode,
        body: body ?? undefined,
        outcome: {
          status: 'error',
          event: `status_code_${response.statusCode}`,
          // kubenurse's check result for a non-200 answer is Go's resp.Status, e.g. "404 Not Found".
          message: statusText(response.statusCode),
          durationMs: headersAt,
          target: url.host,
          phases,
        },
      };
    }
    return {
      statusCode: 200,
      body: body ?? undefined,
      outcome: { status: 'ok', durationMs: headersAt, phases },
    };
  }

  /**
   * The client stopped following (too many redirects, an unparsable Location): as in Go, the
   * last response is what the check got, so its status is counted and is the error's event.
   */
  private stopped(
    type: string,
    url: URL,
    trace: Trace,
    statusCode: number,
    message: string,
  ): ProbeResult {
    const headersAt = trace.headersAt as number;
    recordPhases(this.options.metrics, type, trace);
    this.options.metrics.observeResponse(type, statusCode, headersAt / 1000);
    return {
      statusCode,
      outcome: {
        status: 'error',
        event: `status_code_${statusCode}`,
        message,
        durationMs: headersAt,
        target: url.host,
        phases: Object.fromEntries(trace.marks),
      },
    };
  }

  /** No answer: a failed phase (or round_trip_error) on the hop to `url`. */
  private failed(
    type: string,
    url: URL,
    trace: Trace,
    error: unknown,
    context: { deadline: Deadline; signal: AbortSignal | undefined; message?: string },
  ): ProbeResult {
    const elapsed = performance.now() - trace.start;
    const proxy = this.options.proxy ? proxyFor(url, this.options.proxy) : undefined;
    const hostname = bareHost(url.hostname);
    // Through a proxy, the only name we resolve ourselves is the proxy's.
    const needsDns = isIP(proxy ? bareHost(proxy.hostname) : hostname) === 0;
    const progress: Progress = {
      needsDns,
      isTls: url.protocol === 'https:',
      reached: new Set(trace.marks.keys()),
    };
    const timedOut = context.deadline.timedOut;
    const cancelled = !timedOut && context.signal?.aborted === true;
    const event =
      context.message !== undefined ? 'round_trip_error' : classifyFailure(progress, error);
    recordPhases(this.options.metrics, type, trace);
    this.options.metrics.countRoundTripError(type);
    const reason = timedOut
      ? `timeout after ${this.options.timeoutMs}ms (stuck at ${event})`
      : cancelled
        ? 'cancelled: prober is shutting down'
        : describeError(error);
    return {
      outcome: {
        status: 'error',
        event,
        message: context.message ?? `${url.protocol}//${url.host}${url.pathname}: ${reason}`,
        durationMs: elapsed,
        target: url.host,
        phases: Object.fromEntries(trace.marks),
      },
    };
  }

  async close(): Promise<void> {
    await this.connections.close();
  }
}

function forwardProxyHeaders(url: URL, proxy: URL): Record<string, string> {
  const authorization = proxyAuthorization(proxy);
  return authorization === undefined
    ? { host: url.host }
    : { host: url.host, 'proxy-authorization': authorization };
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  // Go: a 3xx without Location is returned as is, not followed.
  return value === undefined || value === '' ? undefined : value;
}

/** Resolves in the event loop's check phase, after the poll phase has run every ready I/O callback. */
function afterReadableSockets(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Go's Response.Status: the code and its reason phrase (the standard one; undici does not expose the server's). */
function statusText(code: number): string {
  const reason = STATUS_CODES[code];
  return reason === undefined ? String(code) : `${code} ${reason}`;
}
