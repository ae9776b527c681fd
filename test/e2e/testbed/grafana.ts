// The PromQL the examples ship: every rule expression of examples/prometheusrule.yaml and every
// panel and variable query of examples/grafana-dashboard.json, with Grafana's variables
// replaced the way Grafana would for "All" on a Prometheus scraping every second.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './helpers.ts';

const EXAMPLES = join(PROJECT_ROOT, 'examples');

/** Rule name (alert or record) → expression, in file order. */
export function ruleExpressions(): Map<string, string> {
  const resource = parse(readFileSync(join(EXAMPLES, 'prometheusrule.yaml'), 'utf8')) as {
    spec?: {
      groups?: {
        name: string;
        rules?: { alert?: string; record?: string; expr: string | number }[];
      }[];
    };
  };
  const expressions = new Map<string, string>();
  for (const group of resource.spec?.groups ?? []) {
    for (const [index, rule] of (group.rules ?? []).entries()) {
      const name = rule.alert ?? rule.record ?? `${group.name}[${index}]`;
      expressions.set(
        expressions.has(name) ? `${name} (${group.name}[${index}])` : name,
        String(rule.expr),
      );
    }
  }
  return expressions;
}

/** Grafana's built-in and dashboard variables, as resolved for "All" and a 1 s scrape interval. */
const BUILTINS: Record<string, string> = {
  __rate_interval: '15s',
  __interval: '1s',
  __range: '1m',
  __range_s: '60',
};

function substitute(expr: string, variables: Record<string, string>): string {
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (whole, braced?: string, bracketed?: string, bare?: string) => {
      const name = braced ?? bracketed ?? bare ?? '';
      return variables[name] ?? BUILTINS[name] ?? whole;
    },
  );
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string; refId?: string }[];
}

interface Dashboard {
  panels?: Panel[];
  templating?: {
    list?: {
      name: string;
      type: string;
      query?: unknown;
      allValue?: string;
      includeAll?: boolean;
      current?: { value?: unknown };
    }[];
  };
}

export interface PanelQuery {
  readonly title: string;
  readonly expr: string;
}

/**
 * `label_values(selector, label)` is Grafana's, not PromQL: the selector part is sent
 * as `count by (label) (selector)`, which Prometheus must parse just the same.
 */
function variableQuery(query: string): string | undefined {
  const labelValues = /^label_values\((.*),\s*(\w+)\)$/s.exec(query.trim());
  if (labelValues) return `count by (${labelValues[2]}) (${labelValues[1]})`;
  const queryResult = /^query_result\((.*)\)$/s.exec(query.trim());
  return queryResult ? queryResult[1] : undefined;
}

export function dashboardQueries(): PanelQuery[] {
  const dashboard = JSON.parse(
    readFileSync(join(EXAMPLES, 'grafana-dashboard.json'), 'utf8'),
  ) as Dashboard;
  const variables: Record<string, string> = {};
  const queries: PanelQuery[] = [];
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'datasource') continue;
    if (variable.includeAll) variables[variable.name] = variable.allValue ?? '.*';
    else if (variable.type === 'custom' || variable.type === 'constant')
      variables[variable.name] =
        (typeof variable.query === 'string' ? variable.query : '').split(',')[0] ?? '';
    else variables[variable.name] = '.*';
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const raw =
      typeof variable.query === 'string'
        ? variable.query
        : ((variable.query as { query?: string } | undefined)?.query ?? '');
    const expr = variableQuery(raw);
    if (expr !== undefined)
      queries.push({ title: `variable ${variable.name}`, expr: substitute(expr, variables) });
  }
  const walk = (panels: readonly Panel[]): void => {
    for (const panel of panels) {
      if (panel.panels) walk(panel.panels);
      for (const target of panel.targets ?? []) {
        if (target.expr)
          queries.push({
            title: `${panel.title ?? '(untitled)'} [${target.refId ?? '?'}]`,
            expr: substitute(target.expr, variables),
          });
      }
    }
  };
  walk(dashboard.panels ?? []);
  return queries;
}
