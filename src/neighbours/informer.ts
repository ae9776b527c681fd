// One resource's informer: list → cache → watch from the list's resourceVersion, events
// applied to the cache, re-watch when a watch ends, re-list after 410 Gone, restart with
// backoff and jitter after any other failure. We keep our own loop instead of client-node's
// ListWatch because ListWatch imports client-node's ObjectSerializer, which references every
// generated model class (megabytes of code, tens of MiB of RSS in each prober); the watch
// stream itself is client-node's Watch, which only needs getCurrentCluster() and
// applySecurityAuthentication() of its config (see watchConfig below).
//
// Behaviour, as ListWatch had it plus what client-go's reflector adds:
// - A watch that ends cleanly is re-opened from the last resourceVersion: at once after it
//   delivered events, else after a doubling delay (1 s … 30 s); every delay and every
//   re-open gets random jitter so thousands of probers do not reconnect in lockstep.
// - 410 Gone (HTTP status or ERROR event) → re-list, then watch again.
// - Any other failure (list error, connection refused, 5xx on the watch) → reported, then a
//   restart with exponential backoff and jitter, resuming from the last resourceVersion; the
//   cache is kept meanwhile (the "last known set" rounds keep using while discovery is stale).
// - The watch request timeout (headers, then inactivity) ends a hung watch, which is re-opened
//   at once; a watch that times out before it was established counts as a failure.
// - Watches ask for bookmarks and a random server-side timeout (5–10 min).
// - The list is bounded in time and size.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
// Deep import: the package index would pull in the whole client (client-node has no exports map).
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import { request, type Dispatcher } from 'undici';
import type { ApiConnection } from './connection.ts';

