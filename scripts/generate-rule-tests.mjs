// Writes examples/rules/kubenurse.rules.test.yaml, the promtool unit tests of the alerts and of the
// recording rules (RECORDINGS below: input series → the samples each recorded series holds).
//
// Each scenario below states by hand which series are bad, which are good, when the alert must
// fire, with which labels and which value. For every scenario two promtool test groups are
// written: bad + good series together (exactly the expected alerts fire: the good series stay
// quiet), and the good series alone (nothing fires). The expected annotations are rendered from
// the rule's templates with the expected labels and value; promtool then checks that Prometheus
// itself fires the same alerts and renders the same text.
//
// Run after changing the rules or the scenarios: node scripts/generate-rule-tests.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RULES_FILE = resolve(root, 'examples/rules/kubenurse.rules.yaml');
const TEST_FILE = resolve(root, 'examples/rules/kubenurse.rules.test.yaml');

/** Series helper: metric{labels} with a promtool expanding notation of values. */
function series(name, labels, values) {
  const inner = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  return { series: `${name}{${inner}}`, values };
}

/** A histogram whose observations all fall into one bucket: `perMinute` per minute. */
function histogram(name, labels, bounds, bucketOfAll, perMinute, minutes) {
  const growing = `0+${perMinute}x${minutes}`;
  const zero = `0x${minutes}`;
  return [...bounds, '+Inf'].map((le) => {
    const reached = le === '+Inf' || Number(le) >= bucketOfAll;
    return series(`${name}_bucket`, { ...labels, le: String(le) }, reached ? growing : zero);
  });
}

/** errors_total and requests_total of one check type on one node, `failPerMinute` of `perMinute` failing. */
function check(type, node, perMinute, failPerMinute, minutes, event = 'connect_done') {
  return [
    series(
      'kubenurse_httpclient_requests_total',
      { job: 'kubenurse', node, type, code: 'round_trip_error' },
      `0+${perMinute}x${minutes}`,
    ),
    series(
      'kubenurse_errors_total',
      { job: 'kubenurse', node, type, event },
      `0+${failPerMinute}x${minutes}`,
    ),
  ];
}

/** One prober's (node) verdict on one neighbour: kubenurse_neighbour_verdict = 1 on its layer. */
function verdict(node, neighbour, layer, minutes = 30) {
  return series(
    'kubenurse_neighbour_verdict',
    { job: 'kubenurse', node, neighbour, layer },
    `1x${minutes}`,
  );
}

/** The verdicts of several checkers on one neighbour: `{ checker: layer }`. */
function verdicts(neighbour, layerByChecker, minutes = 30) {
  return Object.entries(layerByChecker).map(([node, layer]) =>
    verdict(node, neighbour, layer, minutes),
  );
}

/** Request durations of one check type on node a, every one of them `seconds` long. */
function requestDurations(type, seconds) {
  return histogram(
    'kubenurse_httpclient_request_duration_seconds',
    { job: 'kubenurse', node: 'a', type },
    ['0.5', '1', '2.5'],
    seconds,
    10,
    40,
  );
}

const EVENTS_URL = 'https://10.96.0.1:443/api/v1/namespaces/%7Bnamespace%7D/events';

/** A component's apiserver requests (client-go's histogram), one a minute, each `seconds` long. */
function apiRequestDurations(labels, seconds) {
  return histogram(
    'rest_client_request_duration_seconds',
    labels,
    ['30', '60', '120'],
    seconds,
    1,
    40,
  );
}

/** A component's apiserver requests answered with `code`, `perMinute` a minute, for 30 minutes. */
function apiRequests(job, node, code, perMinute) {
  return series(
    'rest_client_requests_total',
    { job, node, code, host: '10.96.0.1:443', method: 'GET' },
    `0+${perMinute}x30`,
  );
}

