// --prometheus: a local Prometheus scraping the demo's probers (and its fake kube-proxies, as
// examples/prometheus-kube-proxy-job.yaml would) with the alerts of examples/prometheusrule.yaml.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { KUBE_PROXY_METRICS_PORT, NAMESPACE, PROBER_PORT, type DemoNode } from './topology.ts';
import { errorMessage } from '../../src/error-text.ts';

const PROMETHEUS_CANDIDATES = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'];

export function findPrometheus(): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'prometheus'));
  for (const candidate of [...PROMETHEUS_CANDIDATES, ...onPath]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The groups of the PrometheusRule resource, as a plain rules file. */
function rulesFromPrometheusRule(path: string): string {
  const resource = parse(readFileSync(path, 'utf8')) as { spec?: { groups?: unknown } } | null;
  const groups = resource?.spec?.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new Error(`${path}: no spec.groups`);
  return stringify({ groups }, { lineWidth: 0 });
}

function prometheusConfig(nodes: readonly DemoNode[], ruleFile: string | undefined): string {
  return stringify({
    global: { scrape_interval: '5s', scrape_timeout: '4s', evaluation_interval: '5s' },
    ...(ruleFile === undefined ? {} : { rule_files: [ruleFile] }),
    scrape_configs: [
      {
        job_name: 'kubenurse',
        static_configs: nodes.map((node) => ({
          targets: [`${node.hostIP}:${PROBER_PORT}`],
          labels: { node: node.name, pod: node.podName, namespace: NAMESPACE },
        })),
      },
      {
        job_name: 'kube-proxy',
        static_configs: nodes.map((node) => ({
          targets: [`${node.hostIP}:${KUBE_PROXY_METRICS_PORT}`],
          labels: { node: node.name },
        })),
      },
    ],
  });
}

export interface PrometheusStart {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly rulesLoaded: boolean;
  readonly warning: string | undefined;
}

export function startPrometheus(
  binary: string,
  dir: string,
  listen: string,
  nodes: readonly DemoNode[],
  prometheusRulePath: string,
): PrometheusStart {
  const home = join(dir, 'prometheus');
  mkdirSync(join(home, 'data'), { recursive: true });
  let ruleFile: string | undefined = join(home, 'rules.yaml');
  let warning: string | undefined;
  try {
    writeFileSync(ruleFile, rulesFromPrometheusRule(prometheusRulePath));
  } catch (error) {
    warning = `alert rules not loaded: ${errorMessage(error)}`;
    ruleFile = undefined;
  }
  writeFileSync(join(home, 'prometheus.yml'), prometheusConfig(nodes, ruleFile));
  const logFile = join(dir, 'prometheus.log');
  const log = openSync(logFile, 'a');
  const child = spawn(
    binary,
    [
      `--config.file=${join(home, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(home, 'data')}`,
      '--storage.tsdb.retention.time=2h',
      `--web.listen-address=${listen}`,
      '--log.level=warn',
    ],
    {
      cwd: home,
      stdio: ['ignore', log, log],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
    },
  );
  return { child, logFile, rulesLoaded: ruleFile !== undefined, warning };
}
