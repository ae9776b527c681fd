import { describe, expect, it } from 'vitest';
import {
  ExpositionError,
  parseExposition,
  parseFloatToken,
  type MetricFamily,
} from '../../src/kubeproxy/parse.ts';
import {
  escapeHelp,
  escapeLabelValue,
  isPassthroughFamily,
  renderFamilies,
  selectPassthrough,
} from '../../src/kubeproxy/render.ts';
import { syncLagSeconds } from '../../src/kubeproxy/derive.ts';

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  if (!found)
    throw new Error(`family ${name} missing; have ${families.map((f) => f.name).join(', ')}`);
  return found;
}

function parseError(text: string | Uint8Array, limits = {}): ExpositionError {
  try {
    parseExposition(text, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpositionError);
    return error as ExpositionError;
  }
  throw new Error('expected the exposition to be rejected');
}

const KUBE_PROXY_SAMPLE = `# HELP kubeproxy_sync_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in seconds
# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.001"} 0
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.002"} 3
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="+Inf"} 7
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 0.0123
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 7
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="0.001"} 1
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="0.002"} 2
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="+Inf"} 2
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv6"} 0.0031
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv6"} 2
# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.4e-05
go_gc_duration_seconds{quantile="0.5"} 5.1e-05
go_gc_duration_seconds{quantile="1"} 0.000312
go_gc_duration_seconds_sum 0.0041
go_gc_duration_seconds_count 61
# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced
# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge
kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1.7040672e+09
`;

describe('parseExposition: structure', () => {
  it('groups labelled histogram buckets, _sum and _count under their family, per label set', () => {
    const families = parseExposition(KUBE_PROXY_SAMPLE);
    expect(families.map((f) => f.name)).toEqual([
      'kubeproxy_sync_proxy_rules_duration_seconds',
      'go_gc_duration_seconds',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
    ]);
    const histogram = family(families, 'kubeproxy_sync_proxy_rules_duration_seconds');
    expect(histogram.type).toBe('histogram');
    expect(histogram.help).toBe('[ALPHA] SyncProxyRules latency in seconds');
    expect(histogram.samples).toHaveLength(10);
    const ipv6Inf = histogram.samples.find(
      (s) =>
        s.name.endsWith('_bucket') &&
        s.labels.some(([k, v]) => k === 'ip_family' && v === 'IPv6') &&
        s.labels.some(([k, v]) => k === 'le' && v === '+Inf'),
    );
    expect(ipv6Inf?.value).toBe(2);
    expect(histogram.samples.filter((s) => s.name.endsWith('_count')).map((s) => s.value)).toEqual([
      7, 2,
    ]);
  });

  it('groups summary quantiles, _sum and _count under their family', () => {
    const summary = family(parseExposition(KUBE_PROXY_SAMPLE), 'go_gc_duration_seconds');
    expect(summary.type).toBe('summary');
    expect(summary.samples.map((s) => s.name)).toEqual([
      'go_gc_duration_seconds',
      'go_gc_duration_seconds',
      'go_gc_duration_seconds',
      'go_gc_duration_seconds_sum',
      'go_gc_duration_seconds_count',
    ]);
    expect(summary.samples[1]?.value).toBe(5.1e-5);
  });

  it('keeps the value exactly as written, and its number', () => {
    const gauge = family(
      parseExposition(KUBE_PROXY_SAMPLE),
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
    );
    expect(gauge.samples[0]?.valueText).toBe('1.7040672e+09');
    expect(gauge.samples[0]?.value).toBe(1704067200);
  });

  it('treats samples without TYPE as untyped families of their own name, even with a _bucket suffix', () => {
    const families = parseExposition('foo_bucket{le="1"} 3\nfoo_count 3\nbar 1\n');
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['foo_bucket', 'untyped'],
      ['foo_count', 'untyped'],
      ['bar', 'untyped'],
    ]);
  });

  it('accepts an explicit untyped TYPE and counter/gauge types, in any case', () => {
    const families = parseExposition(
      '# TYPE a untyped\na 1\n# TYPE b COUNTER\nb 2\n# TYPE c Gauge\nc 3\n',
    );
    expect(families.map((f) => f.type)).toEqual(['untyped', 'counter', 'gauge']);
  });

  it('merges a family whose samples are split by other families, and accepts families out of order', () => {
    const text = [
      'rest_client_requests_total{code="200",host="10.96.0.1:443",method="GET"} 10',
      '# TYPE kubeproxy_x histogram',
      'kubeproxy_x_bucket{le="+Inf"} 1',
      '# HELP rest_client_requests_total [ALPHA] Number of HTTP requests',
      'rest_client_requests_total{code="201",host="10.96.0.1:443",method="POST"} 2',
      'kubeproxy_x_sum 0.5',
      'kubeproxy_x_count 1',
      '',
    ].join('\n');
    const families = parseExposition(text);
    expect(families.map((f) => f.name)).toEqual(['rest_client_requests_total', 'kubeproxy_x']);
    expect(family(families, 'rest_client_requests_total').samples.map((s) => s.value)).toEqual([
      10, 2,
    ]);
    expect(family(families, 'rest_client_requests_total').help).toBe(
      '[ALPHA] Number of HTTP requests',
    );
    expect(family(families, 'kubeproxy_x').samples).toHaveLength(3);
  });

  it('skips blank lines, whitespace-only lines and ordinary comments', () => {
    const families = parseExposition(
      '\n   \n# just a comment\n#another\n# HELPER not a help line\n\t# HELP\na 1\n\n',
    );
    expect(families).toHaveLength(1);
    expect(family(families, 'a').help).toBeUndefined();
  });

  it('tolerates CRLF line endings and a missing final newline', () => {
    const families = parseExposition('# TYPE a gauge\r\na{x="1"} 1\r\na{x="2"} 2');
    expect(family(families, 'a').samples.map((s) => s.value)).toEqual([1, 2]);
  });

  it('keeps HELP/TYPE-only families (with no samples) in the parse', () => {
    const families = parseExposition('# HELP lonely nothing here\n# TYPE lonely counter\n');
    expect(family(families, 'lonely')).toEqual({
      name: 'lonely',
      type: 'counter',
      help: 'nothing here',
      samples: [],
    });
  });

  it('allows metric names with colons, blanks around labels and a trailing comma', () => {
    const [only] = parseExposition('job:rate5m { a = "1" , b="2", } 3\n');
    expect(only?.name).toBe('job:rate5m');
    expect(only?.samples[0]?.labels).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('accepts an empty label set and an empty exposition', () => {
    expect(parseExposition('a{} 1\n')[0]?.samples[0]?.labels).toEqual([]);
    expect(parseExposition('')).toEqual([]);
  });
});

