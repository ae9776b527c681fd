// One HTTP probe with per-phase timings, as kubenurse's httptrace events, measured with
// performance.now() from the moment the probe starts.
//
// Why a dispatcher per probe: with a connector of our own we know exactly which socket
// belongs to which probe, so `lookup`/`connect`/`secureConnect` can be attributed without
// guessing, even when 50 probes run at once. By default the dispatcher (and its one
// connection) is destroyed after the probe, so every probe measures a fresh connect;
// KUBENURSE_REUSE_CONNECTIONS=true keeps up to two idle dispatchers per origin alive instead,
// each lent to one probe at a time.
import diagnostics from 'node:diagnostics_channel';
import { STATUS_CODES } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { Client, errors, type buildConnector } from 'undici';
import type { ProbeMetrics, TraceEvent } from '../metrics.ts';
import type { CheckOutcome } from '../checks/types.ts';
import { startDeadline, type Deadline } from './deadline.ts';
import { classifyFailure, type Progress } from './classify.ts';
import { describeError } from '../error-text.ts';
import type { TrustOptions } from './tls.ts';
import { openTunnel, proxyAuthorization } from './tunnel.ts';
import { proxyFor, type ProxySettings } from './proxy.ts';
import { isFollowedRedirect, RedirectChain, type Hop } from './redirect.ts';
import { basicAuthorization, withoutUserinfo } from './userinfo.ts';
import { bareHost } from '../url-host.ts';
import { exchange, type Exchange } from './exchange.ts';

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

/**
 * What a probe's dispatcher is destroyed with once the probe is over. Without one, undici makes
 * a new ClientDestroyedError per destroy and the socket's destroy formats its stack trace: about
 * a tenth of a millisecond of CPU per probe, for an error nobody reads (BENCHMARKS.md 1).
 */
const PROBE_OVER = new errors.ClientDestroyedError();

/** Bodies we do not need are still read (to see the response end) but never kept beyond this. */
const DISCARDED_BODY_LIMIT = 1024 * 1024;

interface Trace {
  /** Set when the request is handed to undici: creating our per-probe dispatcher is not network time. */
  start: number;
  readonly marks: Map<TraceEvent, number>;
  /**
   * When undici had parsed the response headers: the end of Go's RoundTrip, what the request
   * duration records. got_first_resp_byte is earlier: the first response bytes on the socket.
   */
  headersAt?: number;
}

/** Which probe is using a dispatcher right now; one holder per dispatcher, updated per probe. */
interface TraceHolder {
  current: Trace | undefined;
  /** The dispatcher's connection, once our connector opened it: destroyed with the probe. */
  socket?: Socket;
}

/** Socket → its dispatcher's holder; filled by our connector, read by the diagnostics hook. */
const socketTraces = new WeakMap<Socket, TraceHolder>();

function mark(trace: Trace, event: TraceEvent): void {
  if (!trace.marks.has(event)) trace.marks.set(event, performance.now() - trace.start);
}

// undici publishes when it has written a request's headers; a GET has no body, so that is
// kubenurse's wrote_request.
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const trace = socketTraces.get((message as { socket: Socket }).socket)?.current;
  if (trace) {
    mark(trace, 'got_conn');
    mark(trace, 'wrote_request');
  }
});

/**
 * Go's GotFirstResponseByte fires when the first byte of the response is read from the
 * connection, before the headers are parsed. The socket's first 'readable' with data after the
 * request was written is that moment; undici's parser runs after us (BENCHMARKS.md 1).
 */
function stampFirstByte(socket: Socket, holder: TraceHolder): void {
  socket.prependListener('readable', () => {
    const trace = holder.current;
    if (trace?.marks.has('wrote_request') && socket.readableLength > 0)
      mark(trace, 'got_first_resp_byte');
  });
}

type ConnectorFn = buildConnector.connector;

/** Go's client reads at most this much of a redirect's body before following it (maxBodySlurpSize). */
const REDIRECT_BODY_SLURP = 2 * 1024;
/** Go's DefaultMaxIdleConnsPerHost: keep-alive connections kept idle per origin. */
const MAX_IDLE_PER_ORIGIN = 2;
/** TCP keep-alive on kept connections (undici's default), so a dead peer is noticed while idle. */
const KEEP_ALIVE_PROBE_MS = 60_000;

