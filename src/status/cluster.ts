// The cluster view: every neighbour's own check results, fetched server-side and laid out as a
// node × node matrix. Reading is bounded (concurrency, per-request deadline, body size, number
// of rows) and cached for the TTL, so a page left open in many browsers costs the neighbours
// one request per TTL window from this prober, however many viewers there are.
import { isIP } from 'node:net';
import { AliveReader } from './alive-stream.ts';
import type { FetchResult, StreamingDecoder } from './fetch.ts';
import {
  PeerFormatError,
  isStatusDocument,
  parseAliveDocument,
  parseStatusDocument,
  type PeerChecks,
} from './parse.ts';
import { compareTypes } from './snapshot.ts';
import {
  PATH_PREFIX,
  type Cell,
  type CheckView,
  type ClusterRow,
  type ClusterView,
  type NeighbourEntry,
  type SelfStatus,
} from './types.ts';
import { urlHost } from '../url-host.ts';
import { dictionary } from '../dictionary.ts';
import { boundRowCells, matrixColumns, onlyColumns } from './bound.ts';
import { isLayerProbe, rowQuery } from './row-view.ts';

export interface JsonGetter {
  get(url: string, maxBytes: number, decoder?: StreamingDecoder): Promise<FetchResult>;
}

export interface ClusterOptions {
  readonly fetcher: JsonGetter;
  /** The neighbours' HTTP port (KUBENURSE_PORT: every prober of a DaemonSet uses the same). */
  readonly port: number;
  /** Neighbours read at once: each answer is held whole while it is parsed. */
  readonly concurrency: number;
  /** A neighbour's row answer (`?view=self&cells=row`) is read up to this many bytes. */
  readonly rowMaxBytes: number;
  /** A plain kubenurse's /alive (which lists the whole neighbourhood) up to this many. */
  readonly aliveMaxBytes: number;
  /** Of which its last_check_result without the neighbour list is kept up to this many. */
  readonly aliveKeptMaxBytes: number;
  /** Neighbour rows shown at most; this prober's own row comes on top. */
  readonly maxRows: number;
  readonly cacheTtlMs: number;
  readonly now?: () => number;
  /** Called once per neighbour that could not be read. */
  readonly onUnreachable?: (neighbour: NeighbourEntry, error: string) => void;
}

export const STATUS_PATH = '/status.json';
/** `?view=self`: only the prober's own checks (what neighbours read from each other). */
export const SELF_VIEW = 'self';

function cellOf(view: CheckView): Cell {
  return {
    status: view.status,
    durationMs: view.durationMs,
    event: view.event,
    message: view.message,
    ...(view.verdict ? { verdict: view.verdict } : {}),
  };
}

