// One resource's informer: list → cache → watch from the list's resourceVersion, events
// applied to the cache, re-watch when a watch ends, re-list after 410 Gone, restart with
// backoff and jitter after any other failure. List and watch are plain HTTP requests with
// undici (not client-node's ListWatch or Watch): that is what lets us bound what an
// apiserver, or anything in between, can make us hold (docs/neighbours.md, "Own list/watch"):
// - a list is paginated (limit/continue, as client-go's pager) and decoded as it arrives,
//   one item at a time, each reduced to its summary at once (stream.ts); the bounds are on
//   one item's size and on the number of items, i.e. on memory, not on bytes read;
// - a watch stream is split into lines of bounded length: an endless line fails the watch
//   with a clear error and a re-list, instead of growing the process.
//
// Behaviour, as client-go's reflector has it:
// - The first list asks for resourceVersion "0" (served from the apiserver's watch cache);
//   a re-list after 410 Gone asks for the latest state (no resourceVersion), after a random
//   delay (relistSpreadMs) so that thousands of probers told "Gone" at once (an apiserver
//   restart, a compaction) do not all list in the same second.
// - A watch that ends cleanly is re-opened from the last resourceVersion: at once after it
//   delivered events, else after a doubling delay (1 s … 30 s); every delay and every
//   re-open gets random jitter so thousands of probers do not reconnect in lockstep.
// - Watches ask for bookmarks and a random server-side timeout (5–10 min): bookmarks keep
//   the resourceVersion fresh, so a re-opened watch resumes instead of re-listing.
// - The watch timeout (headers, then inactivity) ends a hung watch, which is re-opened at
//   once; a watch that times out before it was established counts as a failure.
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { readBounded } from '../bounded-body.ts';
import { describeError } from '../error-text.ts';
import type { ApiConnection } from './connection.ts';
import { LineSplitter, ListDecoder, StreamLimitError } from './stream.ts';

export interface InformerTuning {
  /** Deadline of one list request (one page); also reported as the error when the apiserver hangs. */
  readonly listTimeoutMs: number;
  /**
   * The watch timeout: for the response headers, then for inactivity. Longer than
   * the apiserver's bookmark interval (about a minute), so a quiet watch is not re-opened
   * for nothing; a hung apiserver is noticed after this long.
   */
  readonly watchTimeoutMs: number;
  /** Each watch asks the apiserver to end it after a random time in this range (client-go does the same). */
  readonly watchDurationSeconds: readonly [number, number];
  /** Items per list page (the `limit` parameter); client-go's pager uses 500. */
  readonly pageSize: number;
  /**
   * Largest single object accepted, as a list item or a watch event line. etcd refuses
   * objects over 1.5 MiB, so a valid object stays well below the default.
   */
  readonly maxObjectBytes: number;
  /** Most items one list may hold (all pages together): bounds the cache and the work. */
  readonly maxObjects: number;
  /** Restart backoff after a failure: initial delay, doubled up to max, each with ±50 % jitter. */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Random delay before re-opening a watch that ended, so probers spread out. */
  readonly reconnectJitterMs: number;
  /** A re-list after 410 Gone waits a random time up to this long (the fleet spreads its lists). */
  readonly relistSpreadMs: number;
}

export interface InformerHooks {
  onChange(): void;
  onStatusChange(): void;
  onError(
    informer: ResourceInformer<CachedObject>,
    message: string,
    willRetryInMs: number | undefined,
  ): void;
  onRecovered(informer: ResourceInformer<CachedObject>): void;
}

export interface CachedObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

/** Reconnect delay for a watch that ended without an event: first 1 s, doubled, at most 30 s. */
const QUIET_RECONNECT_BASE_MS = 1000;
const QUIET_RECONNECT_MAX_MS = 30_000;
/** An error response (a Status object) is read up to this size for its message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

class ApiError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

/** The response broke the protocol (too large, malformed): the cache cannot be trusted. */
class ProtocolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/** ±50 % */
function spread(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}

function isGone(error: unknown): boolean {
  const withCode = error as { statusCode?: unknown; code?: unknown } | null;
  return withCode?.statusCode === 410 || withCode?.code === 410;
}

