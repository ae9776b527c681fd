// Neighbour discovery: a pod informer (the prober pods, by label selector, in our namespace)
// and node watches for the filters (schedulability, autoscaler removal, deletion). Check
// rounds read the caches; no API request per round. The list/watch loop, its restarts and
// the caches are in informer.ts; how the apiserver is reached (service account, or a
// kubeconfig) in connection.ts. Objects are reduced to small summaries (see objects.ts).
//
// Which nodes are watched (docs/neighbours.md, "Which nodes a prober watches"): the
// selection says which nodes it depends on — our own and the ring from us up to the last
// chosen neighbour, skipped ones included (its "window", limit.ts). Each of those is
// watched alone (fieldSelector metadata.name=<node>, which the apiserver's watch cache
// serves from an index by name), so a node update elsewhere in the cluster reaches no prober
// that does not need it. When the window is a large part of the cluster (a small cluster,
// KUBENURSE_NEIGHBOUR_LIMIT=0, many cordoned nodes at once) one cluster-wide node watch is
// cheaper, and is used instead; KUBENURSE_NEIGHBOUR_NODE_WATCH=cluster always uses it.
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import { describeError } from '../error-text.ts';
import type { Logger } from '../log.ts';
import { registerDiscoveryMetrics, type DiscoveryMetrics } from '../metrics.ts';
import { connect, inCluster, type ApiConnection } from './connection.ts';
import type { NodeLookup } from './filter.ts';
import {
  ResourceInformer,
  type CachedObject,
  type InformerHooks,
  type InformerTuning,
} from './informer.ts';
import { summariseNode, summarisePod, type NodeSummary, type PodSummary } from './objects.ts';

/** How discovery lists, watches and backs off, and when it watches nodes one by one. */
export interface DiscoveryTuning extends InformerTuning {
  /** Most single-node watches; a larger window uses one cluster-wide node watch. */
  readonly maxNodeWatches: number;
  /** After 403 Forbidden on nodes, try again this much later (RBAC may have been fixed). */
  readonly forbiddenRetryMs: number;
}

export const DEFAULT_TUNING: DiscoveryTuning = {
  listTimeoutMs: 30_000,
  watchTimeoutMs: 120_000,
  watchDurationSeconds: [300, 600],
  pageSize: 500,
  maxObjectBytes: 4 * 1024 * 1024,
  maxObjects: 100_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  reconnectJitterMs: 1000,
  relistSpreadMs: 10_000,
  maxNodeWatches: 64,
  forbiddenRetryMs: 10 * 60_000,
};

/** The nodes a selection depends on, and how many candidate nodes there are in all. */
export interface NodeWindow {
  readonly nodes: ReadonlySet<string>;
  readonly candidates: number;
}

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

type NodeInformer = ResourceInformer<NodeSummary>;

/**
 * The informers and what the rest of the prober asks of them: the prober pods, a node
 * lookup, our own node's name, and whether any of it can be trusted right now.
 */
export class Discovery {
  /** Bumped whenever a cache or the discovery status changes; selection is recomputed only then. */
  generation = 0;