const SCENARIOS = [
  {
    alert: 'KubenurseProberDown',
    bad: [series('up', { job: 'kubenurse', pod: 'kubenurse-a', node: 'a' }, '1x4 0x26')],
    good: [series('up', { job: 'kubenurse', pod: 'kubenurse-b', node: 'b' }, '1x30')],
    evalTime: '20m',
    expected: [{ labels: { job: 'kubenurse', pod: 'kubenurse-a', node: 'a' }, value: 0 }],
  },
  {
    alert: 'KubenurseCheckErrorRateHigh',
    // 20 % of me_ingress fail; path_ types are left to KubenurseNeighbourPathBroken.
    bad: [...check('me_ingress', 'a', 10, 2, 40), ...check('me_ingress', 'b', 10, 2, 40)],
    good: [
      ...check('api_server_direct', 'a', 10, 0.1, 40),
      ...check('path_c', 'a', 10, 10, 40),
      // node_ paths are judged by the layer alerts (docs/layers.md).
      ...check('node_c', 'a', 10, 10, 40),
      ...check('kube_proxy_metrics', 'a', 10, 10, 40),
    ],
    evalTime: '30m',
    expected: [{ labels: { type: 'me_ingress' }, value: 0.2 }],
  },
  {
    alert: 'KubenurseApiServerUnreachable',
    bad: [
      ...check('api_server_direct', 'a', 10, 10, 30),
      ...check('api_server_dns', 'a', 10, 10, 30),
    ],
    good: [
      // DNS alone failing is KubenurseApiServerDnsFailing, not this alert.
      ...check('api_server_direct', 'c', 10, 0, 30),
      ...check('api_server_dns', 'c', 10, 10, 30, 'dns_done'),
      ...check('api_server_direct', 'd', 10, 0, 30),
      ...check('api_server_dns', 'd', 10, 0, 30),
    ],
    evalTime: '20m',
    expected: [{ labels: { node: 'a' }, value: 1 }],
  },
  {
    alert: 'KubenurseApiServerDnsFailing',
    bad: [
      ...check('api_server_direct', 'c', 10, 0, 30),
      ...check('api_server_dns', 'c', 10, 10, 30, 'dns_done'),
    ],
    good: [
      // Both failing is KubenurseApiServerUnreachable, not a DNS problem.
      ...check('api_server_direct', 'a', 10, 10, 30),
      ...check('api_server_dns', 'a', 10, 10, 30),
      ...check('api_server_direct', 'd', 10, 0, 30),
      ...check('api_server_dns', 'd', 10, 0.2, 30, 'dns_done'),
    ],
    evalTime: '20m',
    expected: [{ labels: { node: 'c' }, value: 1 }],
  },
  {
    alert: 'KubenurseServicePathBroken',
    bad: check('me_service', 'a', 10, 5, 30),
    good: check('me_service', 'b', 10, 0.5, 30),
    evalTime: '25m',
    expected: [{ labels: { node: 'a' }, value: 0.5 }],
  },
  {
    alert: 'KubenurseNeighbourPathBroken',
    bad: [...check('path_c', 'a', 10, 10, 30), ...check('path_c', 'b', 10, 10, 30)],
    good: [
      ...check('path_d', 'a', 10, 0, 30),
      ...check('path_d', 'b', 10, 1, 30),
      ...check('me_service', 'a', 10, 10, 30),
    ],
    evalTime: '25m',
    expected: [{ labels: { type: 'path_c', target_node: 'c' }, value: 1 }],
  },
  {
    alert: 'KubenurseLatencyHigh',
    // All api_server_dns requests take between 1 and 2.5 s: p99 = 1 + 1.5 × 0.99 = 2.485 s.
    bad: requestDurations('api_server_dns', 2),
    good: [...requestDurations('me_service', 0.1), ...requestDurations('kube_proxy_metrics', 2)],
    evalTime: '30m',
    expected: [{ labels: { type: 'api_server_dns' }, value: 2.485 }],
  },
  {
    alert: 'KubenurseNoIncomingNeighbourChecks',
    bad: [
      series('kubenurse_neighbourhood_incoming_checks', { job: 'kubenurse', node: 'a' }, '0x20'),
    ],
    good: [
      series('kubenurse_neighbourhood_incoming_checks', { job: 'kubenurse', node: 'b' }, '3x20'),
      series('kubenurse_neighbourhood_incoming_checks', { job: 'kubenurse', node: 'c' }, '2x20'),
    ],
    evalTime: '15m',
    expected: [{ labels: { job: 'kubenurse', node: 'a' }, value: 0 }],
    // A one-node cluster has no neighbours: 0 there is normal.
    alsoQuiet: [
      [
        series(
          'kubenurse_neighbourhood_incoming_checks',
          { job: 'kubenurse', node: 'only' },
          '0x20',
        ),
      ],
    ],
  },
  {
    alert: 'KubenurseNeighbourDiscoveryStale',
    bad: [
      series(
        'kubenurse_neighbourhood_discovery_stale',
        { job: 'kubenurse', node: 'a' },
        '0 0 1x20',
      ),
    ],
    // Node b lost the apiserver briefly and recovered within minutes.
    good: [
      series(
        'kubenurse_neighbourhood_discovery_stale',
        { job: 'kubenurse', node: 'b' },
        '0 1 1 1 0x18',
      ),
    ],
    evalTime: '15m',
    expected: [{ labels: { job: 'kubenurse', node: 'a' }, value: 1 }],
  },
  {
    alert: 'KubenurseNodeUnreachable',
    // Node c: two of its three checkers get no answer on either layer.
    bad: verdicts('c', { a: 'node_network', b: 'node_network', d: 'none' }),
    good: [
      // One checker of e alone: a broken pair, not a node.
      ...verdicts('e', { a: 'node_network', b: 'none', d: 'none' }),
      // Most checkers of f blame the pod network: KubenurseNodePodNetworkBroken's case.
      ...verdicts('f', { a: 'pod_network', b: 'pod_network' }),
      // g has a single checker: it cannot tell node from link.
      ...verdicts('g', { a: 'node_network' }),
    ],
    evalTime: '10m',
    expected: [{ labels: { neighbour: 'c' }, value: 2 / 3 }],
  },
  {
    alert: 'KubenurseNodePodNetworkBroken',
    bad: verdicts('c', { a: 'pod_network', b: 'pod_network', d: 'none' }),
    good: [
      ...verdicts('e', { a: 'node_network', b: 'node_network' }),
      ...verdicts('f', { a: 'pod_network', b: 'none', d: 'none' }),
      // Pod path down, nothing to compare with: no claim about the CNI.
      ...verdicts('g', { a: 'unknown', b: 'unknown' }),
    ],
    evalTime: '10m',
    expected: [{ labels: { neighbour: 'c' }, value: 2 / 3 }],
  },
  {
    alert: 'KubenurseNodeIpFamilyBroken',
    bad: verdicts('c', { a: 'ipv6', b: 'ipv6', d: 'none' }),
    good: [
      ...verdicts('e', { a: 'ipv4', b: 'none', d: 'none' }),
      ...verdicts('f', { a: 'pod_network', b: 'pod_network' }),
    ],
    evalTime: '10m',
    expected: [{ labels: { neighbour: 'c', layer: 'ipv6' }, value: 2 / 3 }],
  },
  {
    alert: 'KubenursePairBroken',
    // Only a cannot reach c; b and d can.
    bad: verdicts('c', { a: 'node_network', b: 'none', d: 'none' }),
    good: [
      // The whole node e is down: KubenurseNodeUnreachable, not a pair.
      ...verdicts('e', { a: 'node_network', b: 'node_network', d: 'node_network' }),
      // A health endpoint that does not answer is not a network fault.
      ...verdicts('f', { a: 'node_endpoint', b: 'none' }),
      // The CNI of node e is broken (see above): its own prober blames g, which nobody else does.
      ...verdicts('g', { e: 'pod_network', b: 'none', d: 'none' }),
    ],
    evalTime: '10m',
    expected: [{ labels: { node: 'a', neighbour: 'c', layer: 'node_network' }, value: 1 }],
  },
  {
    alert: 'KubeProxyInstancesDown',
    bad: [series('up', { job: 'kube-proxy', node: 'b' }, '0x30')],
    good: [
      series('up', { job: 'kube-proxy', node: 'a' }, '1x30'),
      series('up', { job: 'kubenurse', node: 'a' }, '1x30'),
      series('up', { job: 'kubenurse', node: 'b' }, '1x30'),
    ],
    // This alert compares counts, so the "good" series alone (one kube-proxy, two probers) are
    // not a good state: the quiet case is every kube-proxy up, in alsoQuiet.
    goodAloneFires: true,
    evalTime: '20m',
    expected: [{ labels: {}, value: 1 }],
    alsoQuiet: [
      [
        series('up', { job: 'kube-proxy', node: 'a' }, '1x30'),
        series('up', { job: 'kube-proxy', node: 'b' }, '1x30'),
        series('up', { job: 'kubenurse', node: 'a' }, '1x30'),
        series('up', { job: 'kubenurse', node: 'b' }, '1x30'),
      ],
    ],
  },
  {
    alert: 'KubeProxyMetricsUnreachable',
    bad: [series('kubenurse_kube_proxy_up', { job: 'kubenurse', node: 'a' }, '0x30')],
    good: [series('kubenurse_kube_proxy_up', { job: 'kubenurse', node: 'b' }, '1x30')],
    evalTime: '20m',
    expected: [{ labels: { job: 'kubenurse', node: 'a' }, value: 0 }],
  },
  {
    alert: 'KubeProxyHealthzFailing',
    bad: [series('kubenurse_kube_proxy_healthz_up', { job: 'kubenurse', node: 'a' }, '1 1 0x10')],
    good: [series('kubenurse_kube_proxy_healthz_up', { job: 'kubenurse', node: 'b' }, '1x12')],
    evalTime: '10m',
    expected: [{ labels: { job: 'kubenurse', node: 'a' }, value: 0 }],
  },
  {
    alert: 'KubeProxySyncLagging',
    // Node a: a change queued at minute 2 is never applied, and more keep being queued.
    bad: [
      series(
        'kubenurse_kube_proxy_sync_lag_seconds',
        { job: 'kubenurse', node: 'a', ip_family: 'IPv4' },
        '0 0 30+60x20',
      ),
    ],
    // Node b: changes are queued now and then and applied by the next sync (the prober reports
    // a lag that is not positive as 0); IPv6 on node a stays in sync.
    good: [
      series(
        'kubenurse_kube_proxy_sync_lag_seconds',
        { job: 'kubenurse', node: 'b', ip_family: 'IPv4' },
        '0 2 0 0 4 0 0 0 3 0 0 0 0 5 0 0 0 0 0 0 0 0',
      ),
      series(
        'kubenurse_kube_proxy_sync_lag_seconds',
        { job: 'kubenurse', node: 'a', ip_family: 'IPv6' },
        '0x21',
      ),
    ],
    evalTime: '18m',
    // 30 s at minute 2, +60 s per minute: 30 + 16 × 60 = 990 s at minute 18.
    expected: [{ labels: { job: 'kubenurse', node: 'a', ip_family: 'IPv4' }, value: 990 }],
  },
  {
    alert: 'KubeProxySyncRulesSlow',
    // Every sync of node a takes 8–16 s: p99 = 8 + 8 × 0.99 = 15.92 s.
    bad: histogram(
      'kubeproxy_sync_proxy_rules_duration_seconds',
      { job: 'kubenurse', node: 'a', ip_family: 'IPv4' },
      ['1', '8', '16'],
      12,
      2,
      40,
    ),
    good: histogram(
      'kubeproxy_sync_proxy_rules_duration_seconds',
      { job: 'kubenurse', node: 'b', ip_family: 'IPv4' },
      ['1', '8', '16'],
      0.5,
      2,
      40,
    ),
    evalTime: '30m',
    expected: [{ labels: { node: 'a' }, value: 15.92 }],
  },
  {
    alert: 'KubeProxyRestoreFailures',
    bad: [
      series(
        'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
        { job: 'kube-proxy', node: 'a' },
        '0+1x20',
      ),
    ],
    good: [
      series(
        'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
        { job: 'kube-proxy', node: 'b' },
        '3x20',
      ),
    ],
    evalTime: '18m',
    expected: [{ labels: { node: 'a' }, value: 10 }],
  },
  {
    alert: 'KubeProxyApiRequestsSlow',
    // POSTs of node a take 60–120 s: p99 = 60 + 60 × 0.99 = 119.4 s.
    bad: apiRequestDurations({ job: 'kube-proxy', node: 'a', verb: 'POST', url: EVENTS_URL }, 90),
    good: [
      ...apiRequestDurations({ job: 'kube-proxy', node: 'b', verb: 'POST', url: EVENTS_URL }, 1),
      // Long watches (GET) are slow by design, and other components are not kube-proxy.
      ...apiRequestDurations(
        {
          job: 'kube-proxy',
          node: 'b',
          verb: 'GET',
          url: 'https://10.96.0.1:443/apis/discovery.k8s.io/v1/endpointslices',
        },
        90,
      ),
      ...apiRequestDurations({ job: 'kubelet', node: 'c', verb: 'POST', url: EVENTS_URL }, 90),
    ],
    evalTime: '30m',
    expected: [{ labels: { node: 'a', verb: 'POST', url: EVENTS_URL }, value: 119.4 }],
  },
  {
    alert: 'KubeProxyApiErrors',
    bad: [apiRequests('kubenurse', 'a', '500', 3), apiRequests('kubenurse', 'a', '200', 7)],
    good: [
      apiRequests('kubenurse', 'b', '503', 0.1),
      apiRequests('kubenurse', 'b', '200', 10),
      apiRequests('kubelet', 'c', '500', 10),
    ],
    evalTime: '25m',
    expected: [{ labels: { node: 'a' }, value: 0.3 }],
  },
];