function isForbidden(error: unknown): boolean {
  return (error as { statusCode?: unknown } | null)?.statusCode === 403;
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
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
  return typeof version === 'string' && version !== '' && version.length <= 128
    ? version
    : undefined;
}

/** The Status message of an error response, bounded; '' when there is none. */
async function errorReason(body: Dispatcher.ResponseData['body']): Promise<string> {
  try {
    const text = await readBounded(body, MAX_ERROR_BODY_BYTES, true);
    body.destroy();
    if (text === 'too-large') return '';
    const message = (JSON.parse(text.toString('utf8')) as { message?: unknown }).message;
    return typeof message === 'string' ? message.slice(0, 120) : '';
  } catch {
    // not a Status object; the code says enough
    body.destroy();
    return '';
  }
}

/**
 * One GET to the apiserver with our credentials; anything but 200 is thrown as an ApiError that
 * names what we asked for (`list pods`, `watch nodes`) and the apiserver's reason.
 */
async function apiGet(
  url: URL,
  what: string,
  auth: Awaited<ReturnType<ApiConnection['authenticate']>>,
  options: { signal: AbortSignal; headersTimeout?: number; bodyTimeout?: number },
): Promise<Dispatcher.ResponseData> {
  const response = await request(url, {
    method: 'GET',
    headers: { ...auth.headers, accept: 'application/json' },
    ...options,
    ...(auth.dispatcher ? { dispatcher: auth.dispatcher } : {}),
  });
  if (response.statusCode !== 200) {
    const reason = await errorReason(response.body);
    throw new ApiError(
      response.statusCode,
      `${what}: HTTP ${response.statusCode}${reason ? ` ${reason}` : ''}`,
    );
  }
  return response;
}

export interface ResourceInformerOptions<T extends CachedObject> {
  /** What the logs and metrics call it: 'pods', 'nodes'. */
  readonly resource: string;
  readonly path: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly summarise: (raw: unknown) => T | undefined;
  readonly connection: ApiConnection;
  readonly tuning: InformerTuning;
  readonly hooks: InformerHooks;
}

export class ResourceInformer<T extends CachedObject> {
  readonly resource: string;
  readonly fieldSelector: string | undefined;
  /** Listed at least once: the cache reflects the cluster (perhaps an older state of it). */
  synced = false;
  /** Why the last list or watch attempt failed, while nothing has succeeded since. */
  lastError: string | undefined;
  /** The last failure was 403 Forbidden (RBAC does not grant this resource). */
  forbidden = false;
  staleSince: Date | undefined;

