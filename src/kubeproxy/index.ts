// Entry point of passive kube-proxy monitoring: whether it runs and against which targets.
// The collector registers its gauges and its re-exposed kube-proxy families through
// metrics.ts (registerKubeProxyMetrics); components.ts adds it as a check source; view() is its
// /alive state.
import type { ProberContext } from '../context.ts';
import { redactUrls } from '../redact.ts';
import { KubeProxyCollector, type KubeProxyMonitor } from './collector.ts';

export type { KubeProxyMonitor } from './collector.ts';

/** The monitor for this node's kube-proxy; undefined (after one info log line) when it is turned off or has no target. */
export function createKubeProxyMonitor(ctx: ProberContext): KubeProxyMonitor | undefined {
  const { config, logger } = ctx;
  if (!config.checkKubeProxy) {
    logger.info('kube-proxy monitoring off: KUBENURSE_CHECK_KUBE_PROXY=false');
    return undefined;
  }
  const metricsUrl = config.kubeProxyMetricsUrl;
  const healthzUrl = config.kubeProxyHealthzUrl;
  if (metricsUrl === undefined && healthzUrl === undefined) {
    logger.info(
      'kube-proxy monitoring skipped: no KUBENURSE_HOST_IP and no KUBENURSE_KUBE_PROXY_METRICS_URL / KUBENURSE_KUBE_PROXY_HEALTHZ_URL',
    );
    return undefined;
  }
  const monitor = new KubeProxyCollector(ctx, { metricsUrl, healthzUrl });
  logger.info(
    {
      metricsUrl: metricsUrl === undefined ? null : redactUrls(metricsUrl),
      healthzUrl: healthzUrl === undefined ? null : redactUrls(healthzUrl),
      filter: config.kubeProxyMetricsFilter.source,
    },
    'kube-proxy monitoring on',
  );
  return monitor;
}
