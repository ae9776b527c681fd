// Prometheus relabelling (the replace/keep/drop actions the examples use), to check what the
// kube-proxy scrape configs turn a discovered pod into. Prometheus anchors every regex.

export interface RelabelRule {
  readonly sourceLabels?: readonly string[];
  readonly separator?: string;
  readonly regex?: string;
  readonly targetLabel?: string;
  readonly replacement?: string;
  readonly action?: string;
}

/** Accepts both spellings: the operator's camelCase and prometheus.yml's snake_case. */
export function normaliseRule(rule: object): RelabelRule {
  const raw = rule as Record<string, unknown>;
  const pick = (camel: string, snake: string): unknown => raw[camel] ?? raw[snake];
  return {
    sourceLabels: pick('sourceLabels', 'source_labels') as string[] | undefined,
    separator: pick('separator', 'separator') as string | undefined,
    regex: pick('regex', 'regex') as string | undefined,
    targetLabel: pick('targetLabel', 'target_label') as string | undefined,
    replacement: pick('replacement', 'replacement') as string | undefined,
    action: pick('action', 'action') as string | undefined,
  };
}

/** Go's regexp.Expand syntax for replacements: $1, ${1}, $name. */
function expand(template: string, match: RegExpExecArray): string {
  return template.replace(
    /\$(?:\{(\w+)\}|(\w+))/g,
    (_, braced: string | undefined, bare: string | undefined) => {
      const key = (braced ?? bare) as string;
      const value = /^\d+$/.test(key) ? match[Number(key)] : match.groups?.[key];
      return value ?? '';
    },
  );
}

/** Returns the relabelled labels, or undefined when the target is dropped. */
export function relabel(
  labels: Readonly<Record<string, string>>,
  rules: readonly RelabelRule[],
): Record<string, string> | undefined {
  const out: Record<string, string> = { ...labels };
  for (const rule of rules) {
    const action = rule.action ?? 'replace';
    const value = (rule.sourceLabels ?? [])
      .map((name) => out[name] ?? '')
      .join(rule.separator ?? ';');
    const regex = new RegExp(`^(?:${rule.regex ?? '(.*)'})$`);
    const match = regex.exec(value);
    switch (action) {
      case 'keep':
        if (!match) return undefined;
        break;
      case 'drop':
        if (match) return undefined;
        break;
      case 'replace': {
        if (!match || rule.targetLabel === undefined) break;
        const result = expand(rule.replacement ?? '$1', match);
        if (result === '') delete out[rule.targetLabel];
        else out[rule.targetLabel] = result;
        break;
      }
      default:
        throw new Error(`relabel action ${action} is not emulated by test/deploy/relabel.ts`);
    }
  }
  return out;
}
