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
function substituteVariables(expr: string): string {
  const values: Record<string, string> = { __rate_interval: '5m', __interval: '1m', __range: '6h' };
  for (const variable of variables) {
    if (variable.type === 'custom') values[variable.name] = variable.current?.value ?? '';
    else if (variable.type === 'query') values[variable.name] = variable.allValue ?? '.*';
  }
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
