// Neighbour discovery: a pod informer (the prober pods, by label selector, in our namespace)
// and a node informer (schedulability, autoscaler removal, deletion). Check rounds read the
// caches; no API request per round. The list/watch loop, its restarts and the caches are in
// informer.ts; how the apiserver is reached (service account, or a kubeconfig) in connection.ts.
// Objects are reduced to small summaries before they enter the caches (see objects.ts).
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { registerDiscoveryMetrics, type DiscoveryMetrics } from '../metrics.ts';
import { connect, inCluster, type ApiConnection } from './connection.ts';
import type { NodeLookup } from './filter.ts';
import {
  describeError,
  ResourceInformer,
  type InformerHooks,
  type InformerTuning,
} from './informer.ts';
import { summariseNode, summarisePod, type NodeSummary, type PodSummary } from './objects.ts';

export { describeError };

/** How discovery lists, watches and backs off: the informer's knobs (see InformerTuning). */
export type DiscoveryTuning = InformerTuning;

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

/** 'ok', or why the caches cannot be trusted; failed and stale count as stale for the gauge. */
export type DiscoveryStatus =
  | { readonly kind: 'ok' }
  | { readonly kind: 'starting'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'stale'; readonly reason: string };

export function isStale(
  status: DiscoveryStatus,
): status is Extract<DiscoveryStatus, { kind: 'failed' | 'stale' }> {
  return status.kind === 'failed' || status.kind === 'stale';
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
  /** Set by start(): the connection, or undefined when it could not be made. */
  private connecting: Promise<ApiConnection | undefined> | undefined;
  private stopped = false;
  private readonly metrics: DiscoveryMetrics;
  private loggedStale = false;

  constructor(options: DiscoveryOptions) {
    this.config = options.config;
    this.logger = options.logger.child({ component: 'neighbour-discovery' });
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.metrics = registerDiscoveryMetrics(options.registry, () => isStale(this.status()));
  }

  start(): void {
    if (this.connecting || this.setupError !== undefined) return;
    // In a pod the connection is ready at once (and a missing configuration is the state
    // right after start); a kubeconfig is loaded asynchronously, with client-node's KubeConfig.
    let connecting: Promise<ApiConnection>;
    try {
      connecting =
        this.config.kubeconfig === undefined
          ? Promise.resolve(inCluster(this.config))
          : connect(this.config);
    } catch (error) {
      this.cannotStart(error);
      return;
    }
    this.connecting = connecting.then(
      (connection) => {
        if (this.stopped) return connection;
        this.startInformers(connection);
        return connection;
      },
      (error: unknown) => {
        this.cannotStart(error);
        return undefined;
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pods?.stop();
    this.nodes?.stop();
    await (await this.connecting)?.close();
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
    const own =
      namespace === undefined
        ? this.pods.list().find((pod) => pod.metadata.name === this.config.podName)
        : this.pods.get(this.config.podName, namespace);
    return own?.spec.nodeName;
  }

  status(): DiscoveryStatus {
    if (this.setupError !== undefined)
      return { kind: 'failed', reason: `neighbour discovery not running: ${this.setupError}` };
    const informers = [this.pods, this.nodes].filter((informer) => informer !== undefined);
    if (informers.length === 0)
      return {
        kind: 'starting',
        reason: this.connecting
          ? 'neighbour discovery starting: loading the kubeconfig'
          : 'neighbour discovery not started',
      };
    const failing = informers.filter((informer) => informer.lastError !== undefined);
    if (failing.length > 0) {
      const since = failing
        .map((informer) => informer.staleSince?.getTime() ?? Date.now())
        .reduce((a, b) => Math.min(a, b));
      const errors = failing
        .map((informer) => `${informer.resource}: ${informer.lastError}`)
        .join('; ');
      return informers.every((informer) => informer.synced)
        ? {
            kind: 'stale',
            reason: `neighbour discovery stale since ${new Date(since).toISOString()} (checking the last known neighbours): ${errors}`,
          }
        : { kind: 'failed', reason: `neighbour discovery failed: ${errors}` };
    }
    const waiting = informers
      .filter((informer) => !informer.synced)
      .map((informer) => informer.resource);
    if (waiting.length > 0)
      return {
        kind: 'starting',
        reason: `neighbour discovery starting: waiting for the first list of ${waiting.join(' and ')}`,
      };
    return { kind: 'ok' };
  }

  private cannotStart(error: unknown): void {
    this.setupError = describeError(error);
    this.logger.error(
      { err: this.setupError },
      'neighbour discovery cannot start; no path_ checks will run',
    );
    this.generation++;
  }

  private startInformers(connection: ApiConnection): void {
    const hooks: InformerHooks = {
      onChange: () => this.generation++,
      onStatusChange: () => this.statusChanged(),
      onError: (resource, message, retryInMs) => {
        this.metrics.errorsTotal.inc({ resource });
        this.logger.warn(
          { resource, err: message, retryInMs },
          'neighbour discovery failed; path_ checks keep the last known neighbours',
        );
      },
      onRecovered: (resource) => this.logger.info({ resource }, 'neighbour discovery recovered'),
    };
    const namespace = this.config.namespace;
    const podPath =
      namespace === undefined
        ? '/api/v1/pods'
        : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const selector = this.config.neighbourFilter === '' ? undefined : this.config.neighbourFilter;
    const common = { connection, tuning: this.tuning, hooks };
    const pods = new ResourceInformer<PodSummary>({
      resource: 'pods',
      path: podPath,
      labelSelector: selector,
      summarise: summarisePod,
      ...common,
    });
    const nodes = new ResourceInformer<NodeSummary>({
      resource: 'nodes',
      path: '/api/v1/nodes',
      labelSelector: undefined,
      summarise: summariseNode,
      ...common,
    });
    this.logger.info(
      {
        server: connection.server,
        namespace: namespace ?? '(all)',
        selector: selector ?? '(none)',
      },
      'starting neighbour discovery',
    );
    this.pods = pods;
    this.nodes = nodes;
    this.generation++;
    pods.start();
    nodes.start();
  }

  private statusChanged(): void {
    this.generation++;
    const status = this.status();
    const stale = isStale(status);
    if (isStale(status) && !this.loggedStale)
      this.logger.warn({ state: status.reason }, 'neighbour discovery is stale');
    if (!stale && this.loggedStale) this.logger.info('neighbour discovery is up to date again');
    this.loggedStale = stale;
  }
}
