// Writes examples/rules/kubenurse.rules.yaml (a plain Prometheus rules file) from the groups of
// examples/prometheusrule.yaml, the single source of the alerts. test/deploy/rules.test.ts fails
// when the two differ; run `node scripts/extract-rules.mjs` after editing the PrometheusRule.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROMETHEUS_RULE = resolve(root, 'examples/prometheusrule.yaml');
export const RULES_FILE = resolve(root, 'examples/rules/kubenurse.rules.yaml');

const HEADER = `# Generated from examples/prometheusrule.yaml by scripts/extract-rules.mjs: edit that file.
# For Prometheus without the operator: list this file under rule_files in prometheus.yml.
`;

const resource = parse(readFileSync(PROMETHEUS_RULE, 'utf8'));
const groups = resource?.spec?.groups;
if (!Array.isArray(groups) || groups.length === 0)
  throw new Error(`${PROMETHEUS_RULE}: no spec.groups`);
writeFileSync(RULES_FILE, HEADER + stringify({ groups }, { lineWidth: 0 }));
console.log(`wrote ${RULES_FILE}`);
