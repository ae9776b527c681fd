// Which metric names exist: the prober's (from its registry and from the names defined in src/)
// and kube-proxy's; and which names a PromQL expression uses.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProbeMetrics } from '../../src/metrics.ts';
import { ROOT } from './support.ts';

/**
 * kube-proxy families (REFERENCE.md, "kube-proxy — what to scrape"). The prober re-exposes the
 * ones matching KUBENURSE_KUBE_PROXY_METRICS; a test below checks the dashboard's all match it.
 */
export const KUBE_PROXY_FAMILIES = [
  'kubeproxy_sync_proxy_rules_duration_seconds',
  'kubeproxy_sync_full_proxy_rules_duration_seconds',
  'kubeproxy_sync_partial_proxy_rules_duration_seconds',
  'kubeproxy_network_programming_duration_seconds',
  'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
  'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
  'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
  'kubeproxy_sync_proxy_rules_endpoint_changes_total',
  'kubeproxy_sync_proxy_rules_service_changes_pending',
  'kubeproxy_sync_proxy_rules_service_changes_total',
  'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
  'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
  'kubeproxy_sync_proxy_rules_iptables_total',
  'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
  'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
  'kubeproxy_proxy_healthz_total',
  'kubeproxy_proxy_livez_total',
  'rest_client_requests_total',
  'rest_client_request_duration_seconds',
];

/** Metric names the prober exports: its registry (incl. process_* / nodejs_*) plus every name defined in src/. */
export async function proberMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const metrics = new ProbeMetrics({
    buckets: [0.1, 1],
    legacyMetrics: true,
    incomingChecks: () => 0,
  });
  for (const metric of await metrics.registry.getMetricsAsJSON()) names.add(metric.name);
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true }).filter(
    (entry) => entry.isFile() && entry.name.endsWith('.ts'),
  );
  for (const entry of files) {
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const match of text.matchAll(/\$\{METRIC_PREFIX\}([a-z0-9_]+)/g))
      names.add(`kubenurse_${match[1]}`);
    for (const match of text.matchAll(/['"`](kubenurse_[a-z0-9_]+)['"`]/g))
      names.add(match[1] as string);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or strings. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, identifier, call] = match as unknown as [string, string, string | undefined];
    if (call !== undefined || PROMQL_KEYWORDS.has(identifier.toLowerCase())) continue;
    names.push(identifier);
  }
  return names;
}

/** The names in `exprs` that are neither exported nor a histogram/summary series of an exported family. */
export function unknownMetricNames(
  exprs: readonly string[],
  exported: ReadonlySet<string>,
): string[] {
  const used = new Set(exprs.flatMap(metricNamesIn));
  const known = (name: string): boolean =>
    exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ''));
  return [...used].filter((name) => !known(name)).sort();
}