/** One client (one connection) and the probe currently using it. */
interface Pooled {
  readonly client: Client;
  readonly holder: TraceHolder;
}

interface SentHop {
  readonly response: Exchange;
  readonly release: (broken: boolean) => void;
}

export class Prober {
  /** Parsed once: handing the CA list to every tls.connect would parse every root per probe. */
  private readonly secureContext: SecureContext;
  /** KUBENURSE_REUSE_CONNECTIONS: idle clients per origin; a client serves one probe at a time. */
  private readonly idle = new Map<string, Pooled[]>();
  private readonly live = new Set<Client>();
  private closed = false;

  private readonly options: ProberOptions;

  constructor(options: ProberOptions) {
    this.options = options;
    this.secureContext = createSecureContext({ ca: options.trust.ca, minVersion: 'TLSv1.2' });
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
    const trace: Trace = { start: performance.now(), marks: new Map() };
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
    const { client, release } = this.dispatcherFor(url, proxy, trace);
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
    this.recordPhases(target.type, trace);
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
    this.recordPhases(type, trace);
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
    this.recordPhases(type, trace);
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
    this.closed = true;
    const clients = [...this.live].map((client) => client.destroy());
    this.live.clear();
    this.idle.clear();
    await Promise.allSettled(clients);
  }

  private recordPhases(type: string, trace: Trace): void {
    for (const [event, ms] of trace.marks)
      this.options.metrics.observeTrace(type, event, ms / 1000);
  }

  private dispatcherFor(
    url: URL,
    proxy: URL | undefined,
    trace: Trace,
  ): { client: Client; release: (broken: boolean) => void } {
    if (!this.options.reuseConnections) {
      const holder: TraceHolder = { current: trace };
      const client = this.newClient(url, holder, proxy);
      return {
        client,
        release: () => {
          void client.destroy(PROBE_OVER).catch(() => {});
          // undici hands a socket still connecting (or in its TLS handshake) to nobody yet.
          holder.socket?.destroy();
        },
      };
    }
    // Like Go's Transport: a busy connection is never shared, so two probes of one origin at
    // the same time each get their own client, and each socket's phases belong to one probe.
    const key = `${url.origin} via ${proxy?.origin ?? 'direct'}`;
    let pooled = this.idle.get(key)?.pop();
    if (!pooled) {
      const holder: TraceHolder = { current: undefined };
      pooled = { client: this.newClient(url, holder, proxy), holder };
      this.live.add(pooled.client);
    }
    // A reused connection is attributed to this probe when undici writes on it.
    pooled.holder.current = trace;
    const taken = pooled;
    return {
      client: taken.client,
      release: (broken) => {
        taken.holder.current = undefined;
        let idle = this.idle.get(key);
        if (broken || this.closed || (idle !== undefined && idle.length >= MAX_IDLE_PER_ORIGIN)) {
          this.live.delete(taken.client);
          void taken.client.destroy(PROBE_OVER).catch(() => {});
          taken.holder.socket?.destroy();
          return;
        }
        if (idle === undefined) {
          idle = [];
          this.idle.set(key, idle);
        }
        idle.push(taken);
      },
    };
  }

  private newClient(url: URL, holder: TraceHolder, proxy: URL | undefined): Client {
    const tunnelled = proxy !== undefined && url.protocol === 'https:';
    const connect = tunnelled
      ? this.tunnelConnector(url, proxy, holder)
      : this.tracedConnector(proxy ?? url, holder);
    // Plain HTTP through a proxy talks to the proxy itself, with the absolute URL as the path.
    return new Client(proxy !== undefined && !tunnelled ? proxy.origin : url.origin, {
      connect,
      pipelining: 1,
      keepAliveTimeout: this.options.reuseConnections ? 30_000 : 1,
      bodyTimeout: 0,
      headersTimeout: 0,
    });
  }