describe('parseExposition: values, escapes, timestamps', () => {
  it('parses NaN, +Inf, -Inf and Go spellings of them', () => {
    const [f] = parseExposition(
      'a{v="1"} NaN\na{v="2"} +Inf\na{v="3"} -Inf\na{v="4"} Inf\na{v="5"} -inf\na{v="6"} nan\n',
    );
    const values = f?.samples.map((s) => s.value) ?? [];
    expect(Number.isNaN(values[0])).toBe(true);
    expect(values.slice(1)).toEqual([Infinity, -Infinity, Infinity, -Infinity, Number.NaN]);
    expect(f?.samples.map((s) => s.valueText)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      'Inf',
      '-inf',
      'nan',
    ]);
  });

  it('parses exponents, signs and bare fractions', () => {
    expect(parseFloatToken('1.5e+09')).toBe(1.5e9);
    expect(parseFloatToken('-2.4E-05')).toBe(-2.4e-5);
    expect(parseFloatToken('.5')).toBe(0.5);
    expect(parseFloatToken('5.')).toBe(5);
    expect(parseFloatToken('+7')).toBe(7);
    expect(parseFloatToken('0x10')).toBeUndefined();
    expect(parseFloatToken('1e')).toBeUndefined();
    expect(parseFloatToken('')).toBeUndefined();
  });

  it('unescapes \\\\, \\" and \\n in label values', () => {
    const [f] = parseExposition('a{path="C:\\\\dir",quote="say \\"hi\\"",nl="one\\ntwo"} 1\n');
    expect(f?.samples[0]?.labels).toEqual([
      ['path', 'C:\\dir'],
      ['quote', 'say "hi"'],
      ['nl', 'one\ntwo'],
    ]);
  });

  it('keeps label values containing braces, commas, equals signs and #', () => {
    const [f] = parseExposition('a{url="https://x/{prefix}?a=b,c#d"} 1\n');
    expect(f?.samples[0]?.labels).toEqual([['url', 'https://x/{prefix}?a=b,c#d']]);
  });

  it('unescapes \\\\ and \\n in HELP and keeps other backslashes', () => {
    const [f] = parseExposition('# HELP a line one\\nline two \\\\ and \\d "quoted"\na 1\n');
    expect(f?.help).toBe('line one\nline two \\ and \\d "quoted"');
  });

  it('reads optional timestamps, including negative ones', () => {
    const [f] = parseExposition('a{x="1"} 1 1704067200000\na{x="2"} 2 -5\na{x="3"} 3\n');
    expect(f?.samples.map((s) => s.timestamp)).toEqual(['1704067200000', '-5', undefined]);
    const [edges] = parseExposition(
      'b{x="1"} 1 9223372036854775807\nb{x="2"} 1 -9223372036854775808\n',
    );
    expect(edges?.samples).toHaveLength(2);
  });

  it('accepts a summary next to an untyped family with its _bucket name (not a summary part)', () => {
    const families = parseExposition('# TYPE s summary\ns_count 1\ns_bucket 1\n');
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['s', 'summary'],
      ['s_bucket', 'untyped'],
    ]);
  });
});

