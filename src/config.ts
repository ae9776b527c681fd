// Environment → validated Config. The single source of truth for every variable name:
// the README table (scripts/env-table.ts) and the manifest tests read ENV_VARS from here.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { parseGoDuration } from './duration.ts';
import { ProxyConfigError, proxySettingsFromEnv, type ProxySettings } from './probe/proxy.ts';
import { redactUrls } from './redact.ts';
import { rawUserinfo, redactUserinfo, userinfoProblem } from './probe/userinfo.ts';
import { urlHost } from './url-host.ts';

export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, value: string, expected: string) {
    // Values may be URLs with credentials; this message goes to stderr. redactUserinfo also
    // covers a userinfo that does not parse (a space in a password), which is why it is refused.
    super(redactUrls(`${variable}=${JSON.stringify(redactUserinfo(value))}: ${expected}`));
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export interface ExtraCheck {
  readonly name: string;
  readonly url: string;
}

export interface Config {
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number; // per request
  readonly cacheTtlMs: number;
  readonly shutdownDurationMs: number;

  /** undefined: every address family (kubenurse's ":8080"). */
  readonly bindAddress: string | undefined;
  readonly port: number;
  readonly tlsPort: number;
  readonly useTls: boolean;
  readonly certFile: string | undefined;
  readonly certKey: string | undefined;

  readonly podName: string;
  readonly nodeName: string | undefined;
  readonly namespace: string | undefined;
  readonly hostIp: string | undefined;
  readonly serviceAccountDir: string;

  readonly apiServerHost: string | undefined;
  readonly apiServerPort: string | undefined;
  readonly apiServerDns: string;
  readonly ingressUrl: string;
  readonly serviceUrl: string;
  readonly extraChecks: readonly ExtraCheck[];

  readonly checkApiServerDirect: boolean;
  readonly checkApiServerDns: boolean;
  readonly checkMeIngress: boolean;
  readonly checkMeService: boolean;
  readonly checkNeighbourhood: boolean;

  readonly neighbourFilter: string;
  readonly neighbourLimit: number;
  readonly allowUnschedulable: boolean;
  readonly neighbourReadyOnly: boolean;
  /** node_<node> checks: each selected neighbour's node over the host network (docs/layers.md). */
  readonly checkNodePaths: boolean;
  readonly nodePathPort: number;
  readonly nodePathPath: string;
  /** Probe every address family of a dual-stack neighbour, not only its primary one. */
  readonly checkAllIpFamilies: boolean;
  /** KUBENURSE_NEIGHBOUR_NODE_WATCH: which nodes discovery watches (docs/neighbours.md). */
  readonly neighbourNodeWatch: 'auto' | 'cluster';
  /** KUBENURSE_NEIGHBOUR_TRACE_METRICS (see NeighbourTraceMode in metrics.ts). */
  readonly neighbourTraceMetrics: 'full' | 'aggregated' | 'off';

  readonly histogramBuckets: readonly number[];
  readonly legacyMetrics: boolean;

  readonly extraCaPem: string | undefined;
  readonly insecure: boolean;
  readonly reuseConnections: boolean;
  readonly proxy: ProxySettings;

  readonly checkKubeProxy: boolean;
  readonly kubeProxyMetricsUrl: string | undefined;
  readonly kubeProxyHealthzUrl: string | undefined;
  readonly kubeProxyMetricsFilter: RegExp;
  readonly kubeProxyMaxBytes: number;

  readonly exposeMetadata: boolean;
  readonly victoriaMetricsHistogram: boolean;
  readonly logLevel: string;
  readonly kubeconfig: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Every variable we read, with its default as shown to users and its meaning (README table source). */
export const ENV_VARS = {
  KUBENURSE_CHECK_INTERVAL: ['5s', 'Time between two check rounds (Go duration).'],
  KUBENURSE_CHECK_TIMEOUT: [
    '5s, at most the interval',
    'Deadline of one probe request, enforced with an abort signal.',
  ],
  KUBENURSE_CACHE_TTL: [
    '3s',
    '`/alive` serves the last round while it is younger than this; at most one round per window.',
  ],
  KUBENURSE_SHUTDOWN_DURATION: [
    '5s',
    'After SIGTERM, `/ready` answers 503 for this long before the server closes.',
  ],
  KUBENURSE_BIND_ADDRESS: [
    'every family (`::`, or `0.0.0.0` without IPv6)',
    'Address the HTTP (and HTTPS) server binds to; by default IPv4 and IPv6, as kubenurse.',
  ],
  KUBENURSE_PORT: ['8080', 'HTTP port; neighbours are probed on the same port.'],
  KUBENURSE_TLS_PORT: [
    '8443',
    'HTTPS port when `KUBENURSE_USE_TLS=true`; neighbours are then probed there.',
  ],
  KUBENURSE_USE_TLS: [
    'false',
    'Also serve HTTPS with the certificate below, and probe neighbours over HTTPS.',
  ],
  KUBENURSE_CERT_FILE: ['', 'PEM certificate for the HTTPS server.'],
  KUBENURSE_CERT_KEY: ['', 'PEM private key for the HTTPS server.'],
  KUBENURSE_POD_NAME: [
    'hostname',
    "This pod's name: excluded from the neighbours, sent in `KUBENURSE-NEIGHBOUR-ORIGIN`.",
  ],
  KUBENURSE_NODE_NAME: [
    "own pod's `spec.nodeName`",
    "This node's name, for the neighbour ring and `/ready`.",
  ],
  KUBENURSE_NAMESPACE: [
    'service-account namespace',
    'Namespace in which neighbours are discovered.',
  ],
  KUBENURSE_HOST_IP: [
    '',
    "This node's IP (downward API `status.hostIP`); the default kube-proxy targets use it.",
  ],
  KUBENURSE_SERVICE_ACCOUNT_DIR: [
    '/var/run/secrets/kubernetes.io/serviceaccount',
    'Where `token`, `ca.crt` and `namespace` are read from.',
  ],
  KUBERNETES_SERVICE_HOST: [
    'set by Kubernetes',
    'apiserver endpoint for `api_server_direct` (`https://host:port/version`).',
  ],
  KUBERNETES_SERVICE_PORT: ['set by Kubernetes', 'apiserver port, for both apiserver checks.'],
  KUBERNETES_SERVICE_DNS: [
    'kubernetes.default.svc.cluster.local',
    'apiserver name for `api_server_dns`.',
  ],
  KUBENURSE_INGRESS_URL: [
    '',
    "Base URL of the prober's Ingress; `me_ingress` probes `<url>/alwayshappy`. Empty: skipped.",
  ],
  KUBENURSE_SERVICE_URL: [
    '',
    "Base URL of the prober's Service; `me_service` probes `<url>/alwayshappy`. Empty: skipped.",
  ],
  KUBENURSE_EXTRA_CHECKS: [
    '',
    'More checks, `name:url|name2:url2`; the name becomes the `type` label.',
  ],
  KUBENURSE_CHECK_API_SERVER_DIRECT: ['true', '`false` turns the check off.'],
  KUBENURSE_CHECK_API_SERVER_DNS: ['true', '`false` turns the check off.'],
  KUBENURSE_CHECK_ME_INGRESS: ['true', '`false` turns the check off.'],
  KUBENURSE_CHECK_ME_SERVICE: ['true', '`false` turns the check off.'],
  KUBENURSE_CHECK_NEIGHBOURHOOD: [
    'true',
    '`false` turns neighbour discovery and `path_<node>` checks off.',
  ],
  KUBENURSE_NEIGHBOUR_FILTER: [
    '',
    'Label selector of the prober pods, e.g. `app.kubernetes.io/name=kubenurse`.',
  ],
  KUBENURSE_NEIGHBOUR_LIMIT: ['10', 'Neighbours each node checks (and is checked by); 0 = all.'],
  KUBENURSE_ALLOW_UNSCHEDULABLE: ['false', '`true` also checks neighbours on cordoned nodes.'],
  KUBENURSE_NEIGHBOUR_READY_ONLY: ['false', '`true` skips neighbour pods that are not Ready.'],
  KUBENURSE_CHECK_NODE_PATHS: [
    'false',
    "`true` also probes each selected neighbour's node over the host network " +
      '(`node_<node>` checks) and reports which layer is at fault (docs/layers.md).',
  ],
  KUBENURSE_NODE_PATH_PORT: [
    '10256',
    "Port every node serves to the cluster, probed by `node_<node>` checks (kube-proxy's health port).",
  ],
  KUBENURSE_NODE_PATH_PATH: ['/healthz', 'HTTP path probed by `node_<node>` checks.'],
  KUBENURSE_CHECK_ALL_IP_FAMILIES: [
    'false',
    '`true` probes every address family of dual-stack neighbours (`path_<node>_ipv6`, ' +
      '`node_<node>_ipv6`, ...); the primary family keeps the plain type.',
  ],
  KUBENURSE_NEIGHBOUR_TRACE_METRICS: [
    'full',
    'Per-event trace histogram of neighbour checks: `full` one per neighbour ' +
      '(upstream), `aggregated` one for all (`type="path_*"`), `off` none; durations, ' +
      'requests and errors stay per neighbour.',
  ],
  KUBENURSE_NEIGHBOUR_NODE_WATCH: [
    'auto',
    '`auto` watches only the nodes the neighbour selection depends on (one ' +
      'cluster-wide node watch in small clusters); `cluster` always watches every node.',
  ],
  KUBENURSE_HISTOGRAM_BUCKETS: [
    '.005,.01,.025,.05,.1,.25,.5,1,2.5,5,10',
    'Histogram buckets in seconds, ascending.',
  ],
  KUBENURSE_LEGACY_METRICS: [
    'false',
    '`true` also exports the pre-1.13 `kubenurse_request_duration{type}` histogram.',
  ],
  KUBENURSE_EXTRA_CA: [
    '',
    'Path of a PEM bundle trusted in addition to the system roots and the service-account CA.',
  ],
  KUBENURSE_INSECURE: ['false', '`true` skips TLS verification (not recommended).'],
  KUBENURSE_REUSE_CONNECTIONS: [
    'false',
    '`true` keeps connections alive; by default every probe measures a fresh connect.',
  ],
  KUBENURSE_CHECK_KUBE_PROXY: ['true', '`false` turns the kube-proxy scrape off.'],
  KUBENURSE_KUBE_PROXY_METRICS_URL: [
    'http://$KUBENURSE_HOST_IP:10249/metrics',
    'kube-proxy metrics endpoint.',
  ],
  KUBENURSE_KUBE_PROXY_HEALTHZ_URL: [
    'http://$KUBENURSE_HOST_IP:10256/healthz',
    'kube-proxy health endpoint.',
  ],
  KUBENURSE_KUBE_PROXY_METRICS: [
    'kubeproxy_.*|rest_client_.*',
    'Regex of kube-proxy metric families re-exposed unchanged.',
  ],
  KUBENURSE_KUBE_PROXY_MAX_BYTES: ['8388608', 'Largest kube-proxy metrics body accepted (bytes).'],
  KUBENURSE_EXPOSE_METADATA: [
    'false',
    'Accepted for compatibility; not supported (logged at start).',
  ],
  KUBENURSE_VICTORIAMETRICS_HISTOGRAM: [
    'false',
    '`true`: duration histograms in VictoriaMetrics format (`_bucket{vmrange="…"}`, `_sum`, `_count`), same names.',
  ],
  KUBENURSE_LOG_LEVEL: ['info', 'pino log level: fatal, error, warn, info, debug, trace.'],
  KUBECONFIG: ['', 'Outside a cluster: kubeconfig used for neighbour discovery.'],
  HTTP_PROXY: [
    '',
    'Proxy for http:// probes (also `http_proxy`), as in Go: loopback targets and `NO_PROXY` matches go direct.',
  ],
  HTTPS_PROXY: [
    '',
    'Proxy for https:// probes (also `https_proxy`): CONNECT tunnel, TLS with the target verified as usual.',
  ],
  NO_PROXY: [
    '',
    'Comma-separated hosts, domains (`.svc` matches subdomains), IPs and CIDRs that bypass the proxy; `*` for all.',
  ],
} as const satisfies Record<string, readonly [string, string]>;

export type EnvVar = keyof typeof ENV_VARS;

export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

class EnvReader {
  private readonly env: Env;

  constructor(env: Env) {
    this.env = env;
  }

  raw(name: EnvVar): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: EnvVar, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** kubenurse semantics: a toggle is on only when it is exactly "true". */
  enabledOnlyIfTrue(name: EnvVar): boolean {
    return this.raw(name) === 'true';
  }

  /** kubenurse semantics: whether a check is enabled; it is off only when exactly "false". */
  enabledUnlessFalse(name: EnvVar): boolean {
    return this.raw(name) !== 'false';
  }

  /** A setting of our own (no upstream semantics to keep): exactly true or false, default off. */
  strictToggle(name: EnvVar): boolean {
    const text = this.raw(name);
    if (text === undefined || text === 'false') return false;
    if (text === 'true') return true;
    throw new ConfigError(name, text, 'expected true or false');
  }

  duration(name: EnvVar, fallbackMs: number, { allowZero = false } = {}): number {
    const text = this.raw(name);
    if (text === undefined) return fallbackMs;
    const ms = parseGoDuration(text);
    if (ms === undefined)
      throw new ConfigError(name, text, 'expected a Go duration such as 5s, 1m30s or 500ms');
    if (ms < 0 || (!allowZero && ms === 0))
      throw new ConfigError(name, text, 'expected a positive duration');
    return ms;
  }

  oneOf<T extends string>(name: EnvVar, fallback: T, choices: readonly T[]): T {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!(choices as readonly string[]).includes(text))
      throw new ConfigError(name, text, `expected one of ${choices.join(', ')}`);
    return text as T;
  }

  integer(name: EnvVar, fallback: number, min: number, max: number): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text))
      throw new ConfigError(name, text, `expected a whole number from ${min} to ${max}`);
    const value = Number(text);
    if (value < min || value > max)
      throw new ConfigError(name, text, `expected a whole number from ${min} to ${max}`);
    return value;
  }

  httpUrl(name: EnvVar): string {
    const text = this.raw(name);
    if (text === undefined) return '';
    return validateHttpUrl(name, text).replace(/\/+$/, '');
  }
}

function validateHttpUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(name, text, 'expected an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, text, 'expected an absolute http:// or https:// URL');
  }
  // Credentials are sent as Basic auth, as Go does; Go's url.Parse refuses what it cannot decode.
  const userinfo = rawUserinfo(text);
  const problem = userinfo === undefined ? undefined : userinfoProblem(userinfo);
  if (problem !== undefined)
    throw new ConfigError(
      name,
      text,
      `the user:password part is not valid (${problem}): percent-encode characters other than letters, digits and -._~!$&'()*+,;=:@`,
    );
  return text;
}

function parseBuckets(reader: EnvReader): number[] {
  const name = 'KUBENURSE_HISTOGRAM_BUCKETS';
  const text = reader.raw(name);
  if (text === undefined) return [...DEFAULT_BUCKETS];
  const expected =
    'expected comma-separated positive numbers in strictly ascending order, e.g. .01,.1,1';
  const buckets = text.split(',').map((part) => {
    const trimmed = part.trim();
    const value = Number(trimmed);
    if (trimmed === '' || !Number.isFinite(value) || value <= 0)
      throw new ConfigError(name, text, expected);
    return value;
  });
  for (let i = 1; i < buckets.length; i++) {
    if ((buckets[i] as number) <= (buckets[i - 1] as number))
      throw new ConfigError(name, text, expected);
  }
  if (buckets.length > 64) throw new ConfigError(name, text, 'expected at most 64 buckets');
  return buckets;
}

