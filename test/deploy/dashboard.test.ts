// The Grafana dashboard: valid JSON with the variables and panels issue 6 asks for; every
// query is valid PromQL (checked by promtool as recording rules, Grafana variables replaced by
// concrete values) and uses only metric names the prober or kube-proxy export.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config.ts';
import { EXAMPLES, promtool } from './support.ts';
import {
  KUBE_PROXY_FAMILIES,
  metricNamesIn,
  proberMetricNames,
  unknownMetricNames,
} from './metric-names.ts';

/** The parts of Grafana's dashboard JSON model these tests read. */
interface Target {
  refId: string;
  expr: string;
  datasource?: unknown;
}
interface Panel {
  type: string;
  title: string;
  datasource?: unknown;
  targets?: Target[];
  panels?: Panel[];
  transformations?: { id: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  allValue?: string;
  current?: { value: string };
}
interface Dashboard {
  uid: string;
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboard = JSON.parse(
  readFileSync(join(EXAMPLES, 'grafana-dashboard.json'), 'utf8'),
) as Dashboard;
const variables = dashboard.templating.list;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queries = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({
    panel: panel.title,
    refId: target.refId,
    expr: target.expr,
  })),
);

/** Grafana's variables replaced by values Prometheus accepts; `$1` in label_replace stays. */
function substituteVariables(expr: string, chosen: Record<string, string> = {}): string {
  const values: Record<string, string> = { __rate_interval: '5m', __interval: '1m', __range: '6h' };
  for (const variable of variables) {
    if (variable.type === 'custom') values[variable.name] = variable.current?.value ?? '';
    else if (variable.type === 'query') values[variable.name] = variable.allValue ?? '.*';
  }
  Object.assign(values, chosen);
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) =>
      values[(braced ?? bare) as string] ?? whole,
  );
}

/** label_values(selector, label) → the selector, which must be valid PromQL on its own. */
function variableSelectors(): { name: string; expr: string }[] {
  return variables
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query =
        typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      const match = /^label_values\((.*),\s*(\w+)\)$/.exec(query);
      if (!match)
        throw new Error(
          `variable ${variable.name}: expected label_values(selector, label), got ${query}`,
        );
      return { name: variable.name, expr: match[1] as string };
    });
}

function checkAsRecordingRules(exprs: readonly { name: string; expr: string }[]): {
  status: number | null;
  output: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'kubenurse-dashboard-'));
  const rules = {
    groups: [
      {
        name: 'dashboard',
        rules: exprs.map(({ expr }, index) => ({
          record: `dashboard:query_${index}`,
          expr: substituteVariables(expr),
        })),
      },
    ],
  };
  writeFileSync(join(dir, 'dashboard.rules.yaml'), stringify(rules, { lineWidth: 0 }));
  return promtool(['check', 'rules', join(dir, 'dashboard.rules.yaml')]);
}

/** promtool series notation: `name{labels}` counting up by `perMinute` for 10 minutes. */
function inputSeries(name: string, labels: Record<string, string>, perMinute: number) {
  const text = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  return { series: `${name}{${text}}`, values: `0+${perMinute}x10` };
}

/**
 * What one prober on node `a` exports for its neighbour b (type path_b) and the built-in
 * me_service check in each KUBENURSE_NEIGHBOUR_TRACE_METRICS mode. Built-in probes finish
 * within 0.1 s, neighbour probes between 0.1 s and 1 s, so a quantile tells which were summed.
 */
function proberSeries(mode: 'full' | 'aggregated' | 'off') {
  const trace = (type: string, fast: boolean) =>
    ['0.1', '1', '+Inf'].map((le) =>
      inputSeries(
        'kubenurse_httpclient_trace_request_duration_seconds_bucket',
        { job: 'kubenurse', node: 'a', type, event: 'connect_done', le },
        le === '0.1' && !fast ? 0 : 60,
      ),
    );
  const neighbourTrace = {
    full: trace('path_b', false),
    aggregated: trace('path_*', false),
    off: [],
  };
  return [
    ...trace('me_service', true),
    ...neighbourTrace[mode],
    ...['path_b', 'me_service'].map((type) =>
      inputSeries(
        'kubenurse_httpclient_requests_total',
        { job: 'kubenurse', node: 'a', type, code: '200' },
        60,
      ),
    ),
  ];
}

/** histogram_quantile(q) over equal rates of built-in (≤ 0.1 s) and neighbour (0.1–1 s) probes. */
function expectedQuantile(q: number, summed: 'builtin' | 'neighbour' | 'both'): number {
  if (summed === 'builtin') return 0.1 * q;
  if (summed === 'neighbour') return 0.1 + 0.9 * q;
  return 2 * q <= 1 ? 0.1 * 2 * q : 0.1 + 0.9 * (2 * q - 1);
}

