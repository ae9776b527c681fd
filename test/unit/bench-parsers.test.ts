import { describe, expect, it } from 'vitest';
import { oursAsBlackboxPhases } from '../../bench/accuracy.ts';
import { parseBlackboxProbe } from '../../bench/lib/blackbox.ts';
import { parseProcStat, parseStatusField } from '../../bench/lib/proc.ts';
import { replaceMarked, table } from '../../bench/lib/report.ts';

// What blackbox_exporter 0.23 answers to /probe?module=http_2xx for a plain HTTP target.
const BLACKBOX_ANSWER = `# HELP probe_dns_lookup_time_seconds Returns the time taken for probe dns lookup in seconds
# TYPE probe_dns_lookup_time_seconds gauge
probe_dns_lookup_time_seconds 2.1971e-05
# HELP probe_duration_seconds Returns how long the probe took to complete in seconds
# TYPE probe_duration_seconds gauge
probe_duration_seconds 0.01336912
# HELP probe_http_duration_seconds Duration of http request by phase, summed over all redirects
# TYPE probe_http_duration_seconds gauge
probe_http_duration_seconds{phase="connect"} 0.000296796
probe_http_duration_seconds{phase="processing"} 0.012241937
probe_http_duration_seconds{phase="resolve"} 2.1971e-05
probe_http_duration_seconds{phase="tls"} 0
probe_http_duration_seconds{phase="transfer"} 0.000334818
# HELP probe_http_status_code Response HTTP status code
# TYPE probe_http_status_code gauge
probe_http_status_code 200
# HELP probe_success Displays whether or not the probe was a success
# TYPE probe_success gauge
probe_success 1
`;

describe('parseBlackboxProbe', () => {
  it('reads the duration, every phase, the status code and success', () => {
    const probe = parseBlackboxProbe(BLACKBOX_ANSWER);
    expect(probe.success).toBe(true);
    expect(probe.statusCode).toBe(200);
    expect(probe.durationSeconds).toBeCloseTo(0.01336912, 9);
    expect(probe.phases).toEqual({
      resolve: 2.1971e-5,
      connect: 0.000296796,
      tls: 0,
      processing: 0.012241937,
      transfer: 0.000334818,
    });
  });

  it('reports a failed probe as not successful', () => {
    expect(
      parseBlackboxProbe(BLACKBOX_ANSWER.replace('probe_success 1', 'probe_success 0')).success,
    ).toBe(false);
  });

  it('rejects an answer without probe_duration_seconds (e.g. an error page)', () => {
    expect(() => parseBlackboxProbe('Unknown module "http_2xx"\n')).toThrow(
      /probe_duration_seconds/,
    );
  });
});

describe('/proc parsers', () => {
  it('reads utime and stime even when the command name has spaces and parentheses', () => {
    const stat =
      '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 2411 0 0 0 153 27 0 0 20 0 11 0 12345 1234567 8901 18446744073709551615';
    expect(parseProcStat(stat)).toEqual({ utime: 153, stime: 27, ticks: 180 });
  });

  it('rejects text that is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow();
    expect(() => parseProcStat('1 (x) S 1 2')).toThrow(/utime/);
  });

  it('reads VmRSS in bytes from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   81920 kB\nRssAnon:\t 40000 kB\n';
    expect(parseStatusField(status, 'VmRSS')).toBe(81920 * 1024);
    expect(parseStatusField(status, 'RssAnon')).toBe(40000 * 1024);
    expect(() => parseStatusField(status, 'VmSwap')).toThrow(/VmSwap/);
  });
});

describe('our trace events as blackbox phases', () => {
  it('splits an IP-literal HTTP probe like blackbox does', () => {
    const events = {
      connect_start: 0.01,
      connect_done: 0.4,
      got_conn: 0.41,
      wrote_request: 0.5,
      got_first_resp_byte: 10.6,
    };
    const phases = oursAsBlackboxPhases(events, 11);
    expect(phases.resolve).toBe(0);
    expect(phases.tls).toBe(0);
    expect(phases.connect).toBeCloseTo(0.39);
    expect(phases.processing).toBeCloseTo(10.19);
    expect(phases.transfer).toBeCloseTo(0.4);
  });

  it('counts DNS as resolve and the handshake as tls for a name over HTTPS', () => {
    const events = {
      dns_start: 0,
      dns_done: 1,
      connect_start: 1,
      connect_done: 1.5,
      tls_handshake_start: 1.5,
      tls_handshake_done: 4,
      got_conn: 4,
      wrote_request: 4.1,
      got_first_resp_byte: 6,
    };
    const phases = oursAsBlackboxPhases(events, 6.5);
    expect(phases).toEqual({ resolve: 1, connect: 0.5, tls: 3, processing: 2, transfer: 0.5 });
  });
});

describe('BENCHMARKS.md generation', () => {
  it('replaces only the marked block and keeps hand-written text', () => {
    const doc = 'intro\n<!-- BEGIN results -->\nold\n<!-- END results -->\noutro\n';
    expect(replaceMarked(doc, 'results', 'new')).toBe(
      'intro\n<!-- BEGIN results -->\nnew\n<!-- END results -->\noutro\n',
    );
  });

  it('appends a marked block when there is none', () => {
    expect(replaceMarked('intro\n', 'results', 'new')).toBe(
      'intro\n\n<!-- BEGIN results -->\nnew\n<!-- END results -->\n',
    );
  });

  it('renders a Markdown table and escapes pipes in cells', () => {
    expect(table(['a', 'b'], [[1, 'x|y']])).toBe('| a | b |\n| --- | --- |\n| 1 | x\\|y |');
  });
});