  private readonly options: ResourceInformerOptions<T>;
  private readonly stopping = new AbortController();
  private objects = new Map<string, T>();
  private resourceVersion = '';
  /** The next list follows a 410 Gone: wait a random spread, then ask for the latest state. */
  private relistAfterGone = false;
  private failures = 0;
  private quietReconnectMs = 0;
  private watchesOpened = 0;
  private currentWatch: AbortController | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(options: ResourceInformerOptions<T>) {
    this.options = options;
    this.resource = options.resource;
    this.fieldSelector = options.fieldSelector;
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

  get size(): number {
    return this.objects.size;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private run(): void {
    this.quietReconnectMs = 0;
    this.loop().catch((error: unknown) => this.failed(error, { restart: true }));
  }

  /** List when needed, then watch, until a failure that needs a restart (thrown) or stop(). */
  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.resourceVersion === '') {
        if (this.relistAfterGone)
          await this.pause(Math.random() * this.options.tuning.relistSpreadMs);
        if (this.stopped) return;
        try {
          await this.listFromApi();
        } catch (error) {
          // A continue token that expired mid-list: start over, spread like any re-list.
          if (!isGone(error) || this.stopped) throw error;
          this.relistAfterGone = true;
          continue;
        }
      }
      if (this.stopped) return;
      await this.pauseBeforeWatch();
      if (this.stopped) return;
      const { error, established } = await this.watchOnce();
      if (this.stopped) return;
      if (isGone(error)) {
        this.resourceVersion = '';
        this.relistAfterGone = true;
      } else if (isTimeout(error)) {
        // The apiserver hangs (no headers) or went silent: re-open at once, but a watch that
        // never got its headers is a failure worth showing.
        this.quietReconnectMs = 0;
        if (!established)
          this.failed(new Error('watch: no response within the watch timeout'), { restart: false });
      } else if (error instanceof ProtocolError) {
        // Events may have been lost: the cache is re-listed (after the backoff) before it is trusted again.
        this.resourceVersion = '';
        throw error;
      } else if (error) {
        throw error instanceof Error ? error : new Error(describeError(error));
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    if (ms > 0) await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  /** A delay for quiet re-watches plus our jitter, so reconnects spread out. */
  private async pauseBeforeWatch(): Promise<void> {
    if (this.watchesOpened === 0) return;
    const quiet = this.quietReconnectMs;
    // Reset to 0 by every event: a watch that delivered something is re-opened at once.
    this.quietReconnectMs =
      quiet > 0 ? Math.min(quiet * 2, QUIET_RECONNECT_MAX_MS) : QUIET_RECONNECT_BASE_MS;
    await this.pause(
      (quiet > 0 ? spread(quiet) : 0) + Math.random() * this.options.tuning.reconnectJitterMs,
    );
  }

  private url(extra: Record<string, string>): URL {
    const { connection, path, labelSelector, fieldSelector } = this.options;
    const url = new URL(`${connection.server}${path}`);
    if (labelSelector) url.searchParams.set('labelSelector', labelSelector);
    if (fieldSelector) url.searchParams.set('fieldSelector', fieldSelector);
    for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
    return url;
  }

  /** One watch request, from open to end; resolves with how it ended, never rejects. */
  private async watchOnce(): Promise<{ error: unknown; established: boolean }> {
    const { tuning, connection, resource } = this.options;
    const [shortest, longest] = tuning.watchDurationSeconds;
    const url = this.url({
      watch: '1',
      resourceVersion: this.resourceVersion,
      // Bookmarks keep our resourceVersion fresh in a quiet namespace, so re-opening a watch
      // does not run into 410 Gone and a full re-list.
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.round(shortest + Math.random() * (longest - shortest))),
    });
    this.watchesOpened++;
    const controller = new AbortController();
    this.currentWatch = controller;
    let established = false;
    let auth: Awaited<ReturnType<ApiConnection['authenticate']>> | undefined;
    let body: Dispatcher.ResponseData['body'] | undefined;
    try {
      // Throws before any request when e.g. the token file cannot be read.
      auth = await connection.authenticate();
      const response = await apiGet(url, `watch ${resource}`, auth, {
        signal: AbortSignal.any([controller.signal, this.stopping.signal]),
        headersTimeout: tuning.watchTimeoutMs,
        bodyTimeout: tuning.watchTimeoutMs,
      });
      body = response.body;
      established = true;
      this.succeeded();
      const lines = new LineSplitter(tuning.maxObjectBytes);
      for await (const chunk of response.body) {
        for (const line of this.splitWatch(lines, chunk as Buffer)) this.applyLine(line);
      }
      return { error: undefined, established };
    } catch (error) {
      body?.destroy();
      return { error, established };
    } finally {
      auth?.release();
      this.currentWatch = undefined;
    }
  }

  private splitWatch(lines: LineSplitter, chunk: Buffer): string[] {
    try {
      return lines.push(chunk);
    } catch (error) {
      throw this.protocolError(error);
    }
  }

  private protocolError(error: unknown): ProtocolError {
    const what = error instanceof StreamLimitError ? error.message : describeError(error);
    return new ProtocolError(`watch ${this.resource}: ${what}; re-listing`, { cause: error });
  }

  private applyLine(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw this.protocolError(new SyntaxError(`malformed watch event (${describeError(error)})`));
    }
    // Any JSON value parses, `null` and `42` too: only an object with a string type is an event.
    const event = parsed as { type?: unknown; object?: unknown } | null;
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string')
      throw this.protocolError(new SyntaxError('watch event without a type'));
    if (event.type === 'ERROR') {
      // A Status object: 410 for an expired resourceVersion (the server ends the watch next).
      const status = event.object as { code?: unknown; message?: unknown } | null;
      const code = typeof status?.code === 'number' ? status.code : 500;
      const message = typeof status?.message === 'string' ? status.message.slice(0, 120) : '';
      throw new ApiError(
        code,
        `watch ${this.resource}: ERROR ${code}${message ? ` ${message}` : ''}`,
      );
    }
    this.apply(event.type, event.object);
  }

