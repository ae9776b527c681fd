// A real Prometheus (Debian's binary) in its own namespace: scrapes every prober each second,
// evaluates the example rules, and is queried over its HTTP API through the HTTP agent.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HttpAgent } from './http-agent.ts';
import type { ManagedProcess, ProcessGroup } from './processes.ts';
import { SYSTEM_PATH } from './helpers.ts';

export interface ScrapeTarget {
  readonly address: string; // host:port
  readonly labels: Readonly<Record<string, string>>;
}

export interface ScrapeJob {
  readonly name: string;
  readonly targets: readonly ScrapeTarget[];
}

export const SCRAPE_INTERVAL = '1s';

export function renderPrometheusConfig(
  jobs: readonly ScrapeJob[],
  ruleFiles: readonly string[],
): string {
  return stringify({
    global: {
      scrape_interval: SCRAPE_INTERVAL,
      scrape_timeout: SCRAPE_INTERVAL,
      evaluation_interval: SCRAPE_INTERVAL,
    },
    rule_files: ruleFiles,
    scrape_configs: jobs.map((job) => ({
      job_name: job.name,
      static_configs: job.targets.map((target) => ({
        targets: [target.address],
        labels: target.labels,
      })),
    })),
  });
}

export function startPrometheus(
  group: ProcessGroup,
  ns: string,
  runDir: string,
  listen: string,
  jobs: readonly ScrapeJob[],
  rulesYaml: string | undefined,
): ManagedProcess {
  const dir = join(runDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const ruleFiles: string[] = [];
  if (rulesYaml !== undefined) {
    writeFileSync(join(dir, 'rules.yaml'), rulesYaml);
    ruleFiles.push(join(dir, 'rules.yaml'));
  }
  writeFileSync(join(dir, 'prometheus.yml'), renderPrometheusConfig(jobs, ruleFiles));
  return group.spawn(
    ns,
    'prometheus',
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1h',
      `--web.listen-address=${listen}`,
      '--log.level=warn',
    ],
    { env: { PATH: SYSTEM_PATH }, cwd: dir },
  );
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export class PromQueryError extends Error {
  readonly errorType: string;

  constructor(expr: string, errorType: string, message: string) {
    super(`${errorType}: ${message} (query: ${expr})`);
    this.name = 'PromQueryError';
    this.errorType = errorType;
  }
}

interface ApiAnswer {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

export class PrometheusClient {
  private readonly agent: HttpAgent;
  private readonly baseUrl: string;

  constructor(agent: HttpAgent, baseUrl: string) {
    this.agent = agent;
    this.baseUrl = baseUrl;
  }

  async ready(): Promise<boolean> {
    const answer = await this.agent.tryGet(`${this.baseUrl}/-/ready`, 1000);
    return answer?.status === 200;
  }

  /** An instant query; throws PromQueryError when Prometheus rejects it (bad PromQL). */
  async query(expr: string): Promise<{ resultType: string; samples: Sample[] }> {
    const answer = await this.agent.get(
      `${this.baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}`,
      { timeoutMs: 5000 },
    );
    let parsed: ApiAnswer;
    try {
      parsed = JSON.parse(answer.body) as ApiAnswer;
    } catch {
      throw new Error(
        `Prometheus answered ${answer.status} with a non-JSON body: ${answer.body.slice(0, 200)}`,
      );
    }
    if (parsed.status !== 'success' || !parsed.data)
      throw new PromQueryError(
        expr,
        parsed.errorType ?? String(answer.status),
        parsed.error ?? 'no data',
      );
    const { resultType, result } = parsed.data;
    if (resultType === 'vector') {
      const samples = (result as { metric: Record<string, string>; value: [number, string] }[]).map(
        (entry) => ({
          metric: entry.metric,
          value: Number(entry.value[1]),
        }),
      );
      return { resultType, samples };
    }
    if (resultType === 'scalar')
      return {
        resultType,
        samples: [{ metric: {}, value: Number((result as [number, string])[1]) }],
      };
    return { resultType, samples: [] };
  }

  async targetsUp(): Promise<{ up: number; total: number }> {
    const { samples } = await this.query('up');
    return { up: samples.filter((sample) => sample.value === 1).length, total: samples.length };
  }
}
