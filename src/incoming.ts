// Who checked us recently: /alwayshappy records the KUBENURSE-NEIGHBOUR-ORIGIN header for
// 60 s, and kubenurse_neighbourhood_incoming_checks counts the distinct callers.

const WINDOW_MS = 60_000;
/** A hostile caller could send endless distinct origins; a real mesh has at most a few hundred. */
const MAX_ORIGINS = 10_000;
const ORIGIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export class IncomingChecks {
  private readonly seen = new Map<string, number>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Records a caller; returns false for a value that is not a pod name. */
  record(origin: string): boolean {
    if (!ORIGIN.test(origin)) return false;
    this.seen.delete(origin);
    if (this.seen.size >= MAX_ORIGINS) this.prune();
    if (this.seen.size >= MAX_ORIGINS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(origin, this.now());
    return true;
  }

  count(): number {
    this.prune();
    return this.seen.size;
  }

  /** Distinct recent callers, newest last. */
  origins(): string[] {
    this.prune();
    return [...this.seen.keys()];
  }

  private prune(): void {
    const cutoff = this.now() - WINDOW_MS;
    // Insertion order is recency order (record() re-inserts), so stop at the first fresh one.
    for (const [origin, at] of this.seen) {
      if (at >= cutoff) break;
      this.seen.delete(origin);
    }
  }
}