function splitChecks(checks: Iterable<[string, Cell]>): {
  paths: Record<string, Cell>;
  other: Record<string, Cell>;
} {
  const paths = dictionary<Cell>();
  const other = dictionary<Cell>();
  const all = [...checks];
  const types = new Set(all.map(([type]) => type));
  for (const [type, cell] of all.sort(([a], [b]) => compareTypes(a, b))) {
    if (isLayerProbe(type, types)) continue;
    if (type.startsWith(PATH_PREFIX)) paths[type.slice(PATH_PREFIX.length)] = cell;
    else other[type] = cell;
  }
  return { paths, other };
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One pod per node (a DaemonSet mid-rollout can briefly have two), the ones we probe first. */
export function pickNeighbours(
  neighbours: readonly NeighbourEntry[],
  probed: ReadonlySet<string>,
  maxRows: number,
  selfNode: string | null,
): NeighbourEntry[] {
  const byNode = new Map<string, NeighbourEntry>();
  for (const entry of [...neighbours].sort((a, b) => a.podName.localeCompare(b.podName))) {
    if (entry.nodeName === selfNode || byNode.has(entry.nodeName)) continue;
    byNode.set(entry.nodeName, entry);
  }
  const all = [...byNode.values()];
  const rank = (entry: NeighbourEntry): number => (probed.has(entry.nodeName) ? 0 : 1);
  const chosen = all
    .sort((a, b) => rank(a) - rank(b) || a.nodeName.localeCompare(b.nodeName))
    .slice(0, maxRows);
  return chosen.sort((a, b) => a.nodeName.localeCompare(b.nodeName));
}

export class ClusterCollector {
  private readonly options: ClusterOptions;
  private readonly now: () => number;
  private cached: { at: number; key: string; rows: ClusterRow[] } | undefined;
  private inFlight: { key: string; rows: Promise<ClusterRow[]> } | undefined;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async view(self: SelfStatus, neighbours: readonly NeighbourEntry[]): Promise<ClusterView> {
    const probed = new Set(
      self.checks
        .filter((check) => check.type.startsWith(PATH_PREFIX))
        .map((check) => check.type.slice(PATH_PREFIX.length)),
    );
    const distinctNodes = new Set(
      neighbours.map((entry) => entry.nodeName).filter((node) => node !== self.node),
    );
    const chosen = pickNeighbours(neighbours, probed, this.options.maxRows, self.node);
    const selfNode = self.node ?? `(${self.pod})`;
    const rowNodes = new Set([selfNode, ...chosen.map((entry) => entry.nodeName)]);
    const neighbourRows = await this.neighbourRows(chosen, rowNodes);

    const own = splitChecks(
      self.checks.map((check) => [check.type, cellOf(check)] as [string, Cell]),
    );
    const selfRow: ClusterRow = {
      node: selfNode,
      pod: self.pod,
      podIP: null,
      source: 'self',
      error: null,
      ...boundRowCells(own.paths, own.other, rowNodes),
    };
    const allRows = [selfRow, ...neighbourRows];
    const columns = matrixColumns(allRows);
    return {
      generatedAt: new Date(this.now()).toISOString(),
      nodes: columns.nodes,
      checkTypes: columns.checkTypes,
      hiddenColumns: columns.hidden,
      rows: allRows.map((row) => onlyColumns(row, columns)),
      truncated:
        distinctNodes.size > chosen.length
          ? { shown: chosen.length, total: distinctNodes.size }
          : null,
    };
  }

  private neighbourRows(
    chosen: NeighbourEntry[],
    rowNodes: ReadonlySet<string>,
  ): Promise<ClusterRow[]> {
    const key = chosen.map((entry) => `${entry.nodeName}=${entry.podIP}`).join(',');
    if (
      this.cached &&
      this.cached.key === key &&
      this.now() - this.cached.at < this.options.cacheTtlMs
    )
      return Promise.resolve(this.cached.rows);
    if (this.inFlight?.key === key) return this.inFlight.rows;
    const startedAt = this.now();
    const rows = mapBounded(chosen, this.options.concurrency, (entry) =>
      this.readNeighbour(entry, rowNodes),
    )
      .then((result) => {
        this.cached = { at: startedAt, key, rows: result };
        return result;
      })
      .finally(() => {
        if (this.inFlight?.rows === rows) this.inFlight = undefined;
      });
    this.inFlight = { key, rows };
    return rows;
  }

  private async readNeighbour(
    entry: NeighbourEntry,
    rowNodes: ReadonlySet<string>,
  ): Promise<ClusterRow> {
    const base = { node: entry.nodeName, pod: entry.podName, podIP: entry.podIP || null };
    const unreachable = (error: string): ClusterRow => {
      this.options.onUnreachable?.(entry, error);
      return { ...base, source: 'unreachable', error, paths: {}, checks: {}, more: 0 };
    };
    if (entry.podIP === '' || isIP(entry.podIP) === 0)
      return unreachable('the pod has no valid IP');
    const origin = `http://${urlHost(entry.podIP)}:${this.options.port}`;
    try {
      // Only the cells our matrix can show, path cells to its rows first (row-view.ts).
      const status = await this.options.fetcher.get(
        `${origin}${STATUS_PATH}?${rowQuery([...rowNodes])}`,
        this.options.rowMaxBytes,
      );
      let peer: PeerChecks;
      let source: 'status' | 'alive';
      // No answer, or one too large to be anyone's status: nothing else to try.
      if (!status.ok && (status.failure === 'transport' || status.failure === 'too-large'))
        return unreachable(status.error);
      if (status.ok && isStatusDocument(status.json)) {
        peer = parseStatusDocument(status.json);
        source = 'status';
      } else {
        // It answered, but not with our document: a plain kubenurse (redirects / to /alive).
        // Streamed: only last_check_result without the neighbour list is kept (alive-stream.ts).
        const alive = await this.options.fetcher.get(
          `${origin}/alive`,
          this.options.aliveMaxBytes,
          new AliveReader(this.options.aliveKeptMaxBytes),
        );
        if (!alive.ok) return unreachable(`/alive: ${alive.error}`);
        peer = parseAliveDocument(alive.json);
        source = 'alive';
      }
      const { paths, other } = splitChecks(peer.checks);
      // Cut before caching: only what the matrix can show stays in memory.
      const bounded = boundRowCells(paths, other, rowNodes);
      return { ...base, source, error: null, ...bounded, more: bounded.more + peer.more };
    } catch (error) {
      if (error instanceof PeerFormatError) return unreachable(`invalid answer: ${error.message}`);
      throw error;
    }
  }
}
