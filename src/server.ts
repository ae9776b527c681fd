// HTTP(S) endpoints. Handlers only translate between HTTP and the components.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import express from 'express';
import { aliveDocument, stringifyAlive } from './alive.ts';
import type { Config } from './config.ts';
import type { Scheduler } from './checks/scheduler.ts';
import type { IncomingChecks } from './incoming.ts';
import { listenEveryFamily, listenOn } from './listen.ts';
import type { Logger } from './log.ts';
import type { ProbeMetrics } from './metrics.ts';
import { NEIGHBOUR_ORIGIN_HEADER } from './neighbours/pod-path.ts';
import type { ProberState } from './state.ts';

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
  readonly state: ProberState;
  /** false → /ready answers 503 (shutting down, or own node unschedulable). */
  readonly ready: () => boolean;
  /** Extra routes (status page) mounted before the defaults. */
  readonly extend?: (app: express.Express) => void;
}

function createApp(deps: ServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // As Go's ServeMux: /alive/ is not /alive (it falls to the redirect).
  app.set('strict routing', true);
  deps.extend?.(app);

  // kubenurse's routes answer every method (Go's HandleFunc has none).
  app.all(ROUTES.alive, async (req, res) => {
    // kubenurse answers 500 until its first round has finished.
    if (deps.scheduler.lastResult === undefined) {
      res.status(500).end();
      return;
    }
    const result = await deps.scheduler.result();
    const body = aliveDocument({
      hostname: hostname(),
      request: {
        rawHeaders: req.rawHeaders,
        requestUri: req.originalUrl,
        remoteAddress: req.socket.remoteAddress,
        remotePort: req.socket.remotePort,
      },
      result,
      neighbourhood: deps.state.neighbourhood(),
      kubeProxy: deps.state.kubeProxy(),
    });
    res.type('application/json').send(stringifyAlive(body));
  });

  app.all(ROUTES.alwaysHappy, (req, res) => {
    const origin = req.get(NEIGHBOUR_ORIGIN_HEADER);
    if (origin !== undefined && origin !== '') deps.incoming.record(origin);
    res.status(200).end();
  });

  app.all(ROUTES.ready, (_req, res) => {
    res.status(deps.ready() ? 200 : 503).end();
  });

  app.all(ROUTES.metrics, async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.render());
  });

  // kubenurse's "/" pattern matches every other path: a permanent redirect to /alive.
  app.use((_req, res) => {
    res.redirect(301, ROUTES.alive);
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
  /** The address listened on: KUBENURSE_BIND_ADDRESS, "::" (every family) or "0.0.0.0" (no IPv6). */
  readonly address: string;
  /**
   * Stops accepting, closes idle keep-alive connections at once and every other connection
   * after `graceMs`: by then the shutdown drain is over, and a client holding a connection
   * without a complete request (or a TLS handshake) must not keep the process alive.
   */
  close(graceMs?: number): Promise<void>;
}

/** In-flight responses get this long after the drain window before their connection is cut. */
const CLOSE_GRACE_MS = 500;

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const app = createApp(deps);
  const { config } = deps;
  const servers: Server[] = [createHttpServer(app)];
  const { logger } = deps;
  const bound = await listenEveryFamily(
    servers[0] as Server,
    config.port,
    config.bindAddress,
    logger,
  );
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
    await listenOn(https, config.tlsPort, bound);
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
    address: bound,
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
