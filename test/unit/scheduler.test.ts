import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { Scheduler, type RoundExecutor } from '../../src/checks/scheduler.ts';
import type { RoundResult } from '../../src/checks/round.ts';

const logger = pino({ level: 'silent' });

/** A round executor whose rounds take `roundMs` of (fake) time and count themselves. */
function countingExecutor(roundMs: number) {
  const state = {
    started: 0,
    concurrent: 0,
    maxConcurrent: 0,
    lastSignal: undefined as AbortSignal | undefined,
    startTimes: [] as number[],
  };
  const executor: RoundExecutor = {
    async run(signal) {
      state.started++;
      state.startTimes.push(Date.now());
      state.concurrent++;
      state.maxConcurrent = Math.max(state.maxConcurrent, state.concurrent);
      state.lastSignal = signal;
      // Like the real round runner, a round ends early when the scheduler aborts it.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, roundMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      state.concurrent--;
      const now = new Date();
      return {
        startedAt: now,
        finishedAt: now,
        outcomes: new Map([['round', { status: 'ok', durationMs: state.started }]]),
      } satisfies RoundResult;
    },
  };
  return { executor, state };
}

describe('Scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('1000 simultaneous callers share one round', async () => {
    const { executor, state } = countingExecutor(200);
    const scheduler = new Scheduler({ executor, intervalMs: 5000, cacheTtlMs: 3000, logger });
    const calls = Array.from({ length: 1000 }, () => scheduler.result());
    await vi.advanceTimersByTimeAsync(200);
    const results = await Promise.all(calls);
    expect(state.started).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('serves the cached result inside the TTL and runs again after it', async () => {
    const { executor, state } = countingExecutor(10);
    const scheduler = new Scheduler({ executor, intervalMs: 60_000, cacheTtlMs: 3000, logger });
    const first = scheduler.result();
    await vi.advanceTimersByTimeAsync(10);
    await first;
    await vi.advanceTimersByTimeAsync(2500);
    await scheduler.result();
    expect(state.started).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    const third = scheduler.result();
    await vi.advanceTimersByTimeAsync(10);
    await third;
    expect(state.started).toBe(2);
  });

  it('at most one round per TTL window however callers hammer it', async () => {
    const { executor, state } = countingExecutor(50);
    const scheduler = new Scheduler({ executor, intervalMs: 5000, cacheTtlMs: 3000, logger });
    scheduler.start();
    // Callers every 10 ms for 30 s of fake time.
    for (let t = 0; t < 30_000; t += 10) {
      void scheduler.result();
      await vi.advanceTimersByTimeAsync(10);
    }
    await scheduler.stop();
    // Any 3 s window holds at most one round start: consecutive starts are a TTL (plus a round) apart.
    const gaps = state.startTimes.slice(1).map((time, i) => time - (state.startTimes[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(3000);
    expect(state.started).toBeLessThanOrEqual(Math.ceil(30_000 / 3000) + 1);
    expect(state.started).toBeGreaterThanOrEqual(Math.floor(30_000 / 3050));
    expect(state.maxConcurrent).toBe(1);
  });

  it('runs every interval on its own and never overlaps rounds longer than the interval', async () => {
    const { executor, state } = countingExecutor(1500);
    const scheduler = new Scheduler({ executor, intervalMs: 1000, cacheTtlMs: 0, logger });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(10_000);
    await scheduler.stop();
    expect(state.maxConcurrent).toBe(1);
    expect(state.started).toBeGreaterThanOrEqual(6);
    expect(state.started).toBeLessThanOrEqual(7);
  });

  it('an interval shorter than the cache TTL still decides how often rounds run', async () => {
    const { executor, state } = countingExecutor(10);
    const scheduler = new Scheduler({ executor, intervalMs: 1000, cacheTtlMs: 3000, logger });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(9_990);
    await scheduler.stop();
    expect(state.started).toBe(10);
  });

  it('a scheduled round right after an /alive round is skipped', async () => {
    const { executor, state } = countingExecutor(10);
    const scheduler = new Scheduler({ executor, intervalMs: 5000, cacheTtlMs: 3000, logger });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(4000);
    void scheduler.result(); // cache (4 s old) expired: this caller triggers a round
    await vi.advanceTimersByTimeAsync(1500); // the tick at 5 s finds it 1 s old
    expect(state.started).toBe(2);
    await vi.advanceTimersByTimeAsync(5000); // the tick at 10 s runs
    expect(state.started).toBe(3);
    await scheduler.stop();
  });

  it('interval rounds keep their rhythm', async () => {
    const { executor, state } = countingExecutor(100);
    const scheduler = new Scheduler({ executor, intervalMs: 5000, cacheTtlMs: 3000, logger });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(state.started).toBe(1);
    await vi.advanceTimersByTimeAsync(4900);
    expect(state.started).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(state.started).toBe(2);
    await scheduler.stop();
  });

  it('stop aborts the in-flight round and schedules nothing more', async () => {
    const { executor, state } = countingExecutor(1000);
    const scheduler = new Scheduler({ executor, intervalMs: 2000, cacheTtlMs: 0, logger });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(10);
    const stopping = scheduler.stop();
    expect(state.lastSignal?.aborted).toBe(true);
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.started).toBe(1);
  });
});