  private apply(phase: string, raw: unknown): void {
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
          if (cached === undefined && this.objects.size >= this.options.tuning.maxObjects)
            throw this.protocolError(
              new StreamLimitError(`more than ${this.options.tuning.maxObjects} objects`),
            );
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
    this.forbidden = false;
    this.staleSince = undefined;
    if (wasBroken) this.options.hooks.onRecovered(this);
    this.options.hooks.onStatusChange();
  }

  /** Records a failure; with `restart`, the list-and-watch loop starts again after the backoff. */
  private failed(error: unknown, { restart }: { restart: boolean }): void {
    if (this.stopped) return;
    const message = describeError(error);
    this.lastError = message;
    this.forbidden = isForbidden(error);
    this.staleSince ??= new Date();
    let delay: number | undefined;
    if (restart) {
      const { backoffInitialMs, backoffMaxMs } = this.options.tuning;
      delay = spread(Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.failures));
      this.failures++;
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => this.run(), delay);
    }
    this.options.hooks.onError(this, message, delay);
    this.options.hooks.onStatusChange();
  }

  /**
   * All pages of the list, each decoded as it arrives, items summarised one by one; the
   * cache is replaced only once the last page is in.
   */
  private async listFromApi(): Promise<void> {
    const { tuning, summarise } = this.options;
    const objects = new Map<string, T>();
    let items = 0;
    let resourceVersion: string | undefined;
    let token: string | undefined;
    const first: Record<string, string> = this.relistAfterGone ? {} : { resourceVersion: '0' };
    do {
      const page = await this.listPage(
        token === undefined
          ? { ...first, limit: String(tuning.pageSize) }
          : { continue: token, limit: String(tuning.pageSize) },
        tuning.maxObjects - items,
        (item) => {
          items++;
          const summary = summarise(item);
          if (summary !== undefined) objects.set(keyOf(summary), summary);
        },
      );
      if (this.stopped) return;
      resourceVersion = page.resourceVersion;
      token = page.continue;
    } while (token !== undefined);
    this.objects = objects;
    this.resourceVersion = resourceVersion ?? '';
    this.relistAfterGone = false;
    this.synced = true;
    this.succeeded();
    this.options.hooks.onChange();
  }

  /** One page, bounded in time, in the size of each item and in the number of items. */
  private async listPage(
    query: Record<string, string>,
    maxItems: number,
    onItem: (item: unknown) => void,
  ): Promise<{ resourceVersion?: string; continue?: string }> {
    const { connection, tuning, resource } = this.options;
    const auth = await connection.authenticate();
    const signal = AbortSignal.any([
      AbortSignal.timeout(tuning.listTimeoutMs),
      this.stopping.signal,
    ]);
    let body: Dispatcher.ResponseData['body'] | undefined;
    try {
      const response = await apiGet(this.url(query), `list ${resource}`, auth, { signal });
      body = response.body;
      const decoder = new ListDecoder(
        { maxItemBytes: tuning.maxObjectBytes, maxItems: Math.max(0, maxItems) },
        onItem,
      );
      for await (const chunk of response.body) decoder.push(chunk as Buffer);
      return decoder.finish();
    } catch (error) {
      body?.destroy();
      if (signal.aborted && !this.stopped)
        throw new Error(`list ${resource}: no answer within ${tuning.listTimeoutMs} ms`, {
          cause: error,
        });
      if (error instanceof StreamLimitError || error instanceof SyntaxError)
        throw new ProtocolError(`list ${resource}: ${error.message}`, { cause: error });
      throw error;
    } finally {
      auth.release();
    }
  }
}
