// Derived signals computed from a parsed kube-proxy exposition.
import type { MetricFamily } from './parse.ts';

const LAST_SYNC_FAMILY = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
const LAST_QUEUED_FAMILY = 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds';

/** Only values whose every family exposes this label can exist; kube-proxy uses IPv4/IPv6. */
const MAX_IP_FAMILIES = 8;

function byIpFamily(families: readonly MetricFamily[], name: string): Map<string, number> {
  const values = new Map<string, number>();
  const family = families.find((candidate) => candidate.name === name);
  for (const sample of family?.samples ?? []) {
    if (sample.name !== name || !Number.isFinite(sample.value)) continue;
    // kube-proxy before the ip_family label (< 1.30 for these gauges) exposes one unlabelled series.
    const ipFamily = sample.labels.find(([label]) => label === 'ip_family')?.[1] ?? '';
    if (values.size < MAX_IP_FAMILIES || values.has(ipFamily)) values.set(ipFamily, sample.value);
  }
  return values;
}

/**
 * The seeds' "sync is hung" signal, per ip_family: last_queued_timestamp − last_timestamp.
 * A change queued after the last completed sync makes it positive, and it keeps growing
 * while the sync loop is stuck; after a sync it is negative or zero, reported as 0 ("nothing
 * waiting"). Only ip_families present in both gauges are reported.
 */
export function syncLagSeconds(families: readonly MetricFamily[]): Map<string, number> {
  const lastSync = byIpFamily(families, LAST_SYNC_FAMILY);
  const lastQueued = byIpFamily(families, LAST_QUEUED_FAMILY);
  const lag = new Map<string, number>();
  for (const [ipFamily, queued] of lastQueued) {
    const synced = lastSync.get(ipFamily);
    if (synced !== undefined) lag.set(ipFamily, Math.max(0, queued - synced));
  }
  return lag;
}