describe('Grafana dashboard', () => {
  it('has a stable uid, a datasource variable, and cluster, node and type variables', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    const byName = Object.fromEntries(variables.map((variable) => [variable.name, variable]));
    expect(byName.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['cluster', 'node', 'type']) expect(byName[name]?.type, name).toBe('query');
  });

  it('queries through the datasource variable everywhere', () => {
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? [])
        expect(target.datasource, panel.title).toEqual({
          type: 'prometheus',
          uid: '${datasource}',
        });
    }
  });

  it('has the panels issue 6 asks for', () => {
    const exprOf = (pattern: RegExp): string[] =>
      queries.filter((q) => pattern.test(q.expr)).map((q) => q.panel);
    const latency = exprOf(
      /histogram_quantile\(0\.(5|9|99), sum by \(type, le\) \(rate\(kubenurse_httpclient_request_duration_seconds_bucket/,
    );
    expect(new Set(latency).size, 'latency p50/p90/p99 per type').toBe(1);
    expect(queries.filter((q) => latency.includes(q.panel))).toHaveLength(3);
    expect(
      panels.some(
        (p) =>
          p.type === 'heatmap' &&
          /kubenurse_httpclient_request_duration_seconds_bucket/.test(p.targets?.[0]?.expr ?? ''),
      ),
      'latency heatmap',
    ).toBe(true);
    expect(
      exprOf(/sum by \(type, event\) \(rate\(kubenurse_errors_total/),
      'errors per type and event',
    ).not.toHaveLength(0);
    expect(
      exprOf(
        /kubenurse_httpclient_trace_request_duration_seconds_bucket.*dns_done\|connect_done\|tls_handshake_done\|got_first_resp_byte/,
      ),
      'phase breakdown',
    ).not.toHaveLength(0);
    expect(
      panels.filter((p) => p.transformations?.some((t) => t.id === 'groupingToMatrix')),
      'node-to-node matrices (error ratio, latency, layer at fault)',
    ).toHaveLength(3);
    expect(exprOf(/kubenurse_neighbour_verdict/), 'layer verdicts (docs/layers.md)').toHaveLength(
      2,
    );
    for (const family of [
      'kubeproxy_sync_proxy_rules_duration_seconds_bucket',
      'kubeproxy_network_programming_duration_seconds_bucket',
      'kubenurse_kube_proxy_sync_lag_seconds',
      'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
      'kubeproxy_sync_proxy_rules_service_changes_pending',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
    ]) {
      expect(exprOf(new RegExp(`\\b${family}\\b`)), family).not.toHaveLength(0);
    }
    expect(
      exprOf(/rest_client_requests_total\{[^}]*code=~"5\.\."/),
      'rest_client 5xx ratio',
    ).not.toHaveLength(0);
  });

  it('lays panels out without overlaps', () => {
    const cells = new Map<string, string>();
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          const key = `${row}:${column}`;
          expect(cells.get(key), `${panel.title} overlaps ${cells.get(key)}`).toBeUndefined();
          cells.set(key, panel.title);
        }
      }
    }
  });

  it('every query is valid PromQL (promtool, as recording rules)', () => {
    expect(queries.length).toBeGreaterThan(20);
    const exprs = [
      ...queries.map((q) => ({ name: `${q.panel} ${q.refId}`, expr: q.expr })),
      ...variableSelectors(),
    ];
    for (const { name, expr } of exprs)
      expect(substituteVariables(expr), `${name}: unreplaced Grafana variable`).not.toMatch(
        /\$(?!1\b)\{?\w/,
      );
    const result = checkAsRecordingRules(exprs);
    expect(result.output, result.output).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(result.status).toBe(0);
  });

  it('the PromQL check is real: promtool rejects a broken query', () => {
    const result = checkAsRecordingRules([
      {
        name: 'broken',
        expr: 'sum by (type) (rate(kubenurse_errors_total{type=~"$type"}[$__rate_interval])',
      },
    ]);
    expect(result.status).not.toBe(0);
  });

  it('the phase panels show the neighbour paths in every KUBENURSE_NEIGHBOUR_TRACE_METRICS mode (promtool evaluates them)', () => {
    const phaseQueries = queries.filter((q) =>
      q.expr.includes('kubenurse_httpclient_trace_request_duration_seconds_bucket'),
    );
    expect(phaseQueries.map((q) => q.panel)).toEqual([
      'Time to each request phase (p50)',
      'Time to each request phase (p99)',
    ]);
    // $type as Grafana fills it: All (the variable's allValue), one value, several values.
    const selections = {
      all: '.*',
      neighbour: 'path_b',
      builtin: 'me_service',
      both: '(path_b|me_service)',
    };
    const cases = [
      ...(['full', 'aggregated'] as const).flatMap((mode) => [
        { mode, type: selections.all, summed: 'both' as const },
        { mode, type: selections.neighbour, summed: 'neighbour' as const },
        { mode, type: selections.builtin, summed: 'builtin' as const },
        { mode, type: selections.both, summed: 'both' as const },
      ]),
      // off: no neighbour trace series exist, the built-in checks keep theirs.
      { mode: 'off' as const, type: selections.all, summed: 'builtin' as const },
      { mode: 'off' as const, type: selections.neighbour, summed: undefined },
      { mode: 'off' as const, type: selections.both, summed: 'builtin' as const },
    ];
    const tests = cases.map(({ mode, type, summed }) => ({
      name: `${mode}, type=${type}`,
      interval: '1m',
      input_series: proberSeries(mode),
      promql_expr_test: phaseQueries.map(({ expr }) => {
        const q = Number(/^histogram_quantile\(([\d.]+),/.exec(expr)?.[1]);
        return {
          expr: substituteVariables(expr, { type }),
          eval_time: '10m',
          exp_samples:
            summed === undefined
              ? []
              : [{ labels: '{event="connect_done"}', value: expectedQuantile(q, summed) }],
        };
      }),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'kubenurse-dashboard-'));
    writeFileSync(join(dir, 'none.rules.yaml'), stringify({ groups: [] }));
    const run = (testList: typeof tests) => {
      writeFileSync(
        join(dir, 'test.yaml'),
        stringify({ rule_files: ['none.rules.yaml'], tests: testList }, { lineWidth: 0 }),
      );
      return promtool(['test', 'rules', 'test.yaml'], dir);
    };
    const result = run(tests);
    expect(result.output, result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
    // The check is real: the neighbour paths summed in where only me_service is selected fail it.
    const wrong = structuredClone(tests.filter((t) => t.name === 'aggregated, type=me_service'));
    for (const exprTest of wrong.flatMap((t) => t.promql_expr_test))
      for (const sample of exprTest.exp_samples)
        sample.value = expectedQuantile(
          Number(/^histogram_quantile\(([\d.]+),/.exec(exprTest.expr)?.[1]),
          'both',
        );
    expect(wrong).toHaveLength(1);
    expect(run(wrong).status).not.toBe(0);
  });

  it('uses only metric names the prober or kube-proxy export', async () => {
    const exported = new Set([...(await proberMetricNames()), ...KUBE_PROXY_FAMILIES]);
    // The names defined in src/ (checked here so a renamed metric cannot pass unnoticed).
    for (const name of [
      'kubenurse_httpclient_request_duration_seconds',
      'kubenurse_errors_total',
      'kubenurse_kube_proxy_sync_lag_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(exported.has(name), name).toBe(true);
    }
    const exprs = [...queries.map((q) => q.expr), ...variableSelectors().map((v) => v.expr)];
    expect(new Set(exprs.flatMap(metricNamesIn)).size).toBeGreaterThan(15);
    expect(unknownMetricNames(exprs, exported)).toEqual([]);
    // The check is real: an unknown name is reported.
    expect(unknownMetricNames(['rate(kubenurse_no_such_metric_total[5m])'], exported)).toEqual([
      'kubenurse_no_such_metric_total',
    ]);
  });

  it('uses only kube-proxy families the prober re-exposes by default', () => {
    const filter = parseConfig({}).kubeProxyMetricsFilter;
    const kubeProxyNames = [...new Set(queries.flatMap((q) => metricNamesIn(q.expr)))].filter(
      (name) => /^(kubeproxy_|rest_client_)/.test(name),
    );
    expect(kubeProxyNames.length).toBeGreaterThan(5);
    for (const name of kubeProxyNames)
      expect(filter.test(name.replace(/_(bucket|sum|count)$/, '')), name).toBe(true);
  });

  it('finds metric names in PromQL correctly', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (node, le) (rate(a_bucket{x="y{z}"}[5m]))) / on (node) group_left(foo) b_total',
      ),
    ).toEqual(['a_bucket', 'b_total']);
    expect(
      metricNamesIn(
        'label_replace(c, "t", "$1", "type", "path_(.+)") > 1e3 and on () count(d) > 1',
      ),
    ).toEqual(['c', 'd']);
  });
});
