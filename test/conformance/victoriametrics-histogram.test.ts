// KUBENURSE_VICTORIAMETRICS_HISTOGRAM=true as upstream implements it: the duration histograms
// come from VictoriaMetrics/metrics' GetOrCreateHistogram (internal/kubenurse/server.go), whose
// exposition is `_bucket{vmrange="…"}`, `_sum`, `_count` (VictoriaMetrics/metrics v1.43
// histogram.go; the vectors below are that library's histogram_test.go). Real processes and
// real probes on loopback (127.0.6.0/24 belongs to this file), promtool on the output.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';
import { bucketIndex, goExponent3, goFloat, vmrange, VmHistogram } from '../../src/vm-histogram.ts';
import { eventually } from '../support/eventually.ts';

describe('vmrange buckets (VictoriaMetrics/metrics histogram_test.go)', () => {
  it('TestGetVMRange', () => {
    expect(vmrange(0)).toBe('1.000e-09...1.136e-09');
    expect(vmrange(1)).toBe('1.136e-09...1.292e-09');
    expect(vmrange(17)).toBe('8.799e-09...1.000e-08');
    expect(vmrange(18)).toBe('1.000e-08...1.136e-08');
    expect(vmrange(18 * 9 - 1)).toBe('8.799e-01...1.000e+00');
    expect(vmrange(18 * 9)).toBe('1.000e+00...1.136e+00');
    expect(vmrange(18 * 27 - 1)).toBe('8.799e+17...1.000e+18');
  });

  it('TestHistogramSerial: 98…217 in one series', () => {
    const h = new VmHistogram<never>({ name: 'prefix', help: 'h', labelNames: [] });
    for (let i = 98; i < 218; i++) h.observe({}, i);
    expect(h.render()).toBe(
      [
        '# HELP prefix h',
        '# TYPE prefix untyped',
        'prefix_bucket{vmrange="8.799e+01...1.000e+02"} 3',
        'prefix_bucket{vmrange="1.000e+02...1.136e+02"} 13',
        'prefix_bucket{vmrange="1.136e+02...1.292e+02"} 16',
        'prefix_bucket{vmrange="1.292e+02...1.468e+02"} 17',
        'prefix_bucket{vmrange="1.468e+02...1.668e+02"} 20',
        'prefix_bucket{vmrange="1.668e+02...1.896e+02"} 23',
        'prefix_bucket{vmrange="1.896e+02...2.154e+02"} 26',
        'prefix_bucket{vmrange="2.154e+02...2.448e+02"} 2',
        'prefix_sum 18900',
        'prefix_count 120',
        '',
      ].join('\n'),
    );
  });

  it('edge cases: zero and tiny values, +Inf, ignored NaN and negatives', () => {
    const h = new VmHistogram({ name: 'm', help: 'h', labelNames: ['type'] });
    for (const v of [0, 1e-12, Infinity, NaN, -1, 1e19]) h.observe({ type: 'x' }, v);
    expect(h.render()).toContain('m_bucket{type="x",vmrange="0...1.000e-09"} 2');
    expect(h.render()).toContain('m_bucket{type="x",vmrange="1.000e+18...+Inf"} 2');
    expect(h.render()).toContain('m_count{type="x"} 4');
    expect(bucketIndex(NaN)).toBeUndefined();
  });

  it('every value lands in the bucket whose bounds, computed directly, enclose it', () => {
    // Bounds 10^(-9 + i/18) computed one by one (the library multiplies step by step).
    const bounds = Array.from({ length: 487 }, (_, i) => Math.pow(10, -9 + i / 18));
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 2000; n++) {
      const value = Math.pow(10, -8.5 + random() * 12);
      const i = bounds.findIndex(
        (bound, k) => k < 486 && bound < value && value <= (bounds[k + 1] as number),
      );
      expect(vmrange(bucketIndex(value) as number)).toBe(
        `${goExponent3(bounds[i] as number)}...${goExponent3(bounds[i + 1] as number)}`,
      );
    }
  });

  it('sums print as Go prints them', () => {
    expect(goFloat(18900)).toBe('18900');
    expect(goFloat(0.0031)).toBe('0.0031');
    expect(goFloat(123456.5)).toBe('123456.5');
    expect(goFloat(1234567.5)).toBe('1.2345675e+06');
    expect(goFloat(0.00001234)).toBe('1.234e-05');
  });
});

/** name{labels} value lines of a Prometheus text exposition (comments and blank lines skipped). */
function samples(
  text: string,
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    out.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return out;
}

