import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { familyOf, reachOf, verdict, type FamilyProbes, type Reach } from '../../src/verdict.ts';

const v4 = (pod: Reach, node: Reach): FamilyProbes => ({ family: 'ipv4', pod, node });
const v6 = (pod: Reach, node: Reach): FamilyProbes => ({ family: 'ipv6', pod, node });

describe('reachOf', () => {
  const error = (event: string, phases?: Record<string, number>): CheckOutcome => ({
    status: 'error',
    event,
    message: 'x',
    durationMs: 1,
    ...(phases ? { phases } : {}),
  });
  it.each<[string, CheckOutcome | undefined, Reach]>([
    ['not in the round', undefined, 'unprobed'],
    ['skipped', { status: 'skipped', reason: 'off' }, 'unprobed'],
    ['200', { status: 'ok', durationMs: 1 }, 'up'],
    // kube-proxy /healthz answers 503 while its node is being deleted: the node network works.
    ['503 from healthz', error('status_code_503'), 'answered'],
    ['404', error('status_code_404'), 'answered'],
    [
      'body too large after the headers',
      error('round_trip_error', { connect_done: 1, got_first_resp_byte: 2 }),
      'answered',
    ],
    ['connect refused / unreachable', error('connect_done'), 'down'],
    ['timeout stuck at connect', error('connect_done', { connect_start: 0 }), 'down'],
    ['TLS handshake failed', error('tls_handshake_done', { connect_done: 1 }), 'down'],
    [
      'reset after the request was written',
      error('round_trip_error', { wrote_request: 1 }),
      'down',
    ],
  ])('%s → %s', (_name, outcome, expected) => {
    expect(reachOf(outcome)).toBe(expected);
  });
});

describe('verdict', () => {
  it.each<[string, FamilyProbes[], string]>([
    ['nothing probed', [], 'unknown'],
    ['pod path not probed', [v4('unprobed', 'up')], 'unknown'],
    ['all up', [v4('up', 'up')], 'none'],
    ['pod up, node path off', [v4('up', 'unprobed')], 'none'],
    ['pod down, node up: CNI', [v4('down', 'up')], 'pod_network'],
    ['pod down, node answered 503: still CNI', [v4('down', 'answered')], 'pod_network'],
    ['pod down, node down: node or underlay', [v4('down', 'down')], 'node_network'],
    ['pod down, node path not probed: no guess', [v4('down', 'unprobed')], 'unknown'],
    ['pod up, node down: node endpoint', [v4('up', 'down')], 'node_endpoint'],
    ['pod answered with an error status', [v4('answered', 'up')], 'neighbour_pod'],
    ['pod answered, node down', [v4('answered', 'down')], 'neighbour_pod'],
    ['dual-stack all up', [v4('up', 'up'), v6('up', 'up')], 'none'],
    ['only IPv6 pod path down', [v4('up', 'up'), v6('down', 'up')], 'ipv6'],
    ['only IPv6 down on both layers', [v4('up', 'up'), v6('down', 'down')], 'ipv6'],
    ['only IPv4 down, no node paths', [v4('down', 'unprobed'), v6('up', 'unprobed')], 'ipv4'],
    ['IPv4 down while IPv6 pod answers 500', [v4('down', 'up'), v6('answered', 'up')], 'ipv4'],
    ['both families: CNI', [v4('down', 'up'), v6('down', 'up')], 'pod_network'],
    ['both families: node down', [v4('down', 'down'), v6('down', 'down')], 'node_network'],
    [
      'both down, families disagree: node wins',
      [v4('down', 'up'), v6('down', 'down')],
      'node_network',
    ],
    [
      'both pod paths down, node paths off',
      [v4('down', 'unprobed'), v6('down', 'unprobed')],
      'unknown',
    ],
    ['IPv6 node endpoint down only', [v4('up', 'up'), v6('up', 'down')], 'node_endpoint'],
    ['IPv6 has no pod address', [v4('down', 'up'), v6('unprobed', 'up')], 'pod_network'],
  ])('%s → %s', (_name, probes, layer) => {
    expect(verdict(probes).layer).toBe(layer);
  });

  it('says which probe said what', () => {
    expect(verdict([v4('up', 'up'), v6('down', 'up')]).detail).toBe(
      'ipv4: pod path up, node path up; ipv6: pod path down, node path up',
    );
  });
});

describe('familyOf', () => {
  it.each([
    ['10.0.0.1', 'ipv4'],
    ['fd00::1', 'ipv6'],
    ['::ffff:10.0.0.1', 'ipv6'],
  ])('%s → %s', (address, family) => {
    expect(familyOf(address)).toBe(family);
  });
});