// ---- recording rules: input series → the samples each recorded series must hold ----
//
// Neighbour series come in the shapes KUBENURSE_NEIGHBOUR_TRACE_METRICS gives them: `full`
// (trace histogram per neighbour, type="path_<node>"), `aggregated` (one trace histogram for
// all neighbours, type="path_*") and `off` (no neighbour trace histogram); built-in checks and
// other jobs are there too, and must stay out of the fleet sums. Counters grow linearly, so a
// 5m rate is exact: 60 per minute is 1 per second.

const FLEET_BOUNDS = ['0.1', '1'];
/** Histogram buckets with all observations ≤ 0.1 s, `perMinute` per minute. */
function fastHistogram(name, labels, perMinute, minutes = 10) {
  return histogram(name, labels, FLEET_BOUNDS, 0.05, perMinute, minutes);
}
const counter = (name, labels, perMinute, minutes = 10) =>
  series(name, labels, `0+${perMinute}x${minutes}`);
const DURATION = 'kubenurse_httpclient_request_duration_seconds';
const TRACE = 'kubenurse_httpclient_trace_request_duration_seconds';
const REQUESTS = 'kubenurse_httpclient_requests_total';
const ERRORS = 'kubenurse_errors_total';
const job = 'kubenurse';

const FLEET_INPUT = [
  // node a (mode full): neighbours b and c, c answers every other request with an error.
  ...fastHistogram(`${DURATION}`, { job, node: 'a', type: 'path_b' }, 60),
  ...fastHistogram(`${DURATION}`, { job, node: 'a', type: 'path_c' }, 60),
  ...fastHistogram(TRACE, { job, node: 'a', type: 'path_b', event: 'connect_done' }, 60),
  ...fastHistogram(TRACE, { job, node: 'a', type: 'path_c', event: 'connect_done' }, 60),
  counter(REQUESTS, { job, node: 'a', type: 'path_b', code: '200' }, 60),
  counter(REQUESTS, { job, node: 'a', type: 'path_c', code: '200' }, 30),
  counter(REQUESTS, { job, node: 'a', type: 'path_c', code: 'round_trip_error' }, 30),
  counter(ERRORS, { job, node: 'a', type: 'path_c', event: 'round_trip_error' }, 30),
  // node b (mode aggregated): neighbour c, trace histogram under path_*.
  ...fastHistogram(`${DURATION}`, { job, node: 'b', type: 'path_c' }, 60),
  ...fastHistogram(TRACE, { job, node: 'b', type: 'path_*', event: 'connect_done' }, 60),
  counter(REQUESTS, { job, node: 'b', type: 'path_c', code: '200' }, 60),
  // node c (mode off): neighbour a, no trace histogram for it; a's pod fails it 1 in 4.
  ...fastHistogram(`${DURATION}`, { job, node: 'c', type: 'path_a' }, 60),
  counter(REQUESTS, { job, node: 'c', type: 'path_a', code: '200' }, 45),
  counter(REQUESTS, { job, node: 'c', type: 'path_a', code: 'round_trip_error' }, 15),
  counter(ERRORS, { job, node: 'c', type: 'path_a', event: 'round_trip_error' }, 15),
  // Not neighbour paths of the kubenurse job: left out of every fleet series.
  ...fastHistogram(`${DURATION}`, { job, node: 'a', type: 'api_server_direct' }, 600),
  ...fastHistogram(TRACE, { job, node: 'a', type: 'me_service', event: 'connect_done' }, 600),
  counter(REQUESTS, { job, node: 'a', type: 'me_ingress', code: 'round_trip_error' }, 600),
  counter(ERRORS, { job, node: 'a', type: 'me_ingress', event: 'round_trip_error' }, 600),
  counter(REQUESTS, { job: 'other', node: 'a', type: 'path_b', code: '200' }, 600),
  counter(ERRORS, { job: 'other', node: 'a', type: 'path_b', event: 'round_trip_error' }, 600),
  ...fastHistogram(TRACE, { job: 'other', node: 'a', type: 'path_*', event: 'connect_done' }, 600),
];