const HISTOGRAMS = [
  'kubenurse_httpclient_request_duration_seconds',
  'kubenurse_httpclient_trace_request_duration_seconds',
];
const HOST = '127.0.6.1';
const servers: Server[] = [];
let targetPort = 0;
const probers: ProberProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function scrapeWhenReady(vm: boolean): Promise<string> {
  const port = await freePort();
  const prober = startProber({
    ...QUIET_PROBER_ENV,
    KUBENURSE_BIND_ADDRESS: HOST,
    KUBENURSE_PORT: String(port),
    KUBENURSE_CHECK_INTERVAL: '1s',
    KUBENURSE_EXTRA_CHECKS: `ok_check:http://${HOST}:${targetPort}/ok|missing:http://${HOST}:${targetPort}/missing`,
    ...(vm ? { KUBENURSE_VICTORIAMETRICS_HISTOGRAM: 'true' } : {}),
  });
  probers.push(prober);
  await prober.waitUntilServing();
  let text = '';
  await eventually(async () => {
    text = await (await fetch(`${prober.baseUrl}/metrics`)).text();
    // At least two rounds, so counts above one are checked too.
    expect(text).toMatch(
      /kubenurse_httpclient_request_duration_seconds_count\{type="ok_check"\} [2-9]/,
    );
  }, 20_000);
  return text;
}

beforeAll(async () => {
  const target = createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 404).end());
  servers.push(target);
  await new Promise<void>((resolve) => target.listen(0, HOST, resolve));
  targetPort = (target.address() as AddressInfo).port;
});

afterAll(async () => {
  await Promise.all(probers.map((prober) => prober.stop()));
  for (const server of servers) server.close();
});

describe('a prober with KUBENURSE_VICTORIAMETRICS_HISTOGRAM=true', () => {
  it('exposes the same metric names, with vmrange buckets, consistent counts, accepted by promtool', async () => {
    const [vmText, defaultText] = await Promise.all([
      scrapeWhenReady(true),
      scrapeWhenReady(false),
    ]);
    const vm = samples(vmText);
    const base = samples(defaultText);

    // Same families: every name of the default mode exists, with _bucket/_sum/_count parts.
    const families = (list: typeof vm) =>
      new Set(
        list
          .map((s) => s.name.replace(/_(bucket|sum|count)$/, ''))
          .filter((n) => n.startsWith('kubenurse_')),
      );
    expect([...families(vm)].sort()).toEqual([...families(base)].sort());
    for (const name of HISTOGRAMS)
      for (const part of ['_bucket', '_sum', '_count'])
        expect(
          vm.some((s) => s.name === `${name}${part}`),
          `${name}${part}`,
        ).toBe(true);

    // Buckets are vmrange only; per series the bucket counts add up to _count, and every
    // non-empty range is one of the library's.
    for (const name of HISTOGRAMS) {
      const buckets = vm.filter((s) => s.name === `${name}_bucket`);
      expect(
        buckets.every((s) => s.labels.le === undefined && s.labels.vmrange !== undefined),
      ).toBe(true);
      for (const count of vm.filter((s) => s.name === `${name}_count`)) {
        const same = (s: (typeof vm)[number]) =>
          Object.entries(count.labels).every(([k, v]) => s.labels[k] === v);
        const inBuckets = buckets.filter(same).reduce((sum, s) => sum + s.value, 0);
        expect(inBuckets, JSON.stringify(count.labels)).toBe(count.value);
        expect(buckets.filter(same).every((s) => s.value > 0)).toBe(true);
        const sum = vm.find((s) => s.name === `${name}_sum` && same(s));
        expect(sum?.value).toBeGreaterThan(0);
        for (const bucket of buckets.filter(same)) {
          const [low, high] = (bucket.labels.vmrange as string).split('...').map(Number) as [
            number,
            number,
          ];
          expect(high).toBeGreaterThan(low);
        }
      }
    }
    // The 404 check still counts as it does in the default mode.
    expect(vmText).toMatch(
      /kubenurse_errors_total\{type="missing",event="status_code_404"\} [1-9]/,
    );

    const promtool = spawnSync('promtool', ['check', 'metrics'], {
      input: vmText,
      encoding: 'utf8',
    });
    expect(
      promtool.error,
      'promtool (Debian package prometheus) must be installed',
    ).toBeUndefined();
    const remarks = (promtool.stdout + promtool.stderr)
      .split('\n')
      .filter((line) => line.trim() !== '');
    const allowed = new RegExp(`^(${HISTOGRAMS.join('|')})_(bucket|sum|count) no help text$`);
    // Beyond what the default mode already draws, the only remark allowed: vmrange parts have
    // no HELP of their own (the library writes it once, for the family name, TYPE untyped).
    expect(remarks.join('\n')).not.toMatch(/parsing error|error while linting/);
    expect([0, 3]).toContain(promtool.status);
    const baseline = spawnSync('promtool', ['check', 'metrics'], {
      input: defaultText,
      encoding: 'utf8',
    });
    const baselineRemarks = new Set(
      (baseline.stdout + baseline.stderr).split('\n').filter((l) => l.trim() !== ''),
    );
    expect(remarks.filter((line) => !allowed.test(line) && !baselineRemarks.has(line))).toEqual([]);
  });
});