  private readonly config: Config;
  private readonly logger: Logger;
  private readonly tuning: DiscoveryTuning;
  private connection: ApiConnection | undefined;
  private pods: ResourceInformer<PodSummary> | undefined;
  /** The cluster-wide node watch, when that mode is in use (or being switched from/to). */
  private clusterNodes: NodeInformer | undefined;
  /** Single-node watches by node name. */
  private readonly namedNodes = new Map<string, NodeInformer>();
  private windowSource: (() => NodeWindow | undefined) | undefined;
  /** Nodes answered 403 Forbidden (until a node watch lists again). */
  private nodesDenied = false;
  /** After a 403: no node watch until the retry timer fires. */
  private nodesPaused = false;
  private forbiddenTimer: NodeJS.Timeout | undefined;
  private reconcileQueued = false;
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
    this.metrics = registerDiscoveryMetrics(
      options.registry,
      () => isStale(this.status()),
      () => ({ node: this.namedNodes.size, cluster: this.clusterNodes ? 1 : 0 }),
    );
  }

  /**
   * Who tells discovery which nodes the selection depends on (the neighbour mesh). Without
   * one, every node is watched.
   */
  setWindowSource(source: () => NodeWindow | undefined): void {
    this.windowSource = source;
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
    clearTimeout(this.forbiddenTimer);
    this.pods?.stop();
    for (const informer of this.nodeInformers()) informer.stop();
    await (await this.connecting)?.close();
  }

  podList(): readonly PodSummary[] {
    return this.pods?.list() ?? [];
  }

  /** What the node watches know; the cluster-wide one, once listed, knows every node. */
  nodeLookup(): NodeLookup {
    const cluster = this.clusterNodes?.synced ? this.clusterNodes : undefined;
    const named = this.namedNodes;
    return {
      knows: (name) => cluster !== undefined || named.get(name)?.synced === true,
      get: (name) => (cluster ?? named.get(name))?.get(name),
    };
  }

  /** Names of the nodes watched one by one (for tests and the status). */
  watchedNodes(): string[] {
    return [...this.namedNodes.keys()].sort();
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
    if (!this.pods)
      return {
        kind: 'starting',
        reason: this.connecting
          ? 'neighbour discovery starting: loading the kubeconfig'
          : 'neighbour discovery not started',
      };
    const informers: ResourceInformer<CachedObject>[] = [this.pods, ...this.nodeInformers()];
    const failing = informers.filter((informer) => informer.lastError !== undefined);
    if (failing.length > 0) {
      const since = failing
        .map((informer) => informer.staleSince?.getTime() ?? Date.now())
        .reduce((a, b) => Math.min(a, b));
      // Many single-node watches failing at once say the same thing: once.
      const errors = [
        ...new Set(failing.map((informer) => `${informer.resource}: ${informer.lastError}`)),
      ].join('; ');
      return informers.every((informer) => informer.synced)
        ? {
            kind: 'stale',
            reason: `neighbour discovery stale since ${new Date(since).toISOString()} (checking the last known neighbours): ${errors}`,
          }
        : { kind: 'failed', reason: `neighbour discovery failed: ${errors}` };
    }
    const waiting = [
      ...new Set(
        informers.filter((informer) => !informer.synced).map((informer) => informer.resource),
      ),
    ];
    if (waiting.length > 0)
      return {
        kind: 'starting',
        reason: `neighbour discovery starting: waiting for the first list of ${waiting.join(' and ')}`,
      };
    // Without KUBENURSE_ALLOW_UNSCHEDULABLE the filters need nodes: say so where alerts look.
    if (this.nodesDenied && !this.config.allowUnschedulable)
      return { kind: 'stale', reason: `neighbour discovery degraded: ${this.forbiddenText()}` };
    return { kind: 'ok' };
  }

  private forbiddenText(): string {
    const skipped = this.config.allowUnschedulable
      ? 'nodes being removed by the cluster autoscaler or being deleted'
      : 'cordoned nodes, nodes being removed by the cluster autoscaler or being deleted';
    return (
      `nodes are not readable (403 Forbidden): neighbours on ${skipped} cannot be ` +
      `skipped; grant list and watch on nodes (examples/rbac.yaml) to filter them`
    );
  }

  private nodeInformers(): NodeInformer[] {
    return [...(this.clusterNodes ? [this.clusterNodes] : []), ...this.namedNodes.values()];
  }

  private cannotStart(error: unknown): void {
    this.setupError = describeError(error);
    this.logger.error(
      { err: this.setupError },
      'neighbour discovery cannot start; no path_ checks will run',
    );
    this.generation++;
  }

  private hooks(): InformerHooks {
    return {
      onChange: () => this.changed(),
      onStatusChange: () => this.statusChanged(),
      onError: (informer, message, retryInMs) => {
        this.metrics.errorsTotal.inc({ resource: informer.resource });
        if (informer.forbidden && informer.resource === 'nodes') {
          this.nodesForbidden(message);
          return;
        }
        this.logger.warn(
          {
            resource: informer.resource,
            ...(informer.fieldSelector ? { fieldSelector: informer.fieldSelector } : {}),
            err: message,
            retryInMs,
          },
          'neighbour discovery failed; path_ checks keep the last known neighbours',
        );
      },
      onRecovered: (informer) =>
        this.logger.info({ resource: informer.resource }, 'neighbour discovery recovered'),
    };
  }

  private startInformers(connection: ApiConnection): void {
    const namespace = this.config.namespace;
    const podPath =
      namespace === undefined
        ? '/api/v1/pods'
        : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const selector = this.config.neighbourFilter === '' ? undefined : this.config.neighbourFilter;
    this.connection = connection;
    this.pods = new ResourceInformer<PodSummary>({
      resource: 'pods',
      path: podPath,
      labelSelector: selector,
      summarise: summarisePod,
      connection,
      tuning: this.tuning,
      hooks: this.hooks(),
    });
    this.logger.info(
      {
        server: connection.server,
        namespace: namespace ?? '(all)',
        selector: selector ?? '(none)',
      },
      'starting neighbour discovery',
    );
    this.generation++;
    this.pods.start();
  }

  private nodeInformer(name: string | undefined): NodeInformer {
    return new ResourceInformer<NodeSummary>({
      resource: 'nodes',
      path: '/api/v1/nodes',
      fieldSelector: name === undefined ? undefined : `metadata.name=${name}`,
      summarise: summariseNode,
      connection: this.connection as ApiConnection,
      tuning: this.tuning,
      hooks: this.hooks(),
    });
  }

  private changed(): void {
    this.generation++;
    this.queueReconcile();
  }

  private statusChanged(): void {
    this.generation++;
    if (this.nodesDenied && this.nodeInformers().some((informer) => informer.synced)) {
      this.nodesDenied = false;
      this.logger.info('nodes are readable again: node filters apply');
    }
    const status = this.status();
    const stale = isStale(status);
    if (isStale(status) && !this.loggedStale)
      this.logger.warn({ state: status.reason }, 'neighbour discovery is stale');
    if (!stale && this.loggedStale) this.logger.info('neighbour discovery is up to date again');
    this.loggedStale = stale;
    this.queueReconcile();
  }

  /** Coalesces the changes of one burst of events into one look at the node watches. */
  private queueReconcile(): void {
    if (this.reconcileQueued || this.stopped) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      if (!this.stopped) this.reconcileNodeWatches();
    });
  }

  /** Opens and closes node watches so that they cover what the selection depends on. */
  private reconcileNodeWatches(): void {
    if (!this.pods?.synced || this.connection === undefined) return;
    if (this.nodesPaused) return;
    const window = this.windowSource?.();
    const clusterWide =
      this.windowSource === undefined ||
      this.config.neighbourNodeWatch === 'cluster' ||
      (window !== undefined && this.wantsClusterWide(window));
    let changed = false;
    if (clusterWide) {
      if (!this.clusterNodes) {
        this.clusterNodes = this.nodeInformer(undefined);
        this.clusterNodes.start();
        changed = true;
      }
      // The single-node watches stay until the cluster-wide one has listed: no gap.
      if (this.clusterNodes.synced && this.namedNodes.size > 0) {
        for (const informer of this.namedNodes.values()) informer.stop();
        this.namedNodes.clear();
        changed = true;
      }
    } else if (window !== undefined) {
      for (const name of window.nodes) {
        if (this.namedNodes.has(name)) continue;
        const informer = this.nodeInformer(name);
        this.namedNodes.set(name, informer);
        informer.start();
        changed = true;
      }
      for (const [name, informer] of this.namedNodes) {
        if (window.nodes.has(name)) continue;
        informer.stop();
        this.namedNodes.delete(name);
        changed = true;
      }
      const allListed = [...this.namedNodes.values()].every((informer) => informer.synced);
      if (this.clusterNodes && allListed) {
        this.clusterNodes.stop();
        this.clusterNodes = undefined;
        changed = true;
      }
    }
    if (changed) {
      this.generation++;
      this.logger.debug(
        { nodeWatches: this.namedNodes.size, clusterWide: this.clusterNodes !== undefined },
        'node watches changed',
      );
    }
  }

  /**
   * One cluster-wide watch instead of single-node ones when the window is a large share of
   * the cluster; a bit of hysteresis so that a window near the threshold does not flip.
   */
  private wantsClusterWide(window: NodeWindow): boolean {
    const size = window.nodes.size;
    const usingClusterWide = this.clusterNodes !== undefined && this.namedNodes.size === 0;
    const factor = usingClusterWide ? 0.75 : 1;
    return size > this.tuning.maxNodeWatches * factor || size * 2 > window.candidates * factor;
  }

  /**
   * RBAC does not grant nodes (upstream's manifests leave them out with
   * KUBENURSE_ALLOW_UNSCHEDULABLE=true): no node watches, every discovered prober stays a
   * candidate, one clear log line; tried again much later, quietly.
   */
  private nodesForbidden(message: string): void {
    if (!this.nodesDenied) this.logger.warn({ err: message }, this.forbiddenText());
    this.nodesDenied = true;
    this.nodesPaused = true;
    for (const informer of this.nodeInformers()) informer.stop();
    this.namedNodes.clear();
    this.clusterNodes = undefined;
    clearTimeout(this.forbiddenTimer);
    this.forbiddenTimer = setTimeout(() => {
      this.nodesPaused = false;
      this.changed();
    }, this.tuning.forbiddenRetryMs);
    this.forbiddenTimer.unref();
    this.generation++;
  }
}