/** The type label must stay a safe Prometheus label value and must not shadow a built-in check. */
const EXTRA_CHECK_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const RESERVED_TYPES = new Set([
  'api_server_direct',
  'api_server_dns',
  'me_ingress',
  'me_service',
  'kube_proxy_metrics',
  'kube_proxy_healthz',
]);

/** Check names the node-path checks own when they are on; upstream's defaults reserve nothing more. */
export const NODE_PATH_PREFIX = 'node_';

function parseExtraChecks(reader: EnvReader, reservedPrefixes: readonly string[]): ExtraCheck[] {
  const name = 'KUBENURSE_EXTRA_CHECKS';
  const text = reader.raw(name);
  if (text === undefined) return [];
  const seen = new Set<string>();
  return text.split('|').map((entry) => {
    const colon = entry.indexOf(':');
    if (colon <= 0)
      throw new ConfigError(
        name,
        text,
        `expected name:url pairs separated by |; "${entry}" has no name before ":"`,
      );
    const checkName = entry.slice(0, colon).trim();
    const url = entry.slice(colon + 1).trim();
    if (!EXTRA_CHECK_NAME.test(checkName)) {
      throw new ConfigError(
        name,
        text,
        `check name "${checkName}" must match ${EXTRA_CHECK_NAME.source}`,
      );
    }
    if (
      RESERVED_TYPES.has(checkName) ||
      checkName.startsWith('path_') ||
      reservedPrefixes.some((prefix) => checkName.startsWith(prefix)) ||
      seen.has(checkName)
    ) {
      throw new ConfigError(name, text, `check name "${checkName}" is reserved or used twice`);
    }
    seen.add(checkName);
    validateHttpUrl(name, url);
    return { name: checkName, url };
  });
}