describe('parseExposition: malformed input is a clear error naming the line', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a truncated line (name only)',
      'a 1\nkubeproxy_sync_proxy_rules_duration_seconds_count\n',
      /^line 2: missing value/,
    ],
    [
      'a truncated line inside the labels',
      'a 1\nb 2\nc{ip_family="IPv4",le=',
      /^line 3: expected a quoted value for label le/,
    ],
    ['an unterminated quote', 'a{ip_family="IPv4} 1\n', /^line 1: unterminated label value/],
    ['a line ending in a backslash', 'a{x="abc\\', /^line 1: unterminated label value/],
    ['an invalid escape', 'a{x="\\t"} 1\n', /^line 1: invalid escape sequence "\\t"/],
    ['a bad float', 'a 1.2.3\n', /^line 1: invalid value "1.2.3" for a/],
    ['a word as value', 'a{x="1"} one\n', /^line 1: invalid value "one"/],
    ['a bad timestamp', 'a 1 12:00\n', /^line 1: invalid timestamp "12:00"/],
    ['text after the timestamp', 'a 1 2 3\n', /^line 1: unexpected text after the timestamp/],
    ['a missing "}"', 'a{x="1" 1\n', /^line 1: expected "," or "}"/],
    ['a missing "="', 'a{x "1"} 1\n', /^line 1: expected "=" after label name x/],
    ['an invalid label name', 'a{1x="1"} 1\n', /^line 1: invalid label name/],
    ['a duplicate label', 'a{x="1",x="2"} 1\n', /^line 1: duplicate label x/],
    [
      'the reserved __name__ label',
      'a{__name__="b"} 1\n',
      /^line 1: label name __name__ is reserved/,
    ],
    ['an invalid metric name', '1abc 1\n', /^line 1: invalid metric name/],
    ['junk after a metric name', 'a-b 1\n', /^line 1: invalid character after metric name a/],
    ['an unknown TYPE', '# TYPE a meter\n', /^line 1: unknown metric type "meter"/],
    ['a TYPE without a type', '# TYPE a\n', /^line 1: unknown metric type ""/],
    ['an invalid name in HELP', '# HELP 9a text\n', /^line 1: invalid metric name after # HELP/],
    ['a second TYPE line', '# TYPE a gauge\n# TYPE a gauge\n', /^line 2: second TYPE line for a/],
    ['a second HELP line', '# HELP a x\n# HELP a y\n', /^line 2: second HELP line for a/],
    [
      'a TYPE after the samples',
      'a 1\n# TYPE a gauge\n',
      /^line 2: TYPE line for a after its samples/,
    ],
    [
      'a histogram TYPE after its _sum',
      'h_sum 1\n# TYPE h histogram\n',
      /^line 2: TYPE line for h after samples of h_sum/,
    ],
    [
      'a histogram bucket without le',
      '# TYPE h histogram\nh_bucket{x="1"} 1\n',
      /^line 2: h_bucket has no "le" label/,
    ],
    [
      'a histogram bucket with a bad le',
      '# TYPE h histogram\nh_bucket{le="big"} 1\n',
      /^line 2: h_bucket has a non-numeric "le" label/,
    ],
    [
      'a bare histogram sample',
      '# TYPE h histogram\nh 1\n',
      /^line 2: histogram h has a sample without _bucket/,
    ],
    [
      'a summary quantile without quantile',
      '# TYPE s summary\ns 1\n',
      /^line 2: s has no "quantile" label/,
    ],
    [
      'a timestamp beyond int64',
      'a 1 9223372036854775808\n',
      /^line 1: invalid timestamp "9223372036854775808" for a \(expected int64/,
    ],
    ['a negative timestamp beyond int64', 'a 1 -9223372036854775809\n', /invalid timestamp/],
    ['a value beyond float64', 'a 1e309\n', /^line 1: invalid value "1e309"/],
    [
      'a label bound beyond float64',
      '# TYPE h histogram\nh_bucket{le="-1e309"} 1\n',
      /non-numeric "le"/,
    ],
    [
      'a TYPE for a histogram part after the histogram',
      '# TYPE h histogram\nh_sum 1\n# TYPE h_sum gauge\n',
      /h_sum is a family of its own, but histogram h owns that name/,
    ],
    [
      'a histogram part declared before the histogram',
      '# TYPE h_bucket gauge\n# TYPE h histogram\nh_count 1\n',
      /h_bucket is a family of its own, but histogram h owns that name/,
    ],
    [
      'a HELP for a summary part',
      '# TYPE s summary\n# HELP s_count how many\n',
      /s_count is a family of its own, but summary s owns that name/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(parseError(text).message).toMatch(message);
    });
  }

  it('reports the 1-based line number on the error object', () => {
    expect(parseError('# ok\n\na 1\nb{\n').line).toBe(4);
  });

  it('rejects a duplicate series, whatever its label order', () => {
    expect(parseError('a{x="1",y="2"} 1\na{y="2",x="1"} 2\n').message).toMatch(
      /^line 2: duplicate series a\{x="1",y="2"\}/,
    );
    expect(
      parseError('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1"} 1\n').message,
    ).toMatch(/^line 3: duplicate series/);
    // Same name and labels in another family is the same series too.
    expect(parseError('a 1\nb 1\na 2\n').message).toMatch(/^line 3: duplicate series a\{\}/);
  });

  it('quotes a shortened excerpt of the offending line', () => {
    const message = parseError(`a{x="${'y'.repeat(200)}} 1\n`).message;
    expect(message).toContain('in "a{x=\\"yyyy');
    expect(message.length).toBeLessThan(200);
  });

  it('rejects invalid UTF-8 in a byte body', () => {
    expect(
      parseError(new Uint8Array([0x61, 0x7b, 0x78, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31]))
        .message,
    ).toBe('exposition is not valid UTF-8');
  });
});

