// HTTP(S) endpoints. Handlers only translate between HTTP and the components.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import express, { type Request } from 'express';
import type { Config } from './config.ts';
import type { AliveContributor } from './checks/types.ts';
import { resultMap } from './checks/round.ts';
import type { Scheduler } from './checks/scheduler.ts';
import type { IncomingChecks } from './incoming.ts';
import type { Logger } from './log.ts';
import type { ProbeMetrics } from './metrics.ts';
import { dictionary } from './dictionary.ts';

export const NEIGHBOUR_ORIGIN_HEADER = 'kubenurse-neighbour-origin';
export const ROUTES = {
  alive: '/alive',
  alwaysHappy: '/alwayshappy',
  ready: '/ready',
  metrics: '/metrics',
  root: '/',
} as const;

export interface ServerDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly metrics: ProbeMetrics;
  readonly incoming: IncomingChecks;
  readonly contributors: readonly AliveContributor[];
  /** false → /ready answers 503 (shutting down, or own node unschedulable). */
  readonly ready: () => boolean;
  /** Extra routes (status page) mounted before the defaults. */
  readonly extend?: (app: express.Express) => void;
}

/** Go's http.Header shape (canonical names → value lists), so /alive matches kubenurse's JSON. */
function goHeaders(req: Request): Record<string, string[]> {
  const out = dictionary<string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string)
      .toLowerCase()
      .replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
    (out[name] ??= []).push(raw[i + 1] as string);
  }
  return out;
}

// JSON.rawJSON (Node 21+) writes a number's digits verbatim; TypeScript's lib does not know it yet.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** kubenurse's NodeHash is a uint64: written as an exact JSON number, not a rounded double. */
export function stringifyAlive(body: unknown): string {
  return JSON.stringify(
    body,
    (_key, value: unknown) => (typeof value === 'bigint' ? rawJson(value.toString()) : value),
    1,
  );
}

export function createApp(deps: ServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  deps.extend?.(app);

  app.get(ROUTES.alive, async (req, res) => {
    const result = await deps.scheduler.result();
    const body: Record<string, unknown> = {
      hostname: hostname(),
      headers: goHeaders(req),
      user_agent: req.get('user-agent') ?? '',
      request_uri: req.originalUrl,
      remote_addr: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
      last_check_result: resultMap(result),
    };
    for (const contributor of deps.contributors) Object.assign(body, contributor.aliveFields());
    res.type('application/json').send(`${stringifyAlive(body)}\n`);
  });

  app.get(ROUTES.alwaysHappy, (req, res) => {
    const origin = req.get(NEIGHBOUR_ORIGIN_HEADER);
    if (origin !== undefined) deps.incoming.record(origin);
    res.status(200).end();
  });

  app.get(ROUTES.ready, (_req, res) => {
    res.status(deps.ready() ? 200 : 503).end();
  });

  app.get(ROUTES.metrics, async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.render());
  });

  app.get(ROUTES.root, (_req, res) => {
    res.redirect(302, ROUTES.alive);
  });

  app.use(
    (error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      deps.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) res.status(500).json({ error: 'internal error' });
    },
  );
  return app;
}

export interface RunningServer {
  readonly servers: readonly Server[];
  /**
   * Stops accepting, closes idle keep-alive connections at once and every other connection
   * after `graceMs`: by then the shutdown drain is over, and a client holding a connection
   * without a complete request (or a TLS handshake) must not keep the process alive.
   */
  close(graceMs?: number): Promise<void>;
}

/** In-flight responses get this long after the drain window before their connection is cut. */
export const CLOSE_GRACE_MS = 500;

/** A burst of neighbours, scrapers and /alive callers must not overflow Node's default 511. */
const LISTEN_BACKLOG = 4096;

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, LISTEN_BACKLOG, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const app = createApp(deps);
  const { config } = deps;
  const servers: Server[] = [createHttpServer(app)];
  await listen(servers[0] as Server, config.port, config.bindAddress);
  if (config.useTls && config.certFile !== undefined && config.certKey !== undefined) {
    const https = createHttpsServer(
      {
        cert: readFileSync(config.certFile),
        key: readFileSync(config.certKey),
        minVersion: 'TLSv1.2',
      },
      app,
    );
    servers.push(https);
    await listen(https, config.tlsPort, config.bindAddress);
  }
  for (const server of servers) {
    // Slow or idle clients must not pin sockets forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
  }
  // Raw sockets, from accept on: the HTTP connection list does not hold TLS handshakes.
  const sockets = new Set<Socket>();
  for (const server of servers) {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  }
  return {
    servers,
    close: async (graceMs = CLOSE_GRACE_MS) => {
      const closed = Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
      const cut = setTimeout(() => {
        for (const server of servers) server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}