function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function parseExtraCa(reader: EnvReader): string | undefined {
  const name = 'KUBENURSE_EXTRA_CA';
  const path = reader.raw(name);
  if (path === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      name,
      path,
      `expected a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(name, path, 'expected a PEM file with at least one CERTIFICATE block');
  return pem;
}

function parseRegex(reader: EnvReader, name: EnvVar, fallback: string): RegExp {
  const text = reader.string(name, fallback);
  try {
    // Anchored like Prometheus' relabel regexes: the whole family name must match.
    return new RegExp(`^(?:${text})$`);
  } catch {
    throw new ConfigError(name, text, 'expected a valid regular expression');
  }
}

function parseHostIp(reader: EnvReader): string | undefined {
  const text = reader.raw('KUBENURSE_HOST_IP');
  if (text === undefined) return undefined;
  if (isIP(text) === 0)
    throw new ConfigError('KUBENURSE_HOST_IP', text, 'expected an IPv4 or IPv6 address');
  return text;
}

/** An absolute path without spaces or a fragment; it goes into a URL as is. */
const URL_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]{0,255}$/;

function parseNodePathPath(reader: EnvReader): string {
  const name = 'KUBENURSE_NODE_PATH_PATH';
  const text = reader.string(name, '/healthz');
  if (!URL_PATH.test(text))
    throw new ConfigError(
      name,
      text,
      'expected an absolute URL path such as /healthz (at most 256 characters)',
    );
  return text;
}

function parseBindAddress(reader: EnvReader): string | undefined {
  const text = reader.raw('KUBENURSE_BIND_ADDRESS');
  if (text === undefined) return undefined;
  if (isIP(text) === 0)
    throw new ConfigError('KUBENURSE_BIND_ADDRESS', text, 'expected an IPv4 or IPv6 address');
  return text;
}

function parseProxy(env: Env): ProxySettings {
  try {
    return proxySettingsFromEnv(env);
  } catch (error) {
    if (error instanceof ProxyConfigError)
      throw new ConfigError(error.variable, error.value, error.expected);
    throw error;
  }
}

/**
 * In a namespace with a Service named `kubenurse` (kubenurse's own manifests), the kubelet sets
 * KUBENURSE_PORT=tcp://<ClusterIP>:<port> in every pod (docker-link variables, on unless
 * enableServiceLinks: false). That value is the kubelet's, not the operator's: it is ignored.
 */
function isKubeletServiceLink(value: string | undefined): boolean {
  return value !== undefined && /^(tcp|udp|sctp):\/\//.test(value);
}

export function parseConfig(env: Env): Config {
  const reader = new EnvReader(env);

  const checkIntervalMs = reader.duration('KUBENURSE_CHECK_INTERVAL', 5000);
  const checkTimeoutMs = reader.duration(
    'KUBENURSE_CHECK_TIMEOUT',
    Math.min(5000, checkIntervalMs),
  );
  if (checkTimeoutMs > checkIntervalMs) {
    throw new ConfigError(
      'KUBENURSE_CHECK_TIMEOUT',
      reader.raw('KUBENURSE_CHECK_TIMEOUT') ?? '',
      'expected a duration no longer than KUBENURSE_CHECK_INTERVAL, so rounds never overlap',
    );
  }

  const useTls = reader.enabledOnlyIfTrue('KUBENURSE_USE_TLS');
  const certFile = reader.raw('KUBENURSE_CERT_FILE');
  const certKey = reader.raw('KUBENURSE_CERT_KEY');
  if (useTls && (certFile === undefined || certKey === undefined)) {
    throw new ConfigError(
      'KUBENURSE_USE_TLS',
      'true',
      'expected KUBENURSE_CERT_FILE and KUBENURSE_CERT_KEY to be set as well',
    );
  }

  const serviceAccountDir = reader.string(
    'KUBENURSE_SERVICE_ACCOUNT_DIR',
    '/var/run/secrets/kubernetes.io/serviceaccount',
  );
  const hostIp = parseHostIp(reader);
  const logLevel = reader.string('KUBENURSE_LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(
      'KUBENURSE_LOG_LEVEL',
      logLevel,
      `expected one of ${LOG_LEVELS.join(', ')}`,
    );

  const apiServerPort = reader.raw('KUBERNETES_SERVICE_PORT');
  if (apiServerPort !== undefined && !/^\d{1,5}$/.test(apiServerPort)) {
    throw new ConfigError('KUBERNETES_SERVICE_PORT', apiServerPort, 'expected a port number');
  }

  const checkNodePaths = reader.strictToggle('KUBENURSE_CHECK_NODE_PATHS');

  const kubeProxyUrl = (name: EnvVar, port: number, path: string): string | undefined => {
    const explicit = reader.raw(name);
    if (explicit !== undefined) return validateHttpUrl(name, explicit);
    return hostIp === undefined ? undefined : `http://${urlHost(hostIp)}:${port}${path}`;
  };

  return {
    checkIntervalMs,
    checkTimeoutMs,
    cacheTtlMs: reader.duration('KUBENURSE_CACHE_TTL', 3000, { allowZero: true }),
    shutdownDurationMs: reader.duration('KUBENURSE_SHUTDOWN_DURATION', 5000, { allowZero: true }),

    bindAddress: parseBindAddress(reader),
    port: isKubeletServiceLink(reader.raw('KUBENURSE_PORT'))
      ? 8080
      : reader.integer('KUBENURSE_PORT', 8080, 1, 65535),
    tlsPort: reader.integer('KUBENURSE_TLS_PORT', 8443, 1, 65535),
    useTls,
    certFile,
    certKey,

    podName: reader.string('KUBENURSE_POD_NAME', hostname()),
    nodeName: reader.raw('KUBENURSE_NODE_NAME'),
    namespace:
      reader.raw('KUBENURSE_NAMESPACE') ?? readOptionalFile(`${serviceAccountDir}/namespace`),
    hostIp,
    serviceAccountDir,

    apiServerHost: reader.raw('KUBERNETES_SERVICE_HOST'),
    apiServerPort,
    apiServerDns: reader.string('KUBERNETES_SERVICE_DNS', 'kubernetes.default.svc.cluster.local'),
    ingressUrl: reader.httpUrl('KUBENURSE_INGRESS_URL'),
    serviceUrl: reader.httpUrl('KUBENURSE_SERVICE_URL'),
    extraChecks: parseExtraChecks(reader, checkNodePaths ? [NODE_PATH_PREFIX] : []),

    checkApiServerDirect: reader.enabledUnlessFalse('KUBENURSE_CHECK_API_SERVER_DIRECT'),
    checkApiServerDns: reader.enabledUnlessFalse('KUBENURSE_CHECK_API_SERVER_DNS'),
    checkMeIngress: reader.enabledUnlessFalse('KUBENURSE_CHECK_ME_INGRESS'),
    checkMeService: reader.enabledUnlessFalse('KUBENURSE_CHECK_ME_SERVICE'),
    checkNeighbourhood: reader.enabledUnlessFalse('KUBENURSE_CHECK_NEIGHBOURHOOD'),

    neighbourFilter: reader.string('KUBENURSE_NEIGHBOUR_FILTER', ''),
    neighbourLimit: reader.integer('KUBENURSE_NEIGHBOUR_LIMIT', 10, 0, 100_000),
    allowUnschedulable: reader.enabledOnlyIfTrue('KUBENURSE_ALLOW_UNSCHEDULABLE'),
    neighbourReadyOnly: reader.enabledOnlyIfTrue('KUBENURSE_NEIGHBOUR_READY_ONLY'),
    checkNodePaths,
    nodePathPort: reader.integer('KUBENURSE_NODE_PATH_PORT', 10256, 1, 65535),
    nodePathPath: parseNodePathPath(reader),
    checkAllIpFamilies: reader.strictToggle('KUBENURSE_CHECK_ALL_IP_FAMILIES'),
    neighbourTraceMetrics: reader.oneOf('KUBENURSE_NEIGHBOUR_TRACE_METRICS', 'full', [
      'full',
      'aggregated',
      'off',
    ]),
    neighbourNodeWatch: reader.oneOf('KUBENURSE_NEIGHBOUR_NODE_WATCH', 'auto', ['auto', 'cluster']),

    histogramBuckets: parseBuckets(reader),
    legacyMetrics: reader.enabledOnlyIfTrue('KUBENURSE_LEGACY_METRICS'),

    extraCaPem: parseExtraCa(reader),
    insecure: reader.enabledOnlyIfTrue('KUBENURSE_INSECURE'),
    reuseConnections: reader.enabledOnlyIfTrue('KUBENURSE_REUSE_CONNECTIONS'),
    proxy: parseProxy(env),

    checkKubeProxy: reader.enabledUnlessFalse('KUBENURSE_CHECK_KUBE_PROXY'),
    kubeProxyMetricsUrl: kubeProxyUrl('KUBENURSE_KUBE_PROXY_METRICS_URL', 10249, '/metrics'),
    kubeProxyHealthzUrl: kubeProxyUrl('KUBENURSE_KUBE_PROXY_HEALTHZ_URL', 10256, '/healthz'),
    kubeProxyMetricsFilter: parseRegex(
      reader,
      'KUBENURSE_KUBE_PROXY_METRICS',
      'kubeproxy_.*|rest_client_.*',
    ),
    kubeProxyMaxBytes: reader.integer(
      'KUBENURSE_KUBE_PROXY_MAX_BYTES',
      8 * 1024 * 1024,
      1024,
      256 * 1024 * 1024,
    ),

    exposeMetadata: reader.enabledOnlyIfTrue('KUBENURSE_EXPOSE_METADATA'),
    victoriaMetricsHistogram: reader.enabledOnlyIfTrue('KUBENURSE_VICTORIAMETRICS_HISTOGRAM'),
    logLevel,
    kubeconfig: env.KUBECONFIG?.trim() || undefined,
  };
}

