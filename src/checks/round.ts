// One check round: every check of every source in parallel, under one deadline.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.ts';
import type { ProbeMetrics } from '../metrics.ts';
import { redactUrls } from '../redact.ts';
import type { Verdict } from '../verdict.ts';
import { outcomeText, type Check, type CheckOutcome, type CheckSource } from './types.ts';
import { dictionary } from '../dictionary.ts';
import { errorMessage } from '../error-text.ts';

export interface RoundResult {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly outcomes: ReadonlyMap<string, CheckOutcome>;
  /** Neighbour node → which layer is at fault; only with node paths or all IP families on. */
  readonly verdicts?: ReadonlyMap<string, Verdict>;
}

export interface RoundRunnerOptions {
  readonly sources: readonly CheckSource[];
  readonly metrics: ProbeMetrics;
  readonly logger: Logger;
  /** Hard stop for the whole round; each probe also has its own deadline. */
  readonly roundTimeoutMs: number;
}

export class RoundRunner {
  private readonly options: RoundRunnerOptions;

  constructor(options: RoundRunnerOptions) {
    this.options = options;
  }

  async run(signal?: AbortSignal): Promise<RoundResult> {
    const { metrics, logger } = this.options;
    const startedAt = new Date();
    const deadline = AbortSignal.timeout(this.options.roundTimeoutMs);
    const abort = signal ? AbortSignal.any([deadline, signal]) : deadline;
    const checks = this.collectChecks();
    // A type that is not part of this round (a neighbour that left) must not linger in /metrics:
    // dropped before the round's probes add the new ones, so a scrape never sees both.
    const current = new Set(checks.map((check) => check.type));
    for (const type of metrics.knownTypes()) if (!current.has(type)) metrics.forgetType(type);

    const settled = await Promise.all(await startOnePerTurn(checks, (c) => this.runOne(c, abort)));
    const outcomes = new Map<string, CheckOutcome>();
    for (const [index, check] of checks.entries())
      outcomes.set(check.type, withoutCredentials(settled[index] as CheckOutcome));

    for (const [type, outcome] of outcomes) {
      if (outcome.status === 'skipped') continue;
      metrics.observeCheck(type, outcome.durationMs / 1000);
      if (outcome.status === 'error') {
        metrics.countError(type, outcome.event);
        logger.error(
          {
            type,
            event: outcome.event,
            durationMs: Math.round(outcome.durationMs),
            target: outcome.target,
            err: outcome.message,
          },
          'check failed',
        );
      }
    }

    return { startedAt, finishedAt: new Date(), outcomes };
  }

  private collectChecks(): Check[] {
    const byType = new Map<string, Check>();
    for (const source of this.options.sources) {
      for (const check of source.checks()) {
        if (byType.has(check.type))
          this.options.logger.warn(
            { type: check.type },
            'two checks share a type; keeping the first',
          );
        else byType.set(check.type, check);
      }
    }
    return [...byType.values()];
  }

  private async runOne(check: Check, signal: AbortSignal): Promise<CheckOutcome> {
    const start = performance.now();
    try {
      return await check.run(signal);
    } catch (error) {
      // Checks promise not to throw; if one does anyway, the round still completes.
      const message = `check crashed: ${errorMessage(error)}`;
      return {
        status: 'error',
        event: 'round_trip_error',
        message,
        durationMs: performance.now() - start,
      };
    }
  }
}

/**
 * Starts one check per event-loop turn instead of all in one synchronous burst: a probe's
 * connect completes and its request is written before the next probe's setup runs, so the
 * first checks' timings do not include the set-up of all the others (BENCHMARKS.md 1). The
 * checks still run in parallel; starting them all takes a few hundred microseconds.
 */
async function startOnePerTurn<T, R>(items: readonly T[], start: (item: T) => Promise<R>) {
  const started: Promise<R>[] = [];
  for (const item of items) {
    if (started.length > 0) await new Promise((resolve) => setImmediate(resolve));
    started.push(start(item));
  }
  return started;
}

/** Check type → kubenurse's result text ("ok", "skipped" or the error). */
export function resultMap(result: RoundResult): Record<string, string> {
  const out = dictionary<string>();
  for (const [type, outcome] of result.outcomes) out[type] = outcomeText(outcome);
  return out;
}

/**
 * Messages can quote a URL from configuration; everything downstream (logs, /alive, the
 * status page) sees them only after this.
 */
function withoutCredentials(outcome: CheckOutcome): CheckOutcome {
  if (outcome.status === 'ok') return outcome;
  if (outcome.status === 'skipped') return { ...outcome, reason: redactUrls(outcome.reason) };
  return { ...outcome, message: redactUrls(outcome.message) };
}
