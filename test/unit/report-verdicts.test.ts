import { describe, expect, it } from 'vitest';
import { toJson, toTable } from '../../src/oneshot/report.ts';
import type { OneShotResult } from '../../src/oneshot/run.ts';

function result(verdicts?: Map<string, { layer: 'pod_network' | 'none'; detail: string }>) {
  return {
    round: {
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      outcomes: new Map([
        [
          'path_node-b',
          { status: 'error', event: 'connect_done', message: 'refused', durationMs: 1 } as const,
        ],
        ['node_node-b', { status: 'ok', durationMs: 1 } as const],
        ['path_node-c', { status: 'ok', durationMs: 1 } as const],
      ]),
      ...(verdicts ? { verdicts } : {}),
    },
    neighbourhood: { state: { kind: 'ok' }, neighbours: [] },
    kubeProxy: undefined,
  } satisfies OneShotResult;
}

describe('kubenurse-ts check with layer verdicts', () => {
  const verdicts = new Map([
    ['node-c', { layer: 'none' as const, detail: 'ipv4: pod path up, node path up' }],
    ['node-b', { layer: 'pod_network' as const, detail: 'ipv4: pod path down, node path up' }],
  ]);

  it('prints the layer per neighbour in the table', () => {
    const table = toTable(result(verdicts));
    expect(table).toContain('layer at fault, per neighbour');
    expect(table).toMatch(/ {2}node-b {2}pod_network {4}ipv4: pod path down, node path up\n/);
    expect(table.indexOf('node-b  pod_network')).toBeLessThan(table.indexOf('node-c  none'));
  });

  it('adds verdicts to the JSON, and to the path check', () => {
    const json = toJson(result(verdicts));
    expect(json.verdicts).toEqual({
      'node-b': { layer: 'pod_network', detail: 'ipv4: pod path down, node path up' },
      'node-c': { layer: 'none', detail: 'ipv4: pod path up, node path up' },
    });
    const checks = json.checks as { type: string; verdict?: { layer: string } }[];
    expect(checks.find((check) => check.type === 'path_node-b')?.verdict?.layer).toBe(
      'pod_network',
    );
  });

  it('says nothing about layers when the settings are off', () => {
    expect(toTable(result())).not.toContain('layer');
    expect(JSON.stringify(toJson(result()))).not.toContain('verdict');
  });
});