/** What is safe to log at start: no token, no CA material, no URL credentials. */
export function configSummary(config: Config): Record<string, unknown> {
  const { extraCaPem, kubeProxyMetricsFilter, proxy, ...rest } = config;
  const optionalUrl = (url: string | undefined): string | undefined =>
    url === undefined ? undefined : redactUrls(url);
  // Proxy URLs may carry credentials: log only whether one is set.
  return {
    ...rest,
    ingressUrl: redactUrls(config.ingressUrl),
    serviceUrl: redactUrls(config.serviceUrl),
    extraChecks: config.extraChecks.map(({ name, url }) => ({ name, url: redactUrls(url) })),
    kubeProxyMetricsUrl: optionalUrl(config.kubeProxyMetricsUrl),
    kubeProxyHealthzUrl: optionalUrl(config.kubeProxyHealthzUrl),
    extraCa: extraCaPem === undefined ? 'none' : 'loaded',
    kubeProxyMetricsFilter: kubeProxyMetricsFilter.source,
    proxy: {
      http: proxy.httpProxy !== undefined,
      https: proxy.httpsProxy !== undefined,
      noProxyRules: proxy.noProxy.length,
    },
  };
}

/** Exit code of a process stopped by bad configuration (kubenurse-ts and its check command). */
export const EXIT_BAD_CONFIG = 2;

/** For entry points: the config, or one line on stderr naming the problem and exit code 2. */
export function configFromEnvOrExit(env: Env = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kubenurse-ts: invalid configuration: ${error.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
}