const RECORDINGS = [
  {
    name: 'kubenurse.fleet: full, aggregated and off probers together',
    input: FLEET_INPUT,
    evalTime: '10m',
    expected: {
      // 4 neighbour paths × 1/s, every observation ≤ 0.1 s.
      'kubenurse:path_request_duration_seconds_bucket:rate5m': [
        { labels: { le: '0.1' }, value: 4 },
        { labels: { le: '1' }, value: 4 },
        { labels: { le: '+Inf' }, value: 4 },
      ],
      // a's two per-neighbour histograms plus b's path_*; c (off) has none.
      'kubenurse:path_trace_request_duration_seconds_bucket:rate5m': [
        { labels: { event: 'connect_done', le: '0.1' }, value: 3 },
        { labels: { event: 'connect_done', le: '1' }, value: 3 },
        { labels: { event: 'connect_done', le: '+Inf' }, value: 3 },
      ],
      'kubenurse:path_requests:rate5m': [
        { labels: { node: 'a' }, value: 2 },
        { labels: { node: 'b' }, value: 1 },
        { labels: { node: 'c' }, value: 1 },
      ],
      'kubenurse:path_errors:rate5m': [
        { labels: { node: 'a' }, value: 0.5 },
        { labels: { node: 'c' }, value: 0.25 },
      ],
      'kubenurse:path_errors_by_target:rate5m': [
        { labels: { type: 'path_c' }, value: 0.5 },
        { labels: { type: 'path_a' }, value: 0.25 },
      ],
      // 0.75 errors / 4 requests per second.
      'kubenurse:path_error_ratio:rate5m': [{ labels: {}, value: 0.1875 }],
    },
  },
  {
    name: 'kubenurse.layers: checkers per checked node and layer',
    input: [
      ...verdicts('c', { a: 'node_network', b: 'node_network', d: 'none' }, 10),
      ...verdicts('b', { a: 'none' }, 10),
      series(
        'kubenurse_neighbour_verdict',
        { job, node: 'c', neighbour: 'b', layer: 'pod_network' },
        '0x10',
      ),
      series(
        'kubenurse_neighbour_verdict',
        { job: 'other', node: 'e', neighbour: 'c', layer: 'pod_network' },
        '1x10',
      ),
    ],
    evalTime: '10m',
    expected: {
      'kubenurse:neighbour_verdict:checkers': [
        { labels: { neighbour: 'c', layer: 'node_network' }, value: 2 },
        { labels: { neighbour: 'c', layer: 'none' }, value: 1 },
        { labels: { neighbour: 'b', layer: 'none' }, value: 1 },
      ],
      'kubenurse:neighbour_verdict:checkers_total': [
        { labels: { neighbour: 'c' }, value: 3 },
        { labels: { neighbour: 'b' }, value: 1 },
      ],
    },
  },
];

