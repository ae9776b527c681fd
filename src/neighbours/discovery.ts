// Neighbour discovery: a pod informer (the prober pods, by label selector, in our namespace)
// and a node informer (schedulability, autoscaler removal, deletion), built on client-node's
// ListWatch. Check rounds read the caches; no API request per round.
//
// What client-node 2.0's ListWatch does by itself, and what we add around it:
// - A watch stream that ends cleanly is re-opened from the last resourceVersion, with its
//   own doubling delay (1 s … 30 s, reset by every event). We add jitter to that delay and
//   to every reconnect, so thousands of probers do not reconnect in lockstep.
// - 410 Gone (as HTTP status or as an ERROR event) → it re-lists and re-watches by itself.
// - Anything else (list failure, connection refused, 5xx on the watch) → it calls its error
//   callbacks and STOPS for good. We restart it with exponential backoff and jitter; it
//   resumes from the last resourceVersion (410 → re-list) and keeps its cache meanwhile,
//   which is the "last known set" rounds keep using while discovery is stale.
// - Its watch request timeout (connect, then inactivity; we raise its 30 s to 2 min) ends a
//   hung watch; it then reconnects at once. We count a watch that times out before it was
//   ever established as a failure, so a hung apiserver shows up as stale discovery.
// - It does not ask for bookmarks nor set a server-side watch timeout; we add both
//   (allowWatchBookmarks, timeoutSeconds 5–10 min), as client-go's reflector does.
// - Its list has no timeout and no size limit, and a Watch whose token file cannot be read
//   rejects outside any promise chain; we supply our own list (bounded time and size) and
//   wrap the watch so neither can hang discovery or crash the process.
// Objects are reduced to small summaries before they enter the caches (see objects.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import {
  ADD,
  DELETE,
  ERROR,
  HttpMethod,
  KubeConfig,
  ListWatch,
  RequestContext,
  UPDATE,
  Watch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import { request, type Dispatcher } from 'undici';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { METRIC_PREFIX } from '../metrics.ts';
import type { NodeLookup } from './filter.ts';
import { summariseNode, summarisePod, type NodeSummary, type PodSummary } from './objects.ts';

export interface DiscoveryTuning {
  /** Deadline of one list request; also reported as the error when the apiserver hangs. */
  readonly listTimeoutMs: number;
  /**
   * client-node's watch timeout: for the response headers, then for inactivity. Longer than
   * the apiserver's bookmark interval (about a minute), so a quiet watch is not re-opened
   * for nothing; a hung apiserver is noticed after this long.
   */
  readonly watchTimeoutMs: number;
  /** Each watch asks the apiserver to end it after a random time in this range (client-go does the same). */
  readonly watchDurationSeconds: readonly [number, number];
  /** Largest list response accepted. */
  readonly maxListBytes: number;
  /** Restart backoff after a failure: initial delay, doubled up to max, each with ±50 % jitter. */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Random delay before re-opening a watch that ended, so probers spread out. */
  readonly reconnectJitterMs: number;
}

export const DEFAULT_TUNING: DiscoveryTuning = {
  listTimeoutMs: 30_000,
  watchTimeoutMs: 120_000,
  watchDurationSeconds: [300, 600],
  maxListBytes: 64 * 1024 * 1024,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  reconnectJitterMs: 1000,
};

export interface DiscoveryOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Where the discovery gauges and counters are registered (the prober's registry). */
  readonly registry: Registry;
  readonly tuning?: Partial<DiscoveryTuning>;
}

export interface DiscoveryStatus {
  /** 'ok', or why the caches cannot be trusted (not synced yet, or stale with the last error). */
  readonly state: string;
  readonly stale: boolean;
}

type Summary = KubernetesObject & { readonly metadata: { readonly name: string } };

const MAX_ERROR_TEXT = 300;

