// The container environments kubenurse 1.15.3's own manifests give its prober, as data (names
// and values are facts about those files, not copies of them). A migrating cluster starts
// kubenurse-ts with exactly these, so both the conformance suite and the end-to-end suite do.

export interface EnvEntry {
  readonly name: string;
  readonly value: string;
}

/** examples/daemonset.yaml: the container's `env`, in order. */
export const UPSTREAM_EXAMPLE_ENV: readonly EnvEntry[] = [
  { name: 'KUBENURSE_INGRESS_URL', value: 'https://kubenurse.example.com' },
  { name: 'KUBENURSE_SERVICE_URL', value: 'http://kubenurse.kube-nurse.svc.cluster.local:8080' },
  { name: 'KUBENURSE_NAMESPACE', value: 'kube-nurse' },
  { name: 'KUBENURSE_NEIGHBOUR_FILTER', value: 'app.kubernetes.io/name=kubenurse' },
];

/**
 * helm/kubenurse/templates/daemonset.yaml rendered with helm/kubenurse/values.yaml's defaults,
 * release name `kubenurse` in namespace `kube-nurse`, and the one value every install sets:
 * `ingress.url=kubenurse.example.com` (the default is a placeholder, `dummy-kubenurse…`).
 * Optional entries whose value is empty by default (extra CA, extra checks, histogram
 * buckets, cert file and key) are not rendered.
 */
export const UPSTREAM_HELM_ENV: readonly EnvEntry[] = [
  { name: 'KUBENURSE_INGRESS_URL', value: 'https://kubenurse.example.com' },
  { name: 'KUBENURSE_SERVICE_URL', value: 'http://kubenurse.kube-nurse.svc.cluster.local:8080' },
  { name: 'KUBENURSE_INSECURE', value: 'true' },
  { name: 'KUBERNETES_SERVICE_DNS', value: 'kubernetes.default.svc.cluster.local' },
  { name: 'KUBENURSE_ALLOW_UNSCHEDULABLE', value: 'false' },
  { name: 'KUBENURSE_NAMESPACE', value: 'kube-nurse' },
  { name: 'KUBENURSE_NEIGHBOUR_FILTER', value: 'app.kubernetes.io/name=kubenurse' },
  { name: 'KUBENURSE_NEIGHBOUR_LIMIT', value: '10' },
  { name: 'KUBENURSE_EXPOSE_METADATA', value: 'false' },
  { name: 'KUBENURSE_VICTORIAMETRICS_HISTOGRAM', value: 'false' },
  { name: 'KUBENURSE_CHECK_API_SERVER_DIRECT', value: 'true' },
  { name: 'KUBENURSE_CHECK_API_SERVER_DNS', value: 'true' },
  { name: 'KUBENURSE_CHECK_ME_INGRESS', value: 'true' },
  { name: 'KUBENURSE_CHECK_ME_SERVICE', value: 'true' },
  { name: 'KUBENURSE_CHECK_NEIGHBOURHOOD', value: 'true' },
  { name: 'KUBENURSE_CHECK_INTERVAL', value: '5s' },
  { name: 'KUBENURSE_REUSE_CONNECTIONS', value: 'false' },
  { name: 'KUBENURSE_SHUTDOWN_DURATION', value: '5s' },
  { name: 'KUBENURSE_USE_TLS', value: 'false' },
];

/** Pod labels of the Helm chart's DaemonSet (selector labels); the example's is the first alone. */
export const UPSTREAM_HELM_POD_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'kubenurse',
  'app.kubernetes.io/instance': 'kubenurse',
};

export function envRecord(entries: readonly EnvEntry[]): Record<string, string> {
  return Object.fromEntries(entries.map(({ name, value }) => [name, value]));
}
