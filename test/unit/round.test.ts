import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RoundRunner, resultMap } from '../../src/checks/round.ts';
import type { Check, CheckOutcome, CheckSource } from '../../src/checks/types.ts';
import { ProbeMetrics } from '../../src/metrics.ts';

const logger = pino({ level: 'silent' });

function fixed(type: string, outcome: CheckOutcome): Check {
  return { type, run: async () => outcome };
}

function metricsWithLegacy() {
  return new ProbeMetrics({ buckets: [0.1, 1], legacyMetrics: true, incomingChecks: () => 3 });
}

describe('RoundRunner', () => {
  it('runs all checks in parallel and reports each by type', async () => {
    const metrics = metricsWithLegacy();
    // Each check ends only once all three run: one run after another would never get there
    // (the round times out instead).
    let running = 0;
    let maxRunning = 0;
    let allRunning!: () => void;
    const together = new Promise<void>((resolve) => (allRunning = resolve));
    const slow = (type: string): Check => ({
      type,
      async run() {
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (running === 3) allRunning();
        await together;
        running--;
        return { status: 'ok', durationMs: 20 };
      },
    });
    const source: CheckSource = {
      checks: () => [
        slow('a'),
        slow('b'),
        slow('c'),
        fixed('d', { status: 'skipped', reason: 'off' }),
      ],
    };
    const result = await new RoundRunner({
      sources: [source],
      metrics,
      logger,
      roundTimeoutMs: 1000,
    }).run();
    expect(maxRunning).toBe(3);
    expect(resultMap(result)).toEqual({ a: 'ok', b: 'ok', c: 'ok', d: 'skipped' });
  });

  it('counts errors_total from the outcome event, once per failed check', async () => {
    const metrics = metricsWithLegacy();
    const source: CheckSource = {
      checks: () => [
        fixed('me_service', {
          status: 'error',
          event: 'connect_done',
          message: 'refused',
          durationMs: 1,
        }),
        fixed('me_ingress', { status: 'ok', durationMs: 2 }),
      ],
    };
    const runner = new RoundRunner({ sources: [source], metrics, logger, roundTimeoutMs: 1000 });
    await runner.run();
    const result = await runner.run();
    expect(resultMap(result).me_service).toBe('refused');
    const text = await metrics.render();
    expect(text).toContain('kubenurse_errors_total{type="me_service",event="connect_done"} 2');
    expect(text).not.toMatch(/kubenurse_errors_total\{type="me_ingress"/);
    expect(text).toContain('kubenurse_request_duration_count{type="me_ingress"} 2');
    expect(text).toContain('kubenurse_neighbourhood_incoming_checks 3');
  });

  it('a check that throws still yields a round', async () => {
    const metrics = metricsWithLegacy();
    const broken: Check = {
      type: 'broken',
      run: async () => {
        throw new Error('boom');
      },
    };
    const result = await new RoundRunner({
      sources: [{ checks: () => [broken] }],
      metrics,
      logger,
      roundTimeoutMs: 1000,
    }).run();
    expect(resultMap(result).broken).toBe('check crashed: boom');
  });

  it('drops every series of a type that left the round (no ghost neighbours)', async () => {
    const metrics = metricsWithLegacy();
    let types = ['path_node-a', 'path_node-b'];
    const source: CheckSource = {
      checks: () =>
        types.map((type) =>
          fixed(type, { status: 'error', event: 'status_code_500', message: 'x', durationMs: 1 }),
        ),
    };
    const runner = new RoundRunner({ sources: [source], metrics, logger, roundTimeoutMs: 1000 });
    await runner.run();
    expect(await metrics.render()).toContain('path_node-b');
    types = ['path_node-a'];
    await runner.run();
    const text = await metrics.render();
    expect(text).toContain('path_node-a');
    expect(text).not.toContain('path_node-b');
  });

  it('forgets a departed type before the round probes, so a scrape never shows more than the current set', async () => {
    const metrics = metricsWithLegacy();
    metrics.countError('path_old', 'connect_done');
    let seenDuringRound = '';
    const probing: Check = {
      type: 'path_new',
      async run() {
        seenDuringRound = await metrics.render();
        return { status: 'ok', durationMs: 1 };
      },
    };
    await new RoundRunner({
      sources: [{ checks: () => [probing] }],
      metrics,
      logger,
      roundTimeoutMs: 1000,
    }).run();
    expect(seenDuringRound).not.toContain('path_old');
  });

  it('keeps the first of two checks with the same type', async () => {
    const metrics = metricsWithLegacy();
    const sources: CheckSource[] = [
      { checks: () => [fixed('x', { status: 'ok', durationMs: 1 })] },
      { checks: () => [fixed('x', { status: 'skipped', reason: '' })] },
    ];
    expect(
      resultMap(await new RoundRunner({ sources, metrics, logger, roundTimeoutMs: 1000 }).run()),
    ).toEqual({ x: 'ok' });
  });

  it('passes an abort signal that fires at the round deadline', async () => {
    const metrics = metricsWithLegacy();
    let seen: AbortSignal | undefined;
    const waiting: Check = {
      type: 'waits',
      run: (signal) => {
        seen = signal;
        return new Promise((resolve) =>
          signal.addEventListener('abort', () =>
            resolve({
              status: 'error',
              event: 'round_trip_error',
              message: 'aborted',
              durationMs: 50,
            }),
          ),
        );
      },
    };
    const result = await new RoundRunner({
      sources: [{ checks: () => [waiting] }],
      metrics,
      logger,
      roundTimeoutMs: 50,
    }).run();
    expect(seen?.aborted).toBe(true);
    expect(resultMap(result).waits).toBe('aborted');
  });
});
