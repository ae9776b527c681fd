// The status page: served by every prober at `/` to browsers (anything else still gets
// kubenurse's redirect to /alive), plus `/status.json`, which the page polls and which
// neighbours read from each other (`?view=self`) to fill the cluster matrix.
// app.ts puts observe() around the round runner, so the page can show each check's last
// error after it recovered, and mount()s the routes on the prober's server.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import type { RoundExecutor, Scheduler } from '../checks/scheduler.ts';
import type { ProberState } from '../state.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { registerStatusPageMetrics, type ProbeMetrics } from '../metrics.ts';
import { ClusterCollector, SELF_VIEW, STATUS_PATH } from './cluster.ts';
import { JsonFetcher } from './fetch.ts';
import { LastErrors } from './last-errors.ts';
import { neighbourEntry, selfStatus, type OwnState } from './snapshot.ts';
import { ROW_ANSWER_MAX_BYTES, ROW_CELLS, rowAnswer, wantedNodes } from './row-view.ts';
import type { CheckView, FullStatus, SelfStatus } from './types.ts';

export { STATUS_PATH } from './cluster.ts';
export type * from './types.ts';

/**
 * Where index.html, status.css and status.js live. Running from source that is
 * src/status/static/; the production bundle (dist/main.js) finds them in dist/static/, which
 * scripts/bundle.mjs copies there.
 */
export const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
export const PAGE_PATH = '/status.html';
export const ASSET_PREFIX = '/status/';
const ASSETS: Readonly<Record<string, string>> = {
  'status.css': 'text/css; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
};

/** Neighbours read at once, their deadline and answer sizes, and how many rows the page shows. */
export const CLUSTER_LIMITS = {
  /** Each answer is held whole while it is parsed: a few at once keep that to a few hundred KB. */
  concurrency: 4,
  timeoutMs: 1000,
  /** A row answer is at most ROW_ANSWER_BUDGET; more is an older prober's whole self view or worse. */
  rowMaxBytes: ROW_ANSWER_MAX_BYTES,
  /**
   * A plain kubenurse's /alive lists every neighbour (~200 B each): 4 MiB is ~20,000 of them.
   * It is read as it streams and only its check results are kept, up to aliveKeptMaxBytes.
   */
  aliveMaxBytes: 4 * 1024 * 1024,
  aliveKeptMaxBytes: 256 * 1024,
  maxRows: 50,
} as const;

/** How long a built /status.json answer is served again (the page refreshes every 2 s or more). */
const SNAPSHOT_TTL_MS = 1000;
/** This prober's checks listed on the page; with KUBENURSE_NEIGHBOUR_LIMIT=0 there is one per node. */
export const MAX_LISTED_CHECKS = 200;

/** The neighbourhood list in the full view (the page does not draw it; API readers may). */
export const MAX_LISTED_NEIGHBOURS = 1000;

/** At most MAX_LISTED_CHECKS, failures first, in the usual order. */
function listedChecks(checks: readonly CheckView[]): CheckView[] {
  if (checks.length <= MAX_LISTED_CHECKS) return [...checks];
  const failing = checks.filter((check) => check.status === 'error');
  const others = checks.filter((check) => check.status !== 'error');
  const kept = new Set([...failing, ...others].slice(0, MAX_LISTED_CHECKS));
  return checks.filter((check) => kept.has(check));
}

// Everything the page needs comes from this prober: no CDN, no inline script.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors " +
  "'none'";

export interface StatusPageOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: ProbeMetrics;
  readonly state: ProberState;
  /** This prober's node, once known (KUBENURSE_NODE_NAME or the own pod's spec.nodeName). */
  readonly nodeName?: () => string | undefined;
}

/** Browsers list text/html explicitly; curl (`*\/*`), Prometheus and kubenurse clients do not. */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

function readAssets(logger: Logger): Map<string, string> | undefined {
  try {
    const files = new Map<string, string>([
      ['index.html', readFileSync(`${STATIC_DIR}index.html`, 'utf8')],
    ]);
    for (const name of Object.keys(ASSETS))
      files.set(name, readFileSync(`${STATIC_DIR}${name}`, 'utf8'));
    return files;
  } catch (error) {
    logger.warn(
      { dir: STATIC_DIR, err: error },
      'status page files not found; / keeps redirecting to /alive and /status.json still works',
    );
    return undefined;
  }
}

/**
 * The serialized answer for one view. Requests that arrive while it is being built, or within
 * SNAPSHOT_TTL_MS after, with the same key get the same string: concurrent page views cost one
 * build and one copy in memory, not one each. One slot: a different key replaces it.
 */
class SharedAnswer {
  private entry: { key: string; at: number; done: boolean; body: Promise<string> } | undefined;

  get(key: string, build: () => Promise<unknown>): Promise<string> {
    const cached = this.entry;
    if (cached?.key === key && (!cached.done || Date.now() - cached.at < SNAPSHOT_TTL_MS))
      return cached.body;
    const entry = { key, at: Date.now(), done: false, body: Promise.resolve('') };
    entry.body = build()
      .then((value) => `${JSON.stringify(value)}\n`)
      .finally(() => {
        entry.done = true;
        entry.at = Date.now();
      });
    entry.body.catch(() => {
      if (this.entry === entry) this.entry = undefined;
    });
    this.entry = entry;
    return entry.body;
  }
}

