// The alerts: the PrometheusRule and the plain rules file hold the same groups, promtool accepts
// them, and promtool's unit tests (each alert fires on a bad series, stays quiet on good ones)
// pass. Runs the real promtool; without it the tests fail and say what to install.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EXAMPLES, findObject, buildExamples, parseYamlFile, promtool } from './support.ts';
import { KUBE_PROXY_FAMILIES, proberMetricNames, unknownMetricNames } from './metric-names.ts';

/** A Prometheus rule file, as far as these tests read it (promtool checks the whole of it). */
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
/** promtool's unit-test file. */
interface RuleTests {
  rule_files: string[];
  tests: {
    alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
    promql_expr_test?: { expr: string; exp_samples: unknown[] }[];
  }[];
}
/** The part of a Prometheus configuration the scrape-job test rewrites. */
interface ScrapeConfigFile {
  scrape_configs: { kubernetes_sd_configs?: unknown; static_configs?: unknown }[];
}

const RULES_FILE = join(EXAMPLES, 'rules/kubenurse.rules.yaml');
const RULES_TEST_FILE = join(EXAMPLES, 'rules/kubenurse.rules.test.yaml');
const [plainRules] = parseYamlFile(RULES_FILE) as [RuleFile];
const prometheusRule = findObject(buildExamples(), 'PrometheusRule');
const [unitTests] = parseYamlFile(RULES_TEST_FILE) as [RuleTests];
const alerts = plainRules.groups
  .flatMap((group) => group.rules)
  .filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined);

describe('alert rules', () => {
  it('the plain rules file has exactly the PrometheusRule groups (regenerate: node scripts/extract-rules.mjs)', () => {
    expect(plainRules).toEqual({ groups: prometheusRule.spec.groups });
  });

  it('promtool check rules accepts them', () => {
    const result = promtool(['check', 'rules', RULES_FILE]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status, result.output).toBe(0);
  });

  it('promtool check rules rejects a broken expression (the check is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubenurse-rules-'));
    const broken = structuredClone(plainRules);
    const firstRule = broken.groups[0]?.rules[0];
    if (!firstRule) throw new Error(`${RULES_FILE} has no rule`);
    firstRule.expr = 'sum by (node) (rate(kubenurse_errors_total[5m])';
    writeFileSync(join(dir, 'broken.yaml'), stringify(broken));
    const result = promtool(['check', 'rules', join(dir, 'broken.yaml')]);
    expect(result.status).not.toBe(0);
  });

  it('every alert waits (for), has a severity, a summary and a runbook-style description', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(15);
    for (const alert of alerts) {
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      // A runbook: what it means and what to check, not a restated expression.
      expect(String(alert.annotations?.description).length, alert.alert).toBeGreaterThan(200);
    }
  });

  it('covers the signals issue 6 asks for', () => {
    const text = alerts.map((alert) => alert.expr).join('\n');
    for (const needle of [
      'up{job="kube-proxy"}',
      'rest_client_request_duration_seconds_bucket',
      'verb="POST"',
      'rest_client_requests_total',
      'code=~"5.."',
      'kubeproxy_sync_proxy_rules_duration_seconds_bucket',
      'kubenurse_kube_proxy_sync_lag_seconds',
      'kubenurse_kube_proxy_healthz_up',
      'kubenurse_errors_total',
      'type="api_server_direct"',
      'type="api_server_dns"',
      'type="me_service"',
      'type=~"path_.+"',
      'kubenurse_httpclient_request_duration_seconds_bucket',
      'kubenurse_neighbourhood_incoming_checks',
    ]) {
      expect(text, needle).toContain(needle);
    }
  });

  it("rule expressions use only metric names the prober or kube-proxy export, Prometheus' up, and the file's own recording rules", async () => {
    const rules = plainRules.groups.flatMap((group) => group.rules);
    const recorded = rules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record]));
    const exported = new Set([
      ...(await proberMetricNames()),
      ...KUBE_PROXY_FAMILIES,
      'up',
      ...recorded,
    ]);
    expect(
      unknownMetricNames(
        rules.map((rule) => rule.expr),
        exported,
      ),
    ).toEqual([]);
  });

  it('promtool unit tests: each alert fires on a bad series and stays quiet on good ones', () => {
    expect(unitTests.rule_files).toEqual(['kubenurse.rules.yaml']);
    for (const alert of alerts) {
      const cases = unitTests.tests.flatMap((test) =>
        (test.alert_rule_test ?? []).filter((c) => c.alertname === alert.alert),
      );
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${alert.alert} has a firing case`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${alert.alert} has a quiet case`,
      ).toBe(true);
    }
    const result = promtool(['test', 'rules', RULES_TEST_FILE], EXAMPLES);
    expect(result.output).toContain('SUCCESS');
    expect(result.status, result.output).toBe(0);
  });

  it('promtool unit tests fail when an alert does not behave as expected (the check is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubenurse-rules-'));
    const weakened = structuredClone(plainRules);
    for (const group of weakened.groups)
      for (const rule of group.rules)
        if (rule.alert === 'KubenurseServicePathBroken')
          rule.expr = rule.expr.replace('> 0.2', '> 0.9');
    writeFileSync(join(dir, 'kubenurse.rules.yaml'), stringify(weakened));
    writeFileSync(join(dir, 'test.yaml'), readFileSync(RULES_TEST_FILE, 'utf8'));
    const result = promtool(['test', 'rules', 'test.yaml'], dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('KubenurseServicePathBroken');
  });
});

