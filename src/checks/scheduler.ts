// Runs rounds every interval, never overlapping, and serves /alive from a result cache:
// all callers inside one TTL window share one round (single flight), however many they are.
import type { Logger } from '../log.ts';
import type { RoundResult } from './round.ts';

export interface RoundExecutor {
  run(signal?: AbortSignal): Promise<RoundResult>;
}

export interface SchedulerOptions {
  readonly executor: RoundExecutor;
  readonly intervalMs: number;
  readonly cacheTtlMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class Scheduler {
  private readonly options: SchedulerOptions;
  private readonly now: () => number;
  /** The newest finished round: the cache runs from its end (as kubenurse's), the rhythm from its start. */
  private last: { result: RoundResult; startedAt: number; finishedAt: number } | undefined;
  private inFlight: Promise<RoundResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  private roundsStarted = 0;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** The newest finished round, if any. */
  get lastResult(): RoundResult | undefined {
    return this.last?.result;
  }

  /** How many rounds have been started (exposed for tests and benchmarks). */
  get rounds(): number {
    return this.roundsStarted;
  }

  start(): void {
    void this.tick();
  }

  /** The cached result while it is younger than the TTL, else a (shared) fresh round. */
  async result(): Promise<RoundResult> {
    if (this.last && this.now() - this.last.finishedAt < this.options.cacheTtlMs)
      return this.last.result;
    return this.runShared();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.inFlight?.catch(() => undefined);
  }

  private runShared(): Promise<RoundResult> {
    if (this.inFlight) return this.inFlight;
    this.roundsStarted++;
    const startedAt = this.now();
    const round = this.options.executor
      .run(this.abort.signal)
      .then((result) => {
        this.last = { result, startedAt, finishedAt: this.now() };
        return result;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    this.inFlight = round;
    return round;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const started = this.now();
    try {
      // A round that /alive triggered moments ago already refreshed the metrics; otherwise the
      // interval decides, even when it is shorter than the cache TTL.
      const freshFor = Math.min(this.options.cacheTtlMs, this.options.intervalMs);
      if (!this.last || started - this.last.startedAt >= freshFor) await this.runShared();
    } catch (error) {
      this.options.logger.error({ err: error }, 'check round failed');
    }
    if (this.stopped) return;
    const wait = Math.max(0, this.options.intervalMs - (this.now() - started));
    this.timer = setTimeout(() => void this.tick(), wait);
  }
}