export class StatusPage {
  private readonly options: StatusPageOptions;
  private readonly lastErrors = new LastErrors();
  private readonly fetcher = new JsonFetcher({ timeoutMs: CLUSTER_LIMITS.timeoutMs });
  private readonly cluster: ClusterCollector;
  private readonly assets: Map<string, string> | undefined;
  /** One shared answer per kind of view; a row answer is shared by askers naming the same nodes. */
  private readonly snapshots = {
    full: new SharedAnswer(),
    self: new SharedAnswer(),
    row: new SharedAnswer(),
  };

  constructor(options: StatusPageOptions) {
    this.options = options;
    const { neighbourReadFailures } = registerStatusPageMetrics(options.metrics.registry);
    this.cluster = new ClusterCollector({
      fetcher: this.fetcher,
      port: options.config.port,
      concurrency: CLUSTER_LIMITS.concurrency,
      rowMaxBytes: CLUSTER_LIMITS.rowMaxBytes,
      aliveMaxBytes: CLUSTER_LIMITS.aliveMaxBytes,
      aliveKeptMaxBytes: CLUSTER_LIMITS.aliveKeptMaxBytes,
      maxRows: CLUSTER_LIMITS.maxRows,
      cacheTtlMs: options.config.cacheTtlMs,
      onUnreachable: (neighbour, error) => {
        neighbourReadFailures.inc();
        options.logger.debug(
          { node: neighbour.nodeName, podIP: neighbour.podIP, err: error },
          'status page: neighbour not readable',
        );
      },
    });
    this.assets = readAssets(options.logger);
  }

  /** Wraps the round executor so every round's failures are remembered, viewed or not. */
  observe(executor: RoundExecutor): RoundExecutor {
    return this.lastErrors.observe(executor);
  }

  self(scheduler: Scheduler, state: OwnState = this.ownState()): SelfStatus {
    const { config } = this.options;
    return selfStatus({
      result: scheduler.lastResult,
      lastErrors: this.lastErrors,
      state,
      node: this.options.nodeName?.() ?? config.nodeName,
      pod: config.podName,
      refreshMs: Math.min(10_000, Math.max(2000, config.checkIntervalMs)),
    });
  }

  async full(scheduler: Scheduler): Promise<FullStatus> {
    // The state is read once: at 5,000 nodes the neighbourhood list is long.
    const state = this.ownState();
    const self = this.self(scheduler, state);
    const neighbourhood = state.neighbourhood.neighbours.map(neighbourEntry);
    const cluster = await this.cluster.view(self, neighbourhood);
    const listed = listedChecks(self.checks);
    return {
      ...self,
      checks: listed,
      moreChecks: self.checks.length - listed.length,
      neighbourhood: neighbourhood.slice(0, MAX_LISTED_NEIGHBOURS),
      moreNeighbours: Math.max(0, neighbourhood.length - MAX_LISTED_NEIGHBOURS),
      cluster,
    };
  }

  private ownState(): OwnState {
    return {
      neighbourhood: this.options.state.neighbourhood(),
      kubeProxy: this.options.state.kubeProxy(),
    };
  }

  mount(app: express.Express, scheduler: Scheduler): void {
    const sendPage = (res: express.Response): void => {
      if (!this.assets) {
        res
          .status(503)
          .type('text/plain')
          .send(`status page files are missing (${STATIC_DIR}); the data is at ${STATUS_PATH}\n`);
        return;
      }
      res.set({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        vary: 'Accept',
      });
      res.type('text/html; charset=utf-8').send(this.assets.get('index.html'));
    };

    app.get('/', (req, res, next) => {
      if (wantsHtml(req.get('accept')) && this.assets) sendPage(res);
      else next();
    });
    app.get(PAGE_PATH, (_req, res) => sendPage(res));
    app.get(`${ASSET_PREFIX}:file`, (req, res, next) => {
      const file = String(req.params.file);
      const contentType = ASSETS[file];
      const body = this.assets?.get(file);
      if (contentType === undefined || body === undefined) {
        next();
        return;
      }
      res
        .set({ 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
        .type(contentType)
        .send(body);
    });
    app.get(STATUS_PATH, async (req, res) => {
      res.set({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      // Neighbours ask for the self view only: the full view would make them fetch theirs in turn.
      // Ours ask for their matrix row of it (row-view.ts); older ones, and people, the whole.
      let body: Promise<string>;
      if (req.query.view !== SELF_VIEW)
        body = this.snapshots.full.get('', () => this.full(scheduler));
      else if (req.query.cells === ROW_CELLS) {
        const wanted = wantedNodes(req.query.nodes);
        body = this.snapshots.row.get([...wanted].join(','), () =>
          Promise.resolve(rowAnswer(this.self(scheduler), wanted)),
        );
      } else body = this.snapshots.self.get('', () => Promise.resolve(this.self(scheduler)));
      res.type('application/json').send(await body);
    });
  }

  async close(): Promise<void> {
    await this.fetcher.close();
  }
}