export interface InformerTuning {
  /** Deadline of one list request; also reported as the error when the apiserver hangs. */
  readonly listTimeoutMs: number;
  /**
   * The watch timeout: for the response headers, then for inactivity. Longer than
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

export interface InformerHooks {
  onChange(): void;
  onStatusChange(): void;
  onError(resource: string, message: string, willRetryInMs: number | undefined): void;
  onRecovered(resource: string): void;
}

export interface CachedObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

/** A client-node ListWatch reconnect delay: first 1 s, doubled per quiet watch, at most 30 s. */
const QUIET_RECONNECT_BASE_MS = 1000;
const QUIET_RECONNECT_MAX_MS = 30_000;

export class ApiError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

const MAX_ERROR_TEXT = 300;

/** One line, bounded, with the status code or socket error that matters. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, MAX_ERROR_TEXT);
  const withCode = error as Error & { statusCode?: number; code?: unknown; cause?: unknown };
  const parts = [error.message || error.name];
  if (
    typeof withCode.statusCode === 'number' &&
    !error.message.includes(String(withCode.statusCode))
  )
    parts.push(`HTTP ${withCode.statusCode}`);
  const cause = withCode.cause;
  if (cause instanceof Error) {
    const causeCode = (cause as Error & { code?: unknown }).code;
    parts.push(
      typeof causeCode === 'string' ? `${causeCode} ${cause.message}`.trim() : cause.message,
    );
  }
  return parts.join(': ').replace(/\s+/g, ' ').slice(0, MAX_ERROR_TEXT);
}

/** ±50 % */
function spread(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}

function isGone(error: unknown): boolean {
  const withCode = error as { statusCode?: unknown; code?: unknown } | null;
  return withCode?.statusCode === 410 || withCode?.code === 410;
}

function sameExceptVersion(a: CachedObject, b: CachedObject): boolean {
  const strip = (object: CachedObject) =>
    JSON.stringify({ ...object, metadata: { ...object.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}

function keyOf(object: CachedObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function resourceVersionOf(raw: unknown): string | undefined {
  const version = (raw as { metadata?: { resourceVersion?: unknown } } | null)?.metadata
    ?.resourceVersion;
  return typeof version === 'string' && version !== '' ? version : undefined;
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

/** The two methods client-node's Watch calls on its KubeConfig, served by our connection. */
function watchConfig(connection: ApiConnection): KubeConfig {
  const config = {
    getCurrentCluster: () => ({
      name: 'discovery',
      server: connection.server,
      skipTLSVerify: false,
    }),
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      const auth = await connection.authenticate();
      for (const [name, value] of Object.entries(auth.headers)) context.setHeaderParam(name, value);
      if (auth.dispatcher) context.setDispatcher(auth.dispatcher);
    },
  };
  return config as unknown as KubeConfig;
}

export interface ResourceInformerOptions<T extends CachedObject> {
  readonly resource: string;
  readonly path: string;
  readonly labelSelector: string | undefined;
  readonly summarise: (raw: unknown) => T | undefined;
  readonly connection: ApiConnection;
  readonly tuning: InformerTuning;
  readonly hooks: InformerHooks;
}

export class ResourceInformer<T extends CachedObject> {
  readonly resource: string;
  /** Listed at least once: the cache reflects the cluster (perhaps an older state of it). */
  synced = false;
  /** Why the last list or watch attempt failed, while nothing has succeeded since. */
  lastError: string | undefined;
  staleSince: Date | undefined;

  private readonly options: ResourceInformerOptions<T>;
  private readonly watch: Watch;
  private readonly stopping = new AbortController();
  private objects = new Map<string, T>();
  private resourceVersion = '';
  private failures = 0;
  private quietReconnectMs = 0;
  private watchesOpened = 0;
  private currentWatch: AbortController | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(options: ResourceInformerOptions<T>) {
    this.options = options;
    this.resource = options.resource;
    this.watch = new Watch(watchConfig(options.connection));
    // Public on the instance though not in the typings: the watch's header and inactivity deadline.
    (this.watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
      options.tuning.watchTimeoutMs;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.run();
  }

  stop(): void {
    this.stopping.abort();
    clearTimeout(this.restartTimer);
    this.currentWatch?.abort();
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private run(): void {
    this.quietReconnectMs = 0;
    this.loop().catch((error: unknown) => this.failed(error, true));
  }

  /** List when needed, then watch, until a failure that needs a restart (thrown) or stop(). */
  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.resourceVersion === '') await this.listFromApi();
      if (this.stopped) return;
      await this.pauseBeforeWatch();
      if (this.stopped) return;
      const { error, established } = await this.watchOnce();
      if (this.stopped) return;
      if (isGone(error)) {
        this.resourceVersion = '';
      } else if ((error as { name?: unknown } | null)?.name === 'TimeoutError') {
        // The apiserver hangs (no headers) or went silent: re-open at once, but a watch that
        // never got its headers is a failure worth showing.
        this.quietReconnectMs = 0;
        if (!established)
          this.failed(new Error('watch: no response within the watch timeout'), false);
      } else if (error) {
        throw error;
      }
    }
  }

  /** ListWatch's delay for quiet re-watches plus our jitter, so reconnects spread out. */
  private async pauseBeforeWatch(): Promise<void> {
    if (this.watchesOpened === 0) return;
    const quiet = this.quietReconnectMs;
    // Reset to 0 by every event: a watch that delivered something is re-opened at once.
    this.quietReconnectMs =
      quiet > 0 ? Math.min(quiet * 2, QUIET_RECONNECT_MAX_MS) : QUIET_RECONNECT_BASE_MS;
    const delay =
      (quiet > 0 ? spread(quiet) : 0) + Math.random() * this.options.tuning.reconnectJitterMs;
    if (delay > 0)
      await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  /** One watch request, from open to end; resolves with how it ended, never rejects. */
  private async watchOnce(): Promise<{ error: unknown; established: boolean }> {
    const { path, labelSelector, tuning } = this.options;
    const [shortest, longest] = tuning.watchDurationSeconds;
    const query = {
      resourceVersion: this.resourceVersion,
      labelSelector,
      // Bookmarks keep our resourceVersion fresh in a quiet namespace, so re-opening a watch
      // does not run into 410 Gone and a full re-list.
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(shortest + Math.random() * (longest - shortest)),
    };
    this.watchesOpened++;
    let finished = false;
    const ended = Promise.withResolvers<unknown>();
    const done = (error: unknown) => {
      if (finished) return;
      finished = true;
      ended.resolve(error);
    };
    const onEvent = (phase: string, object: unknown) => this.apply(phase, object);
    let established = false;
    try {
      const controller = await this.watch.watch(path, query, onEvent, done);
      this.currentWatch = controller;
      if (this.stopped) controller.abort();
      else if (!finished) {
        established = true;
        this.succeeded();
      }
    } catch (error) {
      // Thrown before any request (e.g. the token file cannot be read).
      done(error);
    }
    const error = await ended.promise;
    this.currentWatch = undefined;
    return { error, established };
  }

  private apply(phase: string, raw: unknown): void {
    if (phase === 'ERROR') {
      // The Status object of an expired resourceVersion; the server ends the watch next.
      if (isGone(raw)) this.resourceVersion = '';
      return;
    }
    if (phase === 'ADDED' || phase === 'MODIFIED') {
      const summary = this.options.summarise(raw);
      if (summary !== undefined) {
        const key = keyOf(summary);
        const cached = this.objects.get(key);
        if (
          cached === undefined ||
          cached.metadata.resourceVersion === undefined ||
          cached.metadata.resourceVersion !== summary.metadata.resourceVersion
        ) {
          this.objects.set(key, summary);
          // Nodes post status all the time; only a change of what the filters read counts.
          if (cached === undefined || !sameExceptVersion(cached, summary))
            this.options.hooks.onChange();
        }
      }
    } else if (phase === 'DELETED') {
      const summary = this.options.summarise(raw);
      if (summary !== undefined && this.objects.delete(keyOf(summary)))
        this.options.hooks.onChange();
    } else if (phase !== 'BOOKMARK') {
      return;
    }
    this.quietReconnectMs = 0;
    this.resourceVersion = resourceVersionOf(raw) ?? this.resourceVersion;
  }

  private succeeded(): void {
    if (this.stopped) return;
    const wasBroken = this.lastError !== undefined;
    this.failures = 0;
    this.lastError = undefined;
    this.staleSince = undefined;
    if (wasBroken) this.options.hooks.onRecovered(this.resource);
    this.options.hooks.onStatusChange();
  }

  private failed(error: unknown, restart: boolean): void {
    if (this.stopped) return;
    const message = describeError(error);
    this.lastError = message;
    this.staleSince ??= new Date();
    let delay: number | undefined;
    if (restart) {
      const { backoffInitialMs, backoffMaxMs } = this.options.tuning;
      delay = spread(Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.failures));
      this.failures++;
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => this.run(), delay);
    }
    this.options.hooks.onError(this.resource, message, delay);
    this.options.hooks.onStatusChange();
  }

  /** Bounded in time and size; objects summarised before they enter the cache. */
  private async listFromApi(): Promise<void> {
    const { connection, tuning, path, labelSelector, resource } = this.options;
    const url = new URL(`${connection.server}${path}`);
    if (labelSelector) url.searchParams.set('labelSelector', labelSelector);
    const auth = await connection.authenticate();
    const signal = AbortSignal.any([
      AbortSignal.timeout(tuning.listTimeoutMs),
      this.stopping.signal,
    ]);
    try {
      const response = await request(url, {
        method: 'GET',
        headers: { ...auth.headers, accept: 'application/json' },
        signal,
        ...(auth.dispatcher ? { dispatcher: auth.dispatcher } : {}),
      }).catch((error: unknown) => {
        throw signal.aborted && !this.stopped
          ? new Error(`list ${resource}: no answer within ${tuning.listTimeoutMs} ms`)
          : error;
      });
      const text = await readBounded(response.body, tuning.maxListBytes);
      if (response.statusCode !== 200) {
        let reason = '';
        try {
          reason = String((JSON.parse(text) as { message?: unknown }).message ?? '');
        } catch {
          // not a Status object; the code says enough
        }
        throw new ApiError(
          response.statusCode,
          `list ${resource}: HTTP ${response.statusCode}${reason ? ` ${reason.slice(0, 120)}` : ''}`,
        );
      }
      const body = JSON.parse(text) as {
        metadata?: { resourceVersion?: unknown };
        items?: unknown;
      };
      if (!Array.isArray(body.items)) throw new Error(`list ${resource}: response has no items`);
      const objects = new Map<string, T>();
      for (const item of body.items) {
        const summary = this.options.summarise(item);
        if (summary !== undefined) objects.set(keyOf(summary), summary);
      }
      if (this.stopped) return;
      this.objects = objects;
      this.resourceVersion = resourceVersionOf(body) ?? '';
      this.synced = true;
      this.succeeded();
      this.options.hooks.onChange();
    } finally {
      auth.release();
    }
  }
}
