// Re-exposes parsed kube-proxy families as exposition text, unchanged: same names, label
// order, value text, timestamps, types and HELP. Only which families pass is decided here.
import type { MetricFamily } from './parse.ts';

/**
 * kube-proxy's process_* and go_* would collide with our own runtime metrics, and nothing
 * from outside may ever appear under our kubenurse_ prefix, whatever the filter says.
 */
const NEVER_PASSED = /^(?:process_|go_|kubenurse_)/;

export function isPassthroughFamily(name: string, filter: RegExp): boolean {
  if (NEVER_PASSED.test(name)) return false;
  filter.lastIndex = 0; // harmless for the anchored, non-global config regex; safe for any other
  return filter.test(name);
}

const OWNED_SUFFIXES = ['_bucket', '_sum', '_count'];

/** Every series name a family of ours or theirs can write: its own, and its histogram/summary parts. */
export function seriesNames(name: string): string[] {
  return [name, ...OWNED_SUFFIXES.map((suffix) => name + suffix)];
}

/**
 * The families to re-expose: matching the filter, with samples, and sharing no series name
 * with `ownNames` (every name our registry writes, see seriesNames), so the merged /metrics
 * never has one name in two families.
 */
export function selectPassthrough(
  families: readonly MetricFamily[],
  filter: RegExp,
  ownNames: ReadonlySet<string> = new Set(),
): MetricFamily[] {
  return families.filter(
    (family) =>
      family.samples.length > 0 &&
      isPassthroughFamily(family.name, filter) &&
      !familySeriesNames(family).some((name) => ownNames.has(name)),
  );
}

function familySeriesNames(family: MetricFamily): string[] {
  if (family.type === 'histogram' || family.type === 'summary') return seriesNames(family.name);
  return [family.name];
}

export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Exposition text for the given families; '' for none, otherwise newline-terminated. */
export function renderFamilies(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.help !== undefined) lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels =
        sample.labels.length === 0
          ? ''
          : `{${sample.labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
      const timestamp = sample.timestamp === undefined ? '' : ` ${sample.timestamp}`;
      lines.push(`${sample.name}${labels} ${sample.valueText}${timestamp}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