describe('recording rules', () => {
  const records = plainRules.groups
    .flatMap((group) => group.rules)
    .flatMap((rule) => (rule.record === undefined ? [] : [rule.record]));

  /** promtool test rules on the shipped tests against `rules` (a changed copy of the rules file). */
  function testAgainst(rules: RuleFile): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), 'kubenurse-records-'));
    writeFileSync(join(dir, 'kubenurse.rules.yaml'), stringify(rules));
    writeFileSync(join(dir, 'test.yaml'), readFileSync(RULES_TEST_FILE, 'utf8'));
    return promtool(['test', 'rules', 'test.yaml'], dir);
  }

  it('every recording rule has promtool expected samples (input series → recorded values)', () => {
    expect(records).toEqual(
      expect.arrayContaining([
        'kubenurse:path_request_duration_seconds_bucket:rate5m',
        'kubenurse:path_trace_request_duration_seconds_bucket:rate5m',
        'kubenurse:path_error_ratio:rate5m',
      ]),
    );
    const tested = unitTests.tests.flatMap((test) =>
      (test.promql_expr_test ?? []).filter((c) => c.exp_samples.length > 0).map((c) => c.expr),
    );
    for (const record of records) expect(tested, record).toContain(record);
    // The fleet rules are fed the series of all three KUBENURSE_NEIGHBOUR_TRACE_METRICS modes.
    const fleetInput = JSON.stringify(unitTests.tests);
    expect(fleetInput).toContain('type=\\"path_*\\"');
    expect(fleetInput).toContain('type=\\"path_b\\",event=\\"connect_done\\"');
  });

  it.each([
    [
      'a fleet sum by the wrong label',
      'kubenurse:path_requests:rate5m',
      'sum by (node)',
      'sum by (type)',
    ],
    [
      'a fleet sum missing a neighbour mode',
      'kubenurse:path_trace_request_duration_seconds_bucket:rate5m',
      'path_.+',
      'path_[a-z]+',
    ],
    [
      'a fleet sum letting other jobs in',
      'kubenurse:path_errors_by_target:rate5m',
      'job="kubenurse", ',
      '',
    ],
  ])('promtool unit tests fail on %s (the check is real)', (_what, record, from, to) => {
    const broken = structuredClone(plainRules);
    const rule = broken.groups.flatMap((group) => group.rules).find((r) => r.record === record);
    if (!rule) throw new Error(`no recording rule ${record}`);
    expect(rule.expr).toContain(from);
    rule.expr = rule.expr.replace(from, to);
    const result = testAgainst(broken);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(record);
  });
});

describe('plain Prometheus scrape job for kube-proxy', () => {
  it('is a scrape config promtool accepts (kubernetes_sd_configs swapped for static targets)', () => {
    // Debian's Prometheus is built without Kubernetes discovery, so promtool cannot parse
    // kubernetes_sd_configs; everything else (relabel regexes, fields, durations) is checked.
    const [config] = parseYamlFile(join(EXAMPLES, 'prometheus-kube-proxy-job.yaml')) as [
      ScrapeConfigFile,
    ];
    for (const job of config.scrape_configs) {
      expect(job.kubernetes_sd_configs).toBeDefined();
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ['127.0.4.1:10249'] }];
    }
    const dir = mkdtempSync(join(tmpdir(), 'kubenurse-scrape-'));
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const result = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    expect(result.status, result.output).toBe(0);
  });
});
