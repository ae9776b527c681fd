// KUBENURSE_VICTORIAMETRICS_HISTOGRAM=true: the histogram exposition of the VictoriaMetrics/metrics
// Go library (v1.43, histogram.go), which upstream uses in that mode. Fixed log-spaced buckets,
// 18 per decade from 1e-9 to 1e18, each `<start>...<end>` with start excluded and end included
// (Prometheus' `le` convention); only non-empty buckets are written, then `_sum` and `_count`:
//
//   name_bucket{type="me_ingress",vmrange="1.000e-03...1.136e-03"} 3
//   name_sum{type="me_ingress"} 0.0031
//   name_count{type="me_ingress"} 3

const E10_MIN = -9;
const E10_MAX = 18;
const BUCKETS_PER_DECADE = 18;
const BUCKETS = (E10_MAX - E10_MIN) * BUCKETS_PER_DECADE;
/** Index of the values below 1e-9 (zero included) and of those above 1e18. */
const LOWER = -1;
const UPPER = BUCKETS;

/** Go's "%.3e": at least two exponent digits, e.g. 1.136e-09, 1.000e+18. */
export function goExponent3(value: number): string {
  const [mantissa, exponent] = value.toExponential(3).split('e') as [string, string];
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
}

let ranges: string[] | undefined;

/**
 * The library computes the bounds by repeated multiplication, so rounding accumulates exactly
 * as it does here (the same IEEE doubles); formatted to four digits the last bits never show.
 */
function bucketRanges(): string[] {
  if (ranges) return ranges;
  const multiplier = Math.pow(10, 1 / BUCKETS_PER_DECADE);
  let value = 1e-9;
  let start = goExponent3(value);
  const built: string[] = [];
  for (let i = 0; i < BUCKETS; i++) {
    value *= multiplier;
    const end = goExponent3(value);
    built.push(`${start}...${end}`);
    start = end;
  }
  ranges = built;
  return built;
}

export function vmrange(index: number): string {
  if (index === LOWER) return `0...${goExponent3(1e-9)}`;
  if (index === UPPER) return `${goExponent3(1e18)}...+Inf`;
  return bucketRanges()[index] as string;
}

/** The library's Update(): which bucket a value counts in; undefined for NaN and negatives (ignored). */
export function bucketIndex(value: number): number | undefined {
  if (Number.isNaN(value) || value < 0) return undefined;
  const position = (Math.log10(value) - E10_MIN) * BUCKETS_PER_DECADE;
  if (position < 0) return LOWER;
  if (position >= BUCKETS) return UPPER;
  let index = Math.trunc(position);
  // A power of ten is the upper bound of the bucket below it (le semantics).
  if (position === index && index > 0) index--;
  return index;
}

/** Go's "%g" for the sum as the library prints it (integers as "%d"). */
export function goFloat(value: number): string {
  if (Number.isInteger(value)) return value.toFixed(0);
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  const [digits, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  // Shortest digits, as Go's strconv with precision -1, which switches to the exponent form
  // below 1e-4 and from 1e6 on (e.g. 1.2345675e+06).
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${digits}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

interface Series {
  readonly labels: string;
  readonly counts: Map<number, number>;
  sum: number;
}

/**
 * One histogram family with labels, kept as the library keeps one Histogram per label set.
 * observe/remove have prom-client's shape, so the metrics registry can use either kind.
 */
export class VmHistogram<L extends string> {
  private readonly name: string;
  private readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly series = new Map<string, Series>();

  constructor(options: { name: string; help: string; labelNames: readonly L[] }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
  }

  private labelText(labels: Partial<Record<L, string>>): string {
    return this.labelNames
      .map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`)
      .join(',');
  }

  observe(labels: Partial<Record<L, string>>, value: number): void {
    const index = bucketIndex(value);
    if (index === undefined) return;
    const key = this.labelText(labels);
    let series = this.series.get(key);
    if (!series) {
      series = { labels: key, counts: new Map(), sum: 0 };
      this.series.set(key, series);
    }
    series.sum += value;
    series.counts.set(index, (series.counts.get(index) ?? 0) + 1);
  }

  remove(labels: Partial<Record<L, string>>): void {
    this.series.delete(this.labelText(labels));
  }

  /**
   * HELP and a TYPE of `untyped`, as the library writes with metadata on: the samples carry
   * `vmrange`, not `le`, so they are not a Prometheus histogram and must not claim to be one.
   */
  render(): string {
    if (this.series.size === 0) return '';
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} untyped`];
    for (const series of this.series.values()) {
      let count = 0;
      const separator = series.labels === '' ? '' : ',';
      for (const index of [...series.counts.keys()].sort((a, b) => a - b)) {
        const hits = series.counts.get(index) as number;
        count += hits;
        lines.push(
          `${this.name}_bucket{${series.labels}${separator}vmrange="${vmrange(index)}"} ${hits}`,
        );
      }
      const labels = series.labels === '' ? '' : `{${series.labels}}`;
      lines.push(`${this.name}_sum${labels} ${goFloat(series.sum)}`);
      lines.push(`${this.name}_count${labels} ${count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