// ---- Go text/template subset used by the annotations, with Prometheus' humanize functions ----

/** Go's %.4g: 4 significant digits, no trailing zeros, exponent form outside 1e-4 ≤ |v| < 1e4. */
function g4(value) {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  if (exponent < -4 || exponent >= 4) {
    const [mantissa, exp] = value.toExponential(3).split('e');
    const trimmed = mantissa.replace(/\.?0+$/, '');
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${trimmed}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return String(Number(value.toPrecision(4)));
}

function humanizeDuration(value) {
  if (value === 0) return '0s';
  if (Math.abs(value) >= 1) {
    const sign = value < 0 ? '-' : '';
    const v = Math.abs(value);
    const whole = Math.trunc(v);
    const seconds = whole % 60;
    const minutes = Math.trunc(whole / 60) % 60;
    const hours = Math.trunc(whole / 3600) % 24;
    const days = Math.trunc(whole / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let v = value;
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

function humanize(value) {
  if (value === 0) return '0';
  let v = value;
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return `${g4(v)}${prefix}`;
  }
  for (const p of ['m', 'u', 'n', 'p']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}`;
}

const FUNCTIONS = {
  humanize,
  humanizeDuration,
  humanizePercentage: (value) => `${g4(value * 100)}%`,
};

function render(template, labels, value) {
  return template.replace(/\{\{\s*(.*?)\s*\}\}/g, (whole, action) => {
    const [head, ...pipes] = action.split('|').map((part) => part.trim());
    let result;
    if (head === '$value') result = value;
    else if (head.startsWith('$labels.')) result = labels[head.slice('$labels.'.length)] ?? '';
    else throw new Error(`template action not supported by this generator: ${whole}`);
    for (const pipe of pipes) {
      const fn = FUNCTIONS[pipe];
      if (!fn) throw new Error(`template function not supported by this generator: ${pipe}`);
      result = fn(result);
    }
    return typeof result === 'number' ? g4(result) : result;
  });
}

// ---- assemble ----

const rules = new Map();
for (const group of parse(readFileSync(RULES_FILE, 'utf8')).groups) {
  for (const rule of group.rules) if (rule.alert) rules.set(rule.alert, rule);
}

function expectedAlerts(rule, scenario) {
  return scenario.expected.map(({ labels, value }) => ({
    exp_labels: { ...labels, ...rule.labels },
    exp_annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([key, template]) => [
        key,
        render(template, labels, value),
      ]),
    ),
  }));
}

const tests = [];
for (const scenario of SCENARIOS) {
  const rule = rules.get(scenario.alert);
  if (!rule) throw new Error(`scenario for unknown alert ${scenario.alert}`);
  const test = (name, inputSeries, expAlerts) => ({
    name,
    interval: '1m',
    input_series: inputSeries,
    alert_rule_test: [
      { eval_time: scenario.evalTime, alertname: scenario.alert, exp_alerts: expAlerts },
    ],
  });
  tests.push(
    test(
      `${scenario.alert} fires on the bad series only`,
      [...scenario.bad, ...scenario.good],
      expectedAlerts(rule, scenario),
    ),
  );
  if (!scenario.goodAloneFires)
    tests.push(test(`${scenario.alert} stays quiet on good series`, scenario.good, []));
  for (const quiet of scenario.alsoQuiet ?? [])
    tests.push(test(`${scenario.alert} stays quiet on good series`, quiet, []));
}
const recordingRules = new Set();
for (const group of parse(readFileSync(RULES_FILE, 'utf8')).groups) {
  for (const rule of group.rules) if (rule.record) recordingRules.add(rule.record);
}
const labelText = (labels) =>
  Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
for (const recording of RECORDINGS) {
  const promqlTests = Object.entries(recording.expected).map(([record, samples]) => {
    if (!recordingRules.has(record)) throw new Error(`expected samples for unknown rule ${record}`);
    return {
      expr: record,
      eval_time: recording.evalTime,
      exp_samples: samples.map(({ labels, value }) => ({
        labels: `${record}{${labelText(labels)}}`,
        value,
      })),
    };
  });
  tests.push({
    name: recording.name,
    interval: '1m',
    input_series: recording.input,
    promql_expr_test: promqlTests,
  });
}
for (const record of recordingRules) {
  if (!RECORDINGS.some((recording) => record in recording.expected))
    throw new Error(`recording rule ${record} has no expected samples`);
}
for (const alert of rules.keys()) {
  if (!SCENARIOS.some((scenario) => scenario.alert === alert))
    throw new Error(`alert ${alert} has no scenario`);
}

const HEADER = `# Generated by scripts/generate-rule-tests.mjs from its scenarios and the rules' annotations.
# Run: promtool test rules examples/rules/kubenurse.rules.test.yaml
`;
writeFileSync(
  TEST_FILE,
  HEADER +
    stringify(
      { rule_files: ['kubenurse.rules.yaml'], evaluation_interval: '1m', tests },
      { lineWidth: 0 },
    ),
);
console.log(
  `wrote ${TEST_FILE}: ${tests.length} test groups for ${rules.size} alerts and ${recordingRules.size} recording rules`,
);
