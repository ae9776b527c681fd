// Benchmark 6: /metrics render cost with 1,000 path_ types (a 1,000-node cluster at
// KUBENURSE_NEIGHBOUR_LIMIT=0) plus a kube-proxy exposition re-exposed from the fake
// kube-proxy (dual stack). The series come from real probes through the prober's own Prober
// against a loopback target, so every family has exactly the label sets production has.
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { startFakeKubeProxy } from '../dev/fakes/fake-kube-proxy.ts';
import { parseConfig } from '../src/config.ts';
import { createKubeProxyMonitor } from '../src/kubeproxy/index.ts';
import { proberContext } from '../dev/prober-context.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { isMain, runStandalone, table, type Benchmark } from './lib/report.ts';
import { fmt, summarize, type Summary } from './lib/stats.ts';

const TARGET_HOST = '127.0.5.9';
const KUBE_PROXY_HOST = '127.0.5.10';
const STEPS = [10, 1000] as const;
const PROBE_CONCURRENCY = 50;

interface Measured {
  readonly pathTypes: number;
  readonly series: number;
  readonly pathSeries: number;
  readonly kubeProxySeries: number;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly ms: Summary;
}

function countSeries(text: string, predicate: (line: string) => boolean = () => true): number {
  let count = 0;
  for (const line of text.split('\n'))
    if (line !== '' && !line.startsWith('#') && predicate(line)) count++;
  return count;
}

const metricsRender: Benchmark = async ({ quick, log }) => {
  const renders = quick ? 30 : 300;
  const fleet = await FleetClient.start();
  const kubeProxy = await startFakeKubeProxy({
    host: KUBE_PROXY_HOST,
    ipFamilies: ['IPv4', 'IPv6'],
  });
  const measured: Measured[] = [];
  try {
    const base = await fleet.target(TARGET_HOST);
    const config = parseConfig({
      KUBENURSE_KUBE_PROXY_METRICS_URL: kubeProxy.metricsUrl,
      KUBENURSE_KUBE_PROXY_HEALTHZ_URL: kubeProxy.healthzUrl,
      KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent-bench-service-account',
    });
    const ctx = proberContext(config, { timeoutMs: 5000 });
    const { metrics, prober } = ctx;
    const monitor = createKubeProxyMonitor(ctx);
    if (!monitor) throw new Error('kube-proxy monitor was not created');
    for (const check of monitor.checks()) {
      const outcome = await check.run(AbortSignal.timeout(5000));
      if (outcome.status !== 'ok')
        throw new Error(`kube-proxy scrape of the fake failed: ${JSON.stringify(outcome)}`);
    }

    let populated = 0;
    for (const target of STEPS) {
      log(`metrics-render: probing until ${target} path_ types exist`);
      while (populated < target) {
        const batch = Array.from(
          { length: Math.min(PROBE_CONCURRENCY, target - populated) },
          (_, i) => populated + i,
        );
        const outcomes = await Promise.all(
          batch.map((i) =>
            prober.probe({
              type: `path_node-${String(i).padStart(4, '0')}`,
              url: `${base}/render/0`,
            }),
          ),
        );
        const failed = outcomes.find((result) => result.outcome.status !== 'ok');
        if (failed)
          throw new Error(`probe failed while populating: ${JSON.stringify(failed.outcome)}`);
        populated += batch.length;
      }
      for (let i = 0; i < 5; i++) await metrics.render();
      const times: number[] = [];
      let text = '';
      for (let i = 0; i < renders; i++) {
        const start = performance.now();
        text = await metrics.render();
        times.push(performance.now() - start);
      }
      const kubeProxyText = monitor.render();
      measured.push({
        pathTypes: target,
        series: countSeries(text),
        pathSeries: countSeries(text, (line) => line.includes('type="path_')),
        kubeProxySeries: countSeries(kubeProxyText),
        bytes: Buffer.byteLength(text),
        gzipBytes: gzipSync(text).length,
        ms: summarize(times),
      });
    }
    await prober.close();
  } finally {
    await kubeProxy.stop();
    await fleet.stop();
  }

  const rows = measured.map((m) => [
    m.pathTypes,
    m.series,
    m.pathSeries,
    m.kubeProxySeries,
    fmt(m.bytes / 1024, 0),
    fmt(m.gzipBytes / 1024, 0),
    fmt(m.ms.p50, 2),
    fmt(m.ms.p99, 2),
    fmt(m.ms.mean, 2),
  ]);
  const big = measured.at(-1) as Measured;
  const markdown = [
    `In-process \`ProbeMetrics.render()\` — exactly what the \`/metrics\` handler sends — ` +
      `after real probes (the prober's \`Prober\`, fresh connections, against a target on ` +
      `${TARGET_HOST}) created the \`path_\` types, with the kube-proxy passthrough filled by ` +
      `one scrape of the fake kube-proxy (dual stack, realistic families and label sets) on ` +
      `${KUBE_PROXY_HOST}. Default buckets; ${renders} renders timed after 5 warm-up renders. A ` +
      `series = one sample line.`,
    '',
    table(
      [
        'path_ types',
        'series total',
        'of them path_',
        'kube-proxy series',
        'KiB',
        'KiB gzip',
        'ms p50',
        'ms p99',
        'ms mean',
      ],
      rows,
    ),
    '',
    `Per \`path_\` type: ${fmt(big.pathSeries / big.pathTypes, 0)} series (for a plain-HTTP ` +
      `neighbour: the request histogram and 5 trace-event histograms, ${12 + 2} lines each with ` +
      `the 11 default buckets, plus the requests counter), ≈ ` +
      `${fmt(big.bytes / big.pathTypes / 1024, 1)} KiB of exposition. With the default limit (10 ` +
      `neighbours) a node stays at the first row; the second row is what ` +
      `\`KUBENURSE_NEIGHBOUR_LIMIT=0\` costs at 1,000 nodes, every scrape.`,
  ].join('\n');
  return {
    id: 'metrics-render',
    title: '6. /metrics render cost',
    command: 'npm run bench -- --only metrics-render',
    goals: [
      {
        what: `/metrics render with ${big.pathTypes} path_ types + kube-proxy`,
        target: 'reported (no goal figure)',
        measured: `${fmt(big.ms.p50, 1)} ms p50, ${fmt(big.bytes / 1024 / 1024, 2)} MiB`,
        met: undefined,
      },
    ],
    markdown,
    data: { renders, measured },
  };
};

if (isMain(import.meta.url)) await runStandalone(metricsRender);
