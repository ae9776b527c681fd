// The connections probes are sent on: an undici Client per connection, opened by a connector of
// our own, and (with KUBENURSE_REUSE_CONNECTIONS=true) the keep-alive pool.
//
// Why a Client per probe: with a connector of our own we know exactly which socket belongs to
// which probe, so `lookup`/`connect`/`secureConnect` can be attributed without guessing, even
// when 50 probes run at once. By default the Client (and its one connection) is destroyed after
// the probe, so every probe measures a fresh connect; KUBENURSE_REUSE_CONNECTIONS=true keeps up
// to two idle Clients per origin alive instead, each lent to one probe at a time.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { Client, errors, type buildConnector } from 'undici';
import { bareHost } from '../url-host.ts';
import type { TrustOptions } from './tls.ts';
import { mark, stampFirstByte, traceSocket, type Trace, type TraceHolder } from './trace.ts';
import { openTunnel, proxyAuthorization } from './tunnel.ts';

export interface ConnectionOptions {
  readonly trust: TrustOptions;
  readonly reuseConnections: boolean;
}

/** A Client lent to one probe; `release` hands it back, or destroys it when `broken`. */
export interface Lease {
  readonly client: Client;
  readonly release: (broken: boolean) => void;
}

/**
 * What a probe's dispatcher is destroyed with once the probe is over. Without one, undici makes
 * a new ClientDestroyedError per destroy and the socket's destroy formats its stack trace: about
 * a tenth of a millisecond of CPU per probe, for an error nobody reads (BENCHMARKS.md 1).
 */
const PROBE_OVER = new errors.ClientDestroyedError();

/** Go's DefaultMaxIdleConnsPerHost: keep-alive connections kept idle per origin. */
const MAX_IDLE_PER_ORIGIN = 2;
/** TCP keep-alive on kept connections (undici's default), so a dead peer is noticed while idle. */
const KEEP_ALIVE_PROBE_MS = 60_000;

type ConnectorFn = buildConnector.connector;

/** A Client's one connection: whose probe it serves, and the socket to destroy with it. */
interface Slot extends TraceHolder {
  /** The connection, once our connector opened it: undici does not yet own one still connecting. */
  socket?: Socket;
}

/** One client (one connection) and the probe currently using it. */
interface Pooled {
  readonly client: Client;
  readonly slot: Slot;
}

export class Connections {
  /** Parsed once: handing the CA list to every tls.connect would parse every root per probe. */
  private readonly secureContext: SecureContext;
  /** KUBENURSE_REUSE_CONNECTIONS: idle clients per origin; a client serves one probe at a time. */
  private readonly idle = new Map<string, Pooled[]>();
  private readonly live = new Set<Client>();
  private closed = false;

  private readonly options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.secureContext = createSecureContext({ ca: options.trust.ca, minVersion: 'TLSv1.2' });
  }

  /**
   * A Client for `url` (through `proxy` when set) whose connection stamps its phases on `trace`.
   * The caller releases it once the hop is over.
   */
  lend(url: URL, proxy: URL | undefined, trace: Trace): Lease {
    if (!this.options.reuseConnections) {
      const slot: Slot = { current: trace };
      const client = this.newClient(url, slot, proxy);
      return {
        client,
        release: () => {
          void client.destroy(PROBE_OVER).catch(() => {});
          // undici hands a socket still connecting (or in its TLS handshake) to nobody yet.
          slot.socket?.destroy();
        },
      };
    }
    // Like Go's Transport: a busy connection is never shared, so two probes of one origin at
    // the same time each get their own client, and each socket's phases belong to one probe.
    const key = `${url.origin} via ${proxy?.origin ?? 'direct'}`;
    let pooled = this.idle.get(key)?.pop();
    if (!pooled) {
      const slot: Slot = { current: undefined };
      pooled = { client: this.newClient(url, slot, proxy), slot };
      this.live.add(pooled.client);
    }
    // A reused connection is attributed to this probe when undici writes on it.
    pooled.slot.current = trace;
    const taken = pooled;
    return {
      client: taken.client,
      release: (broken) => {
        taken.slot.current = undefined;
        let idle = this.idle.get(key);
        if (broken || this.closed || (idle !== undefined && idle.length >= MAX_IDLE_PER_ORIGIN)) {
          this.live.delete(taken.client);
          void taken.client.destroy(PROBE_OVER).catch(() => {});
          taken.slot.socket?.destroy();
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

  /** Destroys every kept connection; a lease released afterwards is destroyed, not kept. */
  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.live].map((client) => client.destroy());
    this.live.clear();
    this.idle.clear();
    await Promise.allSettled(clients);
  }

  private newClient(url: URL, slot: Slot, proxy: URL | undefined): Client {
    const tunnelled = proxy !== undefined && url.protocol === 'https:';
    const connect = tunnelled
      ? this.tunnelConnector(url, proxy, slot)
      : this.tracedConnector(proxy ?? url, slot);
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
  private tracedConnector(hop: URL, slot: Slot, finalHop = true): ConnectorFn {
    const hopIsTls = hop.protocol === 'https:';
    const defaultPort = hopIsTls ? 443 : 80;
    return (opts, callback) => {
      const trace = slot.current;
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
      slot.socket = socket;
      traceSocket(socket, slot);
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
        const current = slot.current;
        if (current && finalHop) {
          if (hopIsTls) mark(current, 'tls_handshake_done');
          mark(current, 'got_conn');
        }
        if (finalHop) stampFirstByte(socket, slot);
        callback(null, socket);
      });
      return socket;
    };
  }

  /** HTTPS through a proxy: CONNECT, then our own TLS handshake with the target inside the tunnel. */
  private tunnelConnector(target: URL, proxy: URL, slot: Slot): ConnectorFn {
    const toProxy = this.tracedConnector(proxy, slot, false);
    const proxyPort = proxy.port || (proxy.protocol === 'https:' ? '443' : '80');
    const targetHost = bareHost(target.hostname);
    const authority = `${target.hostname}:${target.port || '443'}`;
    return (_opts, callback) => {
      const trace = slot.current;
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
              slot.socket = secure;
              traceSocket(secure, slot);
              secure.once('secureConnect', () => {
                if (trace) {
                  mark(trace, 'tls_handshake_done');
                  mark(trace, 'got_conn');
                }
                stampFirstByte(secure, slot);
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
