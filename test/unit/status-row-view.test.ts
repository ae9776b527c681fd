// The matrix row a prober answers to `?view=self&cells=row&nodes=…` (issue #14 item 1): only
// the cells a neighbour's matrix can show, the asker's rows first, within a byte budget
// whatever the prober's own check count, with the rest counted.
import { describe, expect, it } from 'vitest';
import { MATRIX_LIMITS } from '../../src/status/bound.ts';
import { parseStatusDocument } from '../../src/status/parse.ts';
import {
  MAX_WANTED_NODES,
  MAX_WANTED_NODES_CHARS,
  ROW_ANSWER_BUDGET,
  ROW_ANSWER_MAX_BYTES,
  rowAnswer,
  rowQuery,
  wantedNodes,
} from '../../src/status/row-view.ts';
import { STATUS_KIND, type CheckView, type SelfStatus } from '../../src/status/types.ts';

function view(type: string, message: string | null = null): CheckView {
  return {
    type,
    status: message === null ? 'ok' : 'error',
    durationMs: 1.5,
    phases: { connect_done: 0.5, got_first_resp_byte: 1.4 },
    event: message === null ? null : 'connect_done',
    message,
    lastError: message === null ? null : { message, event: 'connect_done', at: 'x' },
  };
}

function selfWith(checks: CheckView[]): SelfStatus {
  return {
    kind: STATUS_KIND,
    version: 1,
    node: 'node-self',
    pod: 'kubenurse-node-self',
    hostname: 'h',
    generatedAt: '2026-01-01T00:00:00.000Z',
    round: null,
    checks,
    neighbourhoodState: 'ok',
    kubeProxy: null,
    refreshMs: 2000,
  };
}

/** KUBENURSE_NEIGHBOUR_LIMIT=0 in a 5,000-node cluster, 30 extra checks more than a row shows. */
function hugeSelf(message: string | null = null): SelfStatus {
  const checks = [view('api_server_direct'), view('me_service', 'HTTP 502')];
  for (let i = 0; i < 5000; i++)
    checks.push(view(`path_far-${String(i).padStart(4, '0')}`, message));
  for (let i = 0; i < 60; i++) checks.push(view(`extra_${i}`));
  return selfWith(checks);
}

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('rowAnswer', () => {
  it('keeps the cells to the asking rows first, at most the matrix columns, and counts the rest', () => {
    const wanted = new Set(['far-4999', 'far-2500', 'not-a-target']);
    const answer = rowAnswer(hugeSelf(), wanted);
    const types = answer.checks.map((check) => check.type);
    expect(types).toContain('path_far-4999');
    expect(types).toContain('path_far-2500');
    expect(types).toContain('api_server_direct');
    expect(types.filter((type) => type.startsWith('path_'))).toHaveLength(
      MATRIX_LIMITS.maxNodeColumns,
    );
    expect(types.filter((type) => !type.startsWith('path_'))).toHaveLength(
      MATRIX_LIMITS.maxCheckColumns,
    );
    expect(answer.moreChecks).toBe(5062 - answer.checks.length);
    // Phases and last errors are the page's own list; a matrix cell does not show them.
    expect(answer.checks[0]).not.toHaveProperty('phases');
    expect(answer.checks[0]).not.toHaveProperty('lastError');
    expect(bytes(answer)).toBeLessThanOrEqual(ROW_ANSWER_BUDGET);
  });

  it('stays within its byte budget however long the texts are, and says how much it left out', () => {
    // 200 control characters are 1,200 bytes of JSON each: the columns alone would not fit.
    const answer = rowAnswer(hugeSelf('\u0001'.repeat(500)), new Set(['far-0001']));
    expect(bytes(answer)).toBeLessThanOrEqual(ROW_ANSWER_BUDGET);
    expect(answer.checks.map((check) => check.type)).toContain('path_far-0001');
    expect(answer.checks.length).toBeLessThan(
      MATRIX_LIMITS.maxNodeColumns + MATRIX_LIMITS.maxCheckColumns,
    );
    expect(answer.moreChecks).toBe(5062 - answer.checks.length);
    for (const check of answer.checks)
      expect(check.message?.length ?? 0).toBeLessThanOrEqual(MATRIX_LIMITS.maxCellMessageChars);
  });

  it('leaves out the layer probes behind a verdict, which the matrix does not show', () => {
    const answer = rowAnswer(
      selfWith([
        { ...view('path_node-b'), verdict: { layer: 'cni', detail: 'd'.repeat(1000) } },
        view('path_node-b_ipv6'),
        view('node_node-b'),
        view('node_other'),
      ]),
      new Set(),
    );
    expect(answer.checks.map((check) => check.type)).toEqual(['node_other', 'path_node-b']);
    expect(answer.checks[1]?.verdict?.detail.length).toBeLessThanOrEqual(300);
    expect(answer.moreChecks).toBe(0);
  });

  it('is read back by the neighbour parser with its count of what it left out', () => {
    const answer = rowAnswer(hugeSelf(), new Set());
    const peer = parseStatusDocument(JSON.parse(JSON.stringify(answer)));
    expect(peer.node).toBe('node-self');
    expect(peer.checks.size).toBe(answer.checks.length);
    expect(peer.more).toBe(answer.moreChecks);
  });
});

describe('the row query', () => {
  it('round-trips the asking rows', () => {
    const query = new URLSearchParams(rowQuery(['node-a', 'node-b.example']));
    expect(query.get('view')).toBe('self');
    expect(query.get('cells')).toBe('row');
    expect([...wantedNodes(query.get('nodes'))]).toEqual(['node-a', 'node-b.example']);
  });

  it('stays short enough for any HTTP server with many long node names', () => {
    const names = Array.from({ length: 500 }, (_, i) => `${'n'.repeat(240)}-${i}`);
    const query = rowQuery(names);
    expect(query.length).toBeLessThanOrEqual(MAX_WANTED_NODES_CHARS + 40);
    expect(wantedNodes(new URLSearchParams(query).get('nodes')).size).toBeGreaterThan(0);
  });

  it('reads whatever is sent as nodes without failing, and without keeping more than the bound', () => {
    expect(wantedNodes(undefined).size).toBe(0);
    expect(wantedNodes(['a', 'b']).size).toBe(0);
    expect(wantedNodes('x'.repeat(MAX_WANTED_NODES_CHARS + 1)).size).toBe(0);
    expect(wantedNodes(',,a,,').size).toBe(1);
    const many = Array.from({ length: 1000 }, (_, i) => `n${i}`).join(',');
    expect(wantedNodes(many).size).toBe(MAX_WANTED_NODES);
  });

  it('leaves the asking side room above the answer budget', () => {
    expect(ROW_ANSWER_MAX_BYTES).toBeGreaterThan(ROW_ANSWER_BUDGET);
  });
});