describe('parseExposition: limits against hostile input', () => {
  it('rejects a 50 MB body before looking at it', () => {
    const body = Buffer.alloc(50 * 1024 * 1024, 'a');
    const error = parseError(body);
    expect(error.message).toBe(
      `exposition of ${50 * 1024 * 1024} bytes is larger than the limit of ${8 * 1024 * 1024} bytes`,
    );
    expect(error.line).toBeUndefined();
    expect(parseError(body.toString('latin1')).message).toMatch(/larger than 8388608 bytes/);
  });

  it('rejects a 50 MB body of valid series at the series limit when the byte limit allows it', () => {
    const line = 'kubeproxy_sync_proxy_rules_iptables_total{table="filter",n="';
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < 50 * 1024 * 1024; i++) {
      const text = `${line}${i}"} ${i}\n`;
      parts.push(text);
      size += text.length;
    }
    expect(parseError(parts.join(''), { maxBytes: 64 * 1024 * 1024 }).message).toMatch(
      /^line 20001: more than 20000 samples/,
    );
  });

  it('makes the series limit configurable', () => {
    expect(parseError('a 1\nb 1\nc 1\n', { maxSamples: 2 }).message).toMatch(
      /^line 3: more than 2 samples/,
    );
    expect(parseExposition('a 1\nb 1\n', { maxSamples: 2 })).toHaveLength(2);
  });

  it('limits labels per sample and label lengths', () => {
    const many = Array.from({ length: 65 }, (_, i) => `l${i}="v"`).join(',');
    expect(parseError(`a{${many}} 1\n`).message).toMatch(/^line 1: more than 64 labels/);
    expect(parseError(`a{x="${'v'.repeat(4097)}"} 1\n`).message).toMatch(
      /^line 1: label value longer than 4096 characters/,
    );
    expect(parseError(`a{${'n'.repeat(257)}="v"} 1\n`).message).toMatch(
      /^line 1: label name longer than 256 characters/,
    );
    expect(parseError('a{x="abc"} 1\n', { maxLabelValueLength: 2 }).message).toMatch(
      /label value longer than 2/,
    );
  });

  it('limits line length and the number of families (HELP-only lines too)', () => {
    expect(parseError(`# ${'c'.repeat(300 * 1024)}\n`).message).toMatch(
      /^line 1: line longer than 262144 characters/,
    );
    const helps = Array.from({ length: 11 }, (_, i) => `# HELP f${i} x`).join('\n');
    expect(parseError(helps, { maxFamilies: 10 }).message).toMatch(
      /^line 11: more than 10 metric families/,
    );
  });
});