/** One line, bounded, with the status code or socket error that matters. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, MAX_ERROR_TEXT);
  const withCode = error as Error & { statusCode?: number; code?: unknown; cause?: unknown };
  const parts = [error.message || error.name];
  if (typeof withCode.statusCode === 'number' && !error.message.includes(String(withCode.statusCode))) parts.push(`HTTP ${withCode.statusCode}`);
  const cause = withCode.cause;
  if (cause instanceof Error) {
    const causeCode = (cause as Error & { code?: unknown }).code;
    parts.push(typeof causeCode === 'string' ? `${causeCode} ${cause.message}`.trim() : cause.message);
  }
  return parts.join(': ').replace(/\s+/g, ' ').slice(0, MAX_ERROR_TEXT);
}

function sameExceptVersion(a: Summary, b: Summary): boolean {
  const strip = (summary: Summary) => JSON.stringify({ ...summary, metadata: { ...summary.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}

class ApiError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

/** KUBECONFIG outside a cluster, else the service account of the pod. */
export function loadKubeConfig(config: Config): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig !== undefined) {
    kubeConfig.loadFromFile(config.kubeconfig);
    if (!kubeConfig.getCurrentCluster()) throw new Error(`kubeconfig ${config.kubeconfig} has no current cluster`);
    return kubeConfig;
  }
  if (config.apiServerHost === undefined || config.apiServerPort === undefined) {
    throw new Error('no Kubernetes API configured: set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST/PORT)');
  }
  const host = isIP(config.apiServerHost) === 6 ? `[${config.apiServerHost}]` : config.apiServerHost;
  kubeConfig.loadFromClusterAndUser(
    { name: 'in-cluster', server: `https://${host}:${config.apiServerPort}`, caFile: join(config.serviceAccountDir, 'ca.crt'), skipTLSVerify: false },
    // client-node's token-file provider re-reads the (rotating, bound) token every minute.
    { name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: join(config.serviceAccountDir, 'token') } } },
  );
  return kubeConfig;
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new Error(`list response larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface InformerHooks {
  onChange(): void;
  onStatusChange(): void;
  onError(resource: string, message: string, willRetryInMs: number | undefined): void;
  onRecovered(resource: string): void;
}

/** One resource's ListWatch with our list, our watch wrapper and a restart loop. */
class ResourceInformer<T extends Summary> {
  readonly resource: string;
  /** Listed at least once: the cache reflects the cluster (perhaps an older state of it). */
  synced = false;
  /** The last list or watch attempt failed and nothing has succeeded since. */
  lastError: string | undefined;
  staleSince: Date | undefined;

  private readonly kubeConfig: KubeConfig;
  private readonly tuning: DiscoveryTuning;
  private readonly hooks: InformerHooks;
  private readonly path: string;
  private readonly labelSelector: string | undefined;
  private readonly summarise: (raw: unknown) => T | undefined;
  private readonly informer: ListWatch<T>;
  private readonly stopping = new AbortController();
  private attempt = 0;
  /** Set by the watch just before client-node applies a MODIFIED event (and fires UPDATE). */
  private pendingUpdateSignificant: boolean | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(options: {
    resource: string;
    path: string;
    labelSelector: string | undefined;
    summarise: (raw: unknown) => T | undefined;
    kubeConfig: KubeConfig;
    tuning: DiscoveryTuning;
    hooks: InformerHooks;
  }) {
    this.resource = options.resource;
    this.path = options.path;
    this.labelSelector = options.labelSelector;
    this.summarise = options.summarise;
    this.kubeConfig = options.kubeConfig;
    this.tuning = options.tuning;
    this.hooks = options.hooks;
    const watch = new ObservedWatch(this.kubeConfig, {
      summarise: (raw) => this.summarise(raw),
      watchDurationSeconds: this.tuning.watchDurationSeconds,
      beforeModified: (summary) => {
        const cached = this.informer.get(summary.metadata.name, summary.metadata.namespace);
        this.pendingUpdateSignificant = cached === undefined || !sameExceptVersion(cached, summary);
      },
      afterModified: () => void (this.pendingUpdateSignificant = undefined),
      stopSignal: this.stopping.signal,
      jitterMs: this.tuning.reconnectJitterMs,
      onEstablished: () => this.succeeded(),
      onHungWatch: (error) => this.failed(error, false),
    });
    // Private in client-node's typings, but read on every request: the watch deadline.
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.tuning.watchTimeoutMs;
    this.informer = new ListWatch<T>(this.path, watch, () => this.listFromApi(), false, this.labelSelector, undefined, {
      // client-node's own reconnect delay, spread by ±50 %; never rejects (a rejection here
      // would escape client-node as an unhandled rejection).
      delayFn: (ms) => sleep(ms * (0.5 + Math.random()), undefined, { signal: this.stopping.signal }).catch(() => undefined),
    });
    const changed = () => this.hooks.onChange();
    this.informer.on(ADD, changed);
    this.informer.on(DELETE, changed);
    // Nodes post status all the time; only a change of what the filters read counts.
    this.informer.on(UPDATE, () => {
      const significant = this.pendingUpdateSignificant;
      this.pendingUpdateSignificant = undefined;
      if (significant !== false) changed();
    });
    // client-node has given up on this error; we restart it.
    this.informer.on(ERROR, (error) => this.failed(error, true));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  private run(): void {
    if (this.stopping.signal.aborted) return;
    this.informer.start().catch((error: unknown) => this.failed(error, true));
  }

  private succeeded(): void {
    if (this.stopping.signal.aborted) return;
    const wasBroken = this.lastError !== undefined;
    this.attempt = 0;
    this.lastError = undefined;
    this.staleSince = undefined;
    if (wasBroken) this.hooks.onRecovered(this.resource);
    this.hooks.onStatusChange();
  }

  private failed(error: unknown, restart: boolean): void {
    if (this.stopping.signal.aborted) return;
    const message = describeError(error);
    this.lastError = message;
    this.staleSince ??= new Date();
    let delay: number | undefined;
    if (restart) {
      const base = Math.min(this.tuning.backoffMaxMs, this.tuning.backoffInitialMs * 2 ** this.attempt);
      this.attempt++;
      delay = Math.round(base * (0.5 + Math.random()));
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => this.run(), delay);
    }
    this.hooks.onError(this.resource, message, delay);
    this.hooks.onStatusChange();
  }

  /** Our list function for ListWatch: bounded in time and size, objects summarised. */
  private async listFromApi(): Promise<KubernetesListObject<T>> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(`${cluster.server.replace(/\/+$/, '')}${this.path}`);
    if (this.labelSelector) url.searchParams.set('labelSelector', this.labelSelector);
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    await this.kubeConfig.applySecurityAuthentication(context);
    const dispatcher = context.getDispatcher() as Dispatcher | undefined;
    const signal = AbortSignal.any([AbortSignal.timeout(this.tuning.listTimeoutMs), this.stopping.signal]);
    try {
      const response = await request(url, {
        method: 'GET',
        headers: { ...context.getHeaders(), accept: 'application/json' },
        signal,
        ...(dispatcher ? { dispatcher } : {}),
      }).catch((error: unknown) => {
        throw signal.aborted && !this.stopping.signal.aborted ? new Error(`list ${this.resource}: no answer within ${this.tuning.listTimeoutMs} ms`) : error;
      });
      const text = await readBounded(response.body, this.tuning.maxListBytes);
      if (response.statusCode !== 200) {
        let reason = '';
        try {
          reason = String((JSON.parse(text) as { message?: unknown }).message ?? '');
        } catch {
          // not a Status object; the code says enough
        }
        throw new ApiError(response.statusCode, `list ${this.resource}: HTTP ${response.statusCode}${reason ? ` ${reason.slice(0, 120)}` : ''}`);
      }
      const body = JSON.parse(text) as { metadata?: { resourceVersion?: unknown }; items?: unknown };
      if (!Array.isArray(body.items)) throw new Error(`list ${this.resource}: response has no items`);
      const items = body.items.map((item) => this.summarise(item)).filter((item): item is T => item !== undefined);
      const resourceVersion = typeof body.metadata?.resourceVersion === 'string' ? body.metadata.resourceVersion : '';
      this.synced = true;
      this.succeeded();
      // client-node fills the cache from this list right after we return, before any round can run.
      this.hooks.onChange();
      return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items };
    } finally {
      void dispatcher?.close().catch(() => undefined);
    }
  }
}

interface WatchHooks {
  summarise(raw: unknown): Summary | undefined;
  beforeModified(summary: Summary): void;
  afterModified(): void;
  readonly watchDurationSeconds: readonly [number, number];
  readonly stopSignal: AbortSignal;
  readonly jitterMs: number;
  onEstablished(): void;
  onHungWatch(error: Error): void;
}

/** client-node's Watch, observed: summaries into the cache, establishment and hangs reported, never rejects. */
class ObservedWatch extends Watch {
  private readonly hooks: WatchHooks;
  private opened = 0;

  constructor(kubeConfig: KubeConfig, hooks: WatchHooks) {
    super(kubeConfig);
    this.hooks = hooks;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    const { stopSignal } = this.hooks;
    if (this.opened++ > 0 && this.hooks.jitterMs > 0) await sleep(Math.random() * this.hooks.jitterMs, undefined, { signal: stopSignal }).catch(() => undefined);
    if (stopSignal.aborted) return new AbortController();
    const [shortest, longest] = this.hooks.watchDurationSeconds;
    const query = {
      ...queryParams,
      // Bookmarks keep our resourceVersion fresh in a quiet namespace, so re-opening a watch
      // does not run into 410 Gone and a full re-list; client-node's ListWatch understands them
      // but does not ask for them.
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(shortest + Math.random() * (longest - shortest)),
    };
    let finished = false;
    let established = false;
    const observedDone = (error: unknown) => {
      finished = true;
      // A watch that never got its response headers before client-node's timeout: the
      // apiserver hangs. client-node reconnects by itself; we only record the failure.
      if (error instanceof Error && error.name === 'TimeoutError' && !established) this.hooks.onHungWatch(new Error(`watch: no response within the watch timeout`));
      done(error);
    };
    const observedCallback = (phase: string, object: unknown, raw: unknown) => {
      if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') {
        const summary = this.hooks.summarise(object);
        if (summary === undefined) return;
        if (phase === 'MODIFIED') this.hooks.beforeModified(summary);
        // client-node applies the event synchronously in here; UPDATE has consumed the flag
        // unless the object was unchanged, so whatever is left must not leak to the next event.
        callback(phase, summary, raw);
        if (phase === 'MODIFIED') this.hooks.afterModified();
        return;
      }
      callback(phase, object, raw);
    };
    try {
      const controller = await super.watch(path, query, observedCallback, observedDone);
      if (stopSignal.aborted) controller.abort();
      else if (!finished) {
        established = true;
        this.hooks.onEstablished();
      }
      return controller;
    } catch (error) {
      // Thrown before any request (e.g. the token file cannot be read): report it as the end of this watch.
      if (!finished) observedDone(error);
      return new AbortController();
    }
  }
}

/**
 * The two informers and what the rest of the prober asks of them: the prober pods, a node
 * lookup, our own node's name, and whether any of it can be trusted right now.
 */
export class Discovery {
  /** Bumped whenever a cache or the discovery status changes; selection is recomputed only then. */
  generation = 0;

  private readonly config: Config;
  private readonly logger: Logger;
  private readonly tuning: DiscoveryTuning;
  private pods: ResourceInformer<PodSummary> | undefined;
  private nodes: ResourceInformer<NodeSummary> | undefined;
  private setupError: string | undefined;
  private readonly staleGauge: Gauge;
  private readonly errorsTotal: Counter<'resource'>;
  private loggedStale = false;

  constructor(options: DiscoveryOptions) {
    this.config = options.config;
    this.logger = options.logger.child({ component: 'neighbour-discovery' });
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    const discovery = this;
    this.staleGauge = new Gauge({
      name: `${METRIC_PREFIX}neighbourhood_discovery_stale`,
      help: '1 while neighbour discovery cannot reach the apiserver (or has not listed yet after a failure): checks use the last known neighbours.',
      registers: [options.registry],
      collect() {
        this.set(discovery.status().stale ? 1 : 0);
      },
    });
    this.errorsTotal = new Counter({
      name: `${METRIC_PREFIX}neighbourhood_discovery_errors_total`,
      help: 'Failed list or watch attempts of neighbour discovery, by resource (pods, nodes).',
      labelNames: ['resource'],
      registers: [options.registry],
    });
    this.errorsTotal.inc({ resource: 'pods' }, 0);
    this.errorsTotal.inc({ resource: 'nodes' }, 0);
  }

  start(): void {
    if (this.pods || this.setupError !== undefined) return;
    let kubeConfig: KubeConfig;
    try {
      kubeConfig = loadKubeConfig(this.config);
    } catch (error) {
      this.setupError = describeError(error);
      this.logger.error({ err: this.setupError }, 'neighbour discovery cannot start; no path_ checks will run');
      this.generation++;
      return;
    }
    const hooks: InformerHooks = {
      onChange: () => this.generation++,
      onStatusChange: () => this.statusChanged(),
      onError: (resource, message, retryInMs) => {
        this.errorsTotal.inc({ resource });
        this.logger.warn({ resource, err: message, retryInMs }, 'neighbour discovery failed; path_ checks keep the last known neighbours');
      },
      onRecovered: (resource) => this.logger.info({ resource }, 'neighbour discovery recovered'),
    };
    const namespace = this.config.namespace;
    const podPath = namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const selector = this.config.neighbourFilter === '' ? undefined : this.config.neighbourFilter;
    const pods = new ResourceInformer<PodSummary>({ resource: 'pods', path: podPath, labelSelector: selector, summarise: summarisePod, kubeConfig, tuning: this.tuning, hooks });
    const nodes = new ResourceInformer<NodeSummary>({ resource: 'nodes', path: '/api/v1/nodes', labelSelector: undefined, summarise: summariseNode, kubeConfig, tuning: this.tuning, hooks });
    this.logger.info({ server: kubeConfig.getCurrentCluster()?.server, namespace: namespace ?? '(all)', selector: selector ?? '(none)' }, 'starting neighbour discovery');
    this.pods = pods;
    this.nodes = nodes;
    pods.start();
    nodes.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods?.stop(), this.nodes?.stop()]);
  }

  podList(): readonly PodSummary[] {
    return this.pods?.list() ?? [];
  }

  nodeLookup(): NodeLookup {
    const nodes = this.nodes;
    return { synced: nodes?.synced ?? false, get: (name) => nodes?.get(name) };
  }

  /** KUBENURSE_NODE_NAME, else our own pod's spec.nodeName once the pod cache shows it. */
  ownNodeName(): string | undefined {
    if (this.config.nodeName !== undefined) return this.config.nodeName;
    if (!this.pods) return undefined;
    const namespace = this.config.namespace;
    const own = namespace === undefined ? this.pods.list().find((pod) => pod.metadata.name === this.config.podName) : this.pods.get(this.config.podName, namespace);
    return own?.spec.nodeName;
  }

  status(): DiscoveryStatus {
    if (this.setupError !== undefined) return { state: `neighbour discovery not running: ${this.setupError}`, stale: true };
    const informers = [this.pods, this.nodes].filter((informer) => informer !== undefined);
    if (informers.length === 0) return { state: 'neighbour discovery not started', stale: false };
    const failing = informers.filter((informer) => informer.lastError !== undefined);
    if (failing.length > 0) {
      const since = failing.map((informer) => informer.staleSince?.getTime() ?? Date.now()).reduce((a, b) => Math.min(a, b));
      const errors = failing.map((informer) => `${informer.resource}: ${informer.lastError}`).join('; ');
      const synced = informers.every((informer) => informer.synced);
      const prefix = synced ? `neighbour discovery stale since ${new Date(since).toISOString()} (checking the last known neighbours)` : 'neighbour discovery failed';
      return { state: `${prefix}: ${errors}`, stale: true };
    }
    const waiting = informers.filter((informer) => !informer.synced).map((informer) => informer.resource);
    if (waiting.length > 0) return { state: `neighbour discovery starting: waiting for the first list of ${waiting.join(' and ')}`, stale: false };
    return { state: 'ok', stale: false };
  }

  private statusChanged(): void {
    this.generation++;
    const { stale, state } = this.status();
    if (stale && !this.loggedStale) this.logger.warn({ state }, 'neighbour discovery is stale');
    if (!stale && this.loggedStale) this.logger.info('neighbour discovery is up to date again');
    this.loggedStale = stale;
    this.staleGauge.set(stale ? 1 : 0);
  }
}
