import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ProbeMetrics, type NeighbourTraceMode } from '../../src/metrics.ts';

async function series(mode: NeighbourTraceMode | undefined) {
  const metrics = new ProbeMetrics({
    buckets: [0.1, 1],
    legacyMetrics: false,
    incomingChecks: () => 0,
    ...(mode ? { neighbourTrace: mode } : {}),
  });
  for (const type of ['path_worker-1', 'path_worker-2', 'node_worker-1', 'me_service']) {
    metrics.observeTrace(type, 'connect_done', 0.01);
    metrics.observeResponse(type, 200, 0.02);
  }
  metrics.forgetType('path_worker-2');
  const text = await metrics.render();
  const traceTypes = new Set(
    [
      ...text.matchAll(
        /^kubenurse_httpclient_trace_request_duration_seconds_count\{type="([^"]+)"/gm,
      ),
    ].map((m) => m[1]),
  );
  const durationTypes = new Set(
    [
      ...text.matchAll(/^kubenurse_httpclient_request_duration_seconds_count\{type="([^"]+)"/gm),
    ].map((m) => m[1]),
  );
  return { traceTypes, durationTypes };
}

describe('KUBENURSE_NEIGHBOUR_TRACE_METRICS', () => {
  it('full (default) keeps a trace histogram per neighbour, as upstream', async () => {
    const { traceTypes, durationTypes } = await series(undefined);
    expect([...traceTypes].sort()).toEqual(['me_service', 'node_worker-1', 'path_worker-1']);
    expect([...durationTypes].sort()).toEqual(['me_service', 'node_worker-1', 'path_worker-1']);
  });

  it('aggregated records neighbours under path_* and node_*, the rest unchanged', async () => {
    const { traceTypes, durationTypes } = await series('aggregated');
    expect([...traceTypes].sort()).toEqual(['me_service', 'node_*', 'path_*']);
    expect([...durationTypes].sort()).toEqual(['me_service', 'node_worker-1', 'path_worker-1']);
  });

  it('off drops the neighbour trace histogram only', async () => {
    const { traceTypes, durationTypes } = await series('off');
    expect([...traceTypes]).toEqual(['me_service']);
    expect([...durationTypes].sort()).toEqual(['me_service', 'node_worker-1', 'path_worker-1']);
  });

  it('is read from the environment and refuses anything else', () => {
    expect(parseConfig({ KUBENURSE_NEIGHBOUR_TRACE_METRICS: 'off' }).neighbourTraceMetrics).toBe(
      'off',
    );
    expect(parseConfig({}).neighbourTraceMetrics).toBe('full');
    expect(() => parseConfig({ KUBENURSE_NEIGHBOUR_TRACE_METRICS: 'some' })).toThrow(
      /KUBENURSE_NEIGHBOUR_TRACE_METRICS.*expected one of full, aggregated, off/,
    );
    expect(() => parseConfig({ KUBENURSE_NEIGHBOUR_NODE_WATCH: 'none' })).toThrow(
      /KUBENURSE_NEIGHBOUR_NODE_WATCH/,
    );
  });
});
