// Upstream: examples/daemonset.yaml, helm/kubenurse/values.yaml and templates/daemonset.yaml
// (the environments), parsed as internal/kubenurse/server.go New() parses them. The same
// environments run end to end, on the emulated cluster network, in test/e2e/cluster.test.ts
// ("started with upstream's … environment").
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { UPSTREAM_EXAMPLE_ENV, UPSTREAM_HELM_ENV, envRecord } from './upstream-env.ts';

/** What the kubelet adds to every container: the apiserver Service. */
const KUBELET_ENV = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe("upstream's examples/daemonset.yaml environment", () => {
  const config = parseConfig({ ...KUBELET_ENV, ...envRecord(UPSTREAM_EXAMPLE_ENV) });

  it('starts with the checks upstream runs: all four built-in checks and the neighbours', () => {
    expect(config).toMatchObject({
      checkApiServerDirect: true,
      checkApiServerDns: true,
      checkMeIngress: true,
      checkMeService: true,
      checkNeighbourhood: true,
      ingressUrl: 'https://kubenurse.example.com',
      serviceUrl: 'http://kubenurse.kube-nurse.svc.cluster.local:8080',
      namespace: 'kube-nurse',
      neighbourFilter: 'app.kubernetes.io/name=kubenurse',
    });
  });

  it("takes upstream's defaults for everything it does not set (server.go New)", () => {
    expect(config).toMatchObject({
      checkIntervalMs: 5000, // defaultCheckInterval
      shutdownDurationMs: 5000,
      neighbourLimit: 10,
      apiServerDns: 'kubernetes.default.svc.cluster.local',
      apiServerHost: '10.96.0.1',
      apiServerPort: '443',
      histogramBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      useTls: false,
      insecure: false,
      reuseConnections: false,
      allowUnschedulable: false,
      exposeMetadata: false,
      victoriaMetricsHistogram: false,
      extraChecks: [],
      port: 8080,
      tlsPort: 8443,
    });
    // ":8080": every address family.
    expect(config.bindAddress).toBeUndefined();
  });
});

describe("upstream's Helm chart environment (values.yaml defaults)", () => {
  const config = parseConfig({ ...KUBELET_ENV, ...envRecord(UPSTREAM_HELM_ENV) });

  it('parses every value as upstream does: "true"/"false" toggles, 5s durations, "10"', () => {
    expect(config).toMatchObject({
      insecure: true,
      allowUnschedulable: false,
      neighbourLimit: 10,
      exposeMetadata: false,
      victoriaMetricsHistogram: false,
      checkApiServerDirect: true,
      checkApiServerDns: true,
      checkMeIngress: true,
      checkMeService: true,
      checkNeighbourhood: true,
      checkIntervalMs: 5000,
      reuseConnections: false,
      shutdownDurationMs: 5000,
      useTls: false,
      namespace: 'kube-nurse',
      apiServerDns: 'kubernetes.default.svc.cluster.local',
    });
  });

  it('turns a check off only for exactly "false", a toggle on only for exactly "true" (server.go)', () => {
    const env = { ...KUBELET_ENV, ...envRecord(UPSTREAM_HELM_ENV) };
    const flipped = parseConfig({
      ...env,
      KUBENURSE_CHECK_ME_INGRESS: 'False',
      KUBENURSE_CHECK_ME_SERVICE: 'false',
      KUBENURSE_INSECURE: 'TRUE',
      KUBENURSE_USE_TLS: 'yes',
    });
    expect(flipped.checkMeIngress).toBe(true);
    expect(flipped.checkMeService).toBe(false);
    expect(flipped.insecure).toBe(false);
    expect(flipped.useTls).toBe(false);
  });
});
