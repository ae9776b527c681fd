// Reading a prober's /metrics the way the assertions need it, with the project's own
// exposition parser (src/kubeproxy/parse.ts, unit-tested on its own).
import { parseExposition } from '../../../src/kubeproxy/parse.ts';
import type { MetricFamily, Sample } from '../../../src/kubeproxy/parse.ts';

export class MetricsSnapshot {
  readonly families: Map<string, MetricFamily>;

  constructor(text: string) {
    this.families = new Map(parseExposition(text).map((family) => [family.name, family]));
  }

  samples(sampleName: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    const family =
      this.families.get(sampleName.replace(/_(bucket|count|sum)$/, '')) ??
      this.families.get(sampleName);
    if (!family) return [];
    return family.samples.filter(
      (sample) =>
        sample.name === sampleName &&
        Object.entries(labels).every(([key, value]) =>
          sample.labels.some(([k, v]) => k === key && v === value),
        ),
    );
  }

  /** Sum of the matching samples; 0 when there are none (a counter never incremented). */
  value(sampleName: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.samples(sampleName, labels).reduce((sum, sample) => sum + sample.value, 0);
  }

  /** `kubenurse_errors_total` as "type event" → count. */
  errors(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const sample of this.samples('kubenurse_errors_total')) {
      const labels = Object.fromEntries(sample.labels);
      counts.set(`${labels.type} ${labels.event}`, sample.value);
    }
    return counts;
  }

  /** Every `type` label value with a request-duration histogram. */
  types(): string[] {
    return [
      ...new Set(
        this.samples('kubenurse_httpclient_requests_total').map(
          (sample) => Object.fromEntries(sample.labels).type ?? '',
        ),
      ),
    ];
  }
}

/** "type event" keys whose count grew from `before` to `after`. */
export function grownErrors(before: MetricsSnapshot, after: MetricsSnapshot): Map<string, number> {
  const grown = new Map<string, number>();
  const old = before.errors();
  for (const [key, count] of after.errors()) {
    const delta = count - (old.get(key) ?? 0);
    if (delta > 0) grown.set(key, delta);
  }
  return grown;
}