  /**
   * Connects to `hop` (the target, or the proxy) and records dns/connect/tls phases of that
   * connection. Our own rather than undici's buildConnector: the trust is parsed once, there is
   * no TLS session cache (Go's client, without a ClientSessionCache, does a full handshake on
   * every fresh connection, and so must we for tls_handshake to mean the same), no connect
   * timer (the probe's deadline destroys the socket), and we hold the socket for the phase
   * stamps. TCP keep-alive only on connections that are kept (BENCHMARKS.md 1).
   */
  private tracedConnector(hop: URL, holder: TraceHolder, finalHop = true): ConnectorFn {
    const hopIsTls = hop.protocol === 'https:';
    const defaultPort = hopIsTls ? 443 : 80;
    return (opts, callback) => {
      const trace = holder.current;
      const host = bareHost(opts.hostname);
      const port = Number(opts.port) || defaultPort;
      const named = isIP(host) === 0;
      if (trace) mark(trace, named ? 'dns_start' : 'connect_start');
      const socket: Socket = hopIsTls
        ? tlsConnect({
            host,
            port,
            // No SNI for an IP literal; the certificate is then checked against the IP (as Go).
            servername: named ? host : undefined,
            secureContext: this.secureContext,
            rejectUnauthorized: !this.options.trust.insecure,
            ALPNProtocols: ['http/1.1'],
          })
        : netConnect({ host, port });
      holder.socket = socket;
      socketTraces.set(socket, holder);
      socket.setNoDelay(true);
      if (this.options.reuseConnections) socket.setKeepAlive(true, KEEP_ALIVE_PROBE_MS);
      if (trace) {
        if (named)
          socket.once('lookup', (error: Error | null) => {
            if (error) return;
            mark(trace, 'dns_done');
            mark(trace, 'connect_start');
          });
        socket.once('connect', () => {
          mark(trace, 'connect_done');
          if (hopIsTls && finalHop) mark(trace, 'tls_handshake_start');
        });
      }
      let settled = false;
      const onError = (error: Error) => {
        if (settled) return;
        settled = true;
        callback(error, null);
      };
      socket.once('error', onError);
      socket.once(hopIsTls ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        settled = true;
        socket.off('error', onError);
        const current = holder.current;
        if (current && finalHop) {
          if (hopIsTls) mark(current, 'tls_handshake_done');
          mark(current, 'got_conn');
        }
        if (finalHop) stampFirstByte(socket, holder);
        callback(null, socket);
      });
      return socket;
    };
  }

  /** HTTPS through a proxy: CONNECT, then our own TLS handshake with the target inside the tunnel. */
  private tunnelConnector(target: URL, proxy: URL, holder: TraceHolder): ConnectorFn {
    const toProxy = this.tracedConnector(proxy, holder, false);
    const proxyPort = proxy.port || (proxy.protocol === 'https:' ? '443' : '80');
    const targetHost = bareHost(target.hostname);
    const authority = `${target.hostname}:${target.port || '443'}`;
    return (_opts, callback) => {
      const trace = holder.current;
      let settled = false;
      const finish = (error: Error | null, socket?: Socket) => {
        if (settled) return;
        settled = true;
        if (error) callback(error, null);
        else if (socket) callback(null, socket);
        else callback(new Error('no socket'), null);
      };
      toProxy(
        {
          hostname: proxy.hostname,
          host: proxy.host,
          protocol: proxy.protocol,
          port: proxyPort,
          servername: proxy.protocol === 'https:' ? proxy.hostname : undefined,
        },
        (error, proxySocket) => {
          if (error || !proxySocket) return finish(error ?? new Error('no proxy connection'));
          openTunnel(proxySocket, authority, proxyAuthorization(proxy)).then(
            () => {
              if (trace) mark(trace, 'tls_handshake_start');
              const secure = tlsConnect({
                socket: proxySocket,
                servername: isIP(targetHost) === 0 ? targetHost : undefined,
                secureContext: this.secureContext,
                rejectUnauthorized: !this.options.trust.insecure,
                ALPNProtocols: ['http/1.1'],
              });
              holder.socket = secure;
              socketTraces.set(secure, holder);
              secure.once('secureConnect', () => {
                if (trace) {
                  mark(trace, 'tls_handshake_done');
                  mark(trace, 'got_conn');
                }
                stampFirstByte(secure, holder);
                finish(null, secure);
              });
              secure.once('error', (tlsError: Error) => finish(tlsError));
            },
            (tunnelError: Error) => {
              proxySocket.destroy();
              finish(tunnelError);
            },
          );
        },
      );
    };
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