describe('render: passthrough of selected families, unchanged', () => {
  const filter = /^(?:kubeproxy_.*|rest_client_.*)$/;

  it('never passes process_*, go_* or kubenurse_*, whatever the filter', () => {
    const everything = /^(?:.*)$/;
    expect(isPassthroughFamily('process_cpu_seconds_total', everything)).toBe(false);
    expect(isPassthroughFamily('go_goroutines', everything)).toBe(false);
    expect(isPassthroughFamily('kubenurse_errors_total', everything)).toBe(false);
    expect(isPassthroughFamily('kubernetes_build_info', everything)).toBe(true);
    expect(isPassthroughFamily('kubernetes_build_info', filter)).toBe(false);
    expect(isPassthroughFamily('kubeproxy_sync_proxy_rules_duration_seconds', filter)).toBe(true);
    expect(isPassthroughFamily('rest_client_requests_total', filter)).toBe(true);
  });

  it('renders text that parses back to identical families', () => {
    const source = parseExposition(KUBE_PROXY_SAMPLE);
    const selected = selectPassthrough(source, filter);
    expect(selected.map((f) => f.name)).toEqual([
      'kubeproxy_sync_proxy_rules_duration_seconds',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
    ]);
    const text = renderFamilies(selected);
    expect(parseExposition(text)).toEqual(selected);
    // Client-golang formatting survives byte for byte.
    for (const line of text.split('\n').filter((l) => l !== ''))
      expect(KUBE_PROXY_SAMPLE).toContain(line);
  });

  it('round-trips escapes, special values, timestamps, untyped and merged split families', () => {
    const text =
      '# HELP a says "hi" \\\\ back\\nslash\na{x="q\\"b\\\\s\\nn"} NaN 17\nb -Inf\na{x="2"} +Inf\n';
    const source = parseExposition(text);
    const rendered = renderFamilies(source);
    expect(rendered).toBe(
      '# HELP a says "hi" \\\\ back\\nslash\n# TYPE a untyped\na{x="q\\"b\\\\s\\nn"} NaN 17\na{x="2"} +Inf\n# TYPE b untyped\nb -Inf\n',
    );
    expect(parseExposition(rendered)).toEqual(source);
  });

  it('drops families without samples and renders nothing for nothing', () => {
    expect(
      renderFamilies(
        selectPassthrough(
          parseExposition('# HELP kubeproxy_a x\n# TYPE kubeproxy_a gauge\n'),
          filter,
        ),
      ),
    ).toBe('');
  });

  it('escapes exactly the characters the format escapes', () => {
    expect(escapeLabelValue('a\\b"c\nd{}')).toBe('a\\\\b\\"c\\nd{}');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });
});

describe('syncLagSeconds', () => {
  it('is last_queued − last_timestamp per ip_family, 0 when nothing waits', () => {
    const families = parseExposition(
      [
        'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1000',
        'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv6"} 1000',
        'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="IPv4"} 1042.5',
        'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="IPv6"} 999',
        'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="dual"} 5000',
      ].join('\n'),
    );
    expect(syncLagSeconds(families)).toEqual(
      new Map([
        ['IPv4', 42.5],
        ['IPv6', 0],
      ]),
    );
  });

  it('uses "" for kube-proxy versions without the ip_family label, and nothing when absent', () => {
    const families = parseExposition(
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds 10\nkubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 25\n',
    );
    expect(syncLagSeconds(families)).toEqual(new Map([['', 15]]));
    expect(syncLagSeconds(parseExposition('a 1\n'))).toEqual(new Map());
  });
});
