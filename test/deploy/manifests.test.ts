// examples/: every manifest parses and validates against its schema, and agrees with the code
// (env names, ports, routes, RBAC, labels, namespace) and with itself (selectors, port names).
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, parseConfig } from '../../src/config.ts';
import { ROUTES } from '../../src/server.ts';
import {
  CLUSTER_SCOPED,
  EXAMPLES,
  NAMESPACE,
  ROOT,
  buildExamples,
  findObject,
  parseYamlFile,
  podContainers,
  present,
  readKustomization,
  validateObject,
  yamlFilesUnder,
  type ExampleKinds,
  type K8sObject,
} from './support.ts';
import { normaliseRule, relabel } from './relabel.ts';

const objects = buildExamples();
const daemonSet = findObject(objects, 'DaemonSet');
const daemonSetSpec = present(daemonSet.spec, 'DaemonSet spec');
const podTemplateMeta = present(daemonSetSpec.template.metadata, 'DaemonSet pod metadata');
const podSpec = present(daemonSetSpec.template.spec, 'DaemonSet pod spec');
const container = present(podSpec.containers[0], 'DaemonSet container');
const service = findObject(objects, 'Service');
const serviceSpec = present(service.spec, 'Service spec');
const serviceMonitor = findObject(objects, 'ServiceMonitor');
const serviceMonitorEndpoint = present(
  serviceMonitor.spec.endpoints?.[0],
  'ServiceMonitor endpoint',
);
const ingress = findObject(objects, 'Ingress');

/** The DaemonSet's env as the kubelet would resolve it for a pod on node-a. */
function resolvedEnv(): Record<string, string> {
  const fieldValues: Record<string, string> = {
    'metadata.name': 'kubenurse-x7k2p',
    'metadata.namespace': NAMESPACE,
    'spec.nodeName': 'node-a',
    'status.hostIP': '10.0.0.5',
  };
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.fieldRef) {
      const value = fieldValues[entry.valueFrom.fieldRef.fieldPath];
      if (value === undefined)
        throw new Error(
          `env ${entry.name}: fieldRef ${entry.valueFrom.fieldRef.fieldPath} is not one the test knows`,
        );
      env[entry.name] = value;
    } else throw new Error(`env ${entry.name}: only value and fieldRef are used by the example`);
  }
  return env;
}

/** Equality-based label selector (the form KUBENURSE_NEIGHBOUR_FILTER uses in the example). */
function selectorMatches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return selector.split(',').every((term) => {
    const match = /^\s*([^!=\s]+)\s*(==|=|!=)\s*([^\s]*)\s*$/.exec(term);
    if (!match) throw new Error(`selector term "${term}" is not equality-based`);
    const [, key, op, value] = match as unknown as [string, string, string, string];
    return op === '!=' ? labels[key] !== value : labels[key] === value;
  });
}

/** The part of a Prometheus configuration file the test reads. */
interface PrometheusConfig {
  scrape_configs: {
    job_name: string;
    kubernetes_sd_configs: unknown;
    relabel_configs: object[];
  }[];
}

function isSubset(
  subset: Readonly<Record<string, string>>,
  of: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(subset).every(([key, value]) => of[key] === value);
}

describe('examples/ parses and validates', () => {
  it('lists every Kubernetes manifest in kustomization.yaml, and nothing that does not exist', () => {
    const listed = new Set(readKustomization().resources);
    // Not Kubernetes objects: the kustomization itself, a prometheus.yml fragment, plain rule files.
    const notManifests = new Set(['kustomization.yaml', 'prometheus-kube-proxy-job.yaml']);
    const manifests = yamlFilesUnder(EXAMPLES)
      .map((path) => relative(EXAMPLES, path))
      .filter((path) => !notManifests.has(path) && !path.startsWith('rules/'));
    expect([...listed].sort()).toEqual(manifests.sort());
  });

  it('parses every YAML file under examples/', () => {
    for (const path of yamlFilesUnder(EXAMPLES))
      expect(parseYamlFile(path).length, relative(ROOT, path)).toBeGreaterThan(0);
  });

  it.each(
    objects.map(
      ({ file, object }) => [`${file}: ${object.kind}/${object.metadata.name}`, object] as const,
    ),
  )('%s validates against its schema', (_, object) => {
    expect(() => validateObject(object)).not.toThrow();
  });

  it('the schema validation rejects a broken object (the check is real)', () => {
    const broken = structuredClone(daemonSet);
    const port = present(broken.spec?.template.spec?.containers[0]?.ports?.[0], 'container port');
    (port as { containerPort: unknown }).containerPort = 'http';
    expect(() => validateObject(broken)).toThrow(/containerPort/);
    const noEndpoints = structuredClone(serviceMonitor);
    delete (noEndpoints.spec as { endpoints?: unknown }).endpoints;
    expect(() => validateObject(noEndpoints)).toThrow(/endpoints/);
  });

  it('creates each object once', () => {
    const keys = objects.map(
      ({ object }) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('namespace kube-nurse everywhere', () => {
  it('sets it in kustomization.yaml and creates it with Pod Security "restricted" enforced', () => {
    expect(readKustomization().namespace).toBe(NAMESPACE);
    const namespace = findObject(objects, 'Namespace');
    expect(namespace.metadata.name).toBe(NAMESPACE);
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('writes it in every namespaced manifest itself, so kubectl apply -f works too', () => {
    for (const resource of readKustomization().resources ?? []) {
      for (const doc of parseYamlFile(join(EXAMPLES, resource)) as K8sObject[]) {
        if (CLUSTER_SCOPED.has(doc.kind))
          expect(doc.metadata.namespace, `${resource} ${doc.kind}`).toBeUndefined();
        else expect(doc.metadata.namespace, `${resource} ${doc.kind}`).toBe(NAMESPACE);
      }
    }
  });

  it('binds the ServiceAccount of that namespace, selects the Service there, and probes the Service by its in-namespace name', () => {
    for (const kind of ['RoleBinding', 'ClusterRoleBinding'] as const) {
      for (const subject of findObject(objects, kind).subjects ?? [])
        expect(subject).toMatchObject({ kind: 'ServiceAccount', namespace: NAMESPACE });
    }
    expect(serviceMonitor.spec.namespaceSelector?.matchNames).toEqual([NAMESPACE]);
    expect(new URL(resolvedEnv().KUBENURSE_SERVICE_URL as string).hostname).toBe(
      `${service.metadata.name}.${NAMESPACE}.svc.cluster.local`,
    );
  });
});

describe('DaemonSet matches the code', () => {
  const env = resolvedEnv();
  const config = parseConfig(env);

  it('uses only environment variables the config module knows', () => {
    const unknown = Object.keys(env).filter((name) => !(name in ENV_VARS));
    expect(unknown).toEqual([]);
  });

  it('gives the prober its identity from the downward API', () => {
    const fieldRefs = Object.fromEntries(
      (container.env ?? []).flatMap((e) =>
        e.valueFrom ? [[e.name, e.valueFrom.fieldRef?.fieldPath]] : [],
      ),
    );
    expect(fieldRefs).toEqual({
      KUBENURSE_POD_NAME: 'metadata.name',
      KUBENURSE_NODE_NAME: 'spec.nodeName',
      KUBENURSE_NAMESPACE: 'metadata.namespace',
      KUBENURSE_HOST_IP: 'status.hostIP',
    });
  });

  it('is a configuration the prober accepts, with every cluster check configured', () => {
    expect(config.podName).toBe('kubenurse-x7k2p');
    expect(config.nodeName).toBe('node-a');
    expect(config.namespace).toBe(NAMESPACE);
    expect(config.kubeProxyMetricsUrl).toBe('http://10.0.0.5:10249/metrics');
    expect(config.kubeProxyHealthzUrl).toBe('http://10.0.0.5:10256/healthz');
    expect(config.serviceUrl).not.toBe('');
    expect(config.ingressUrl).not.toBe('');
    expect(config.neighbourFilter).not.toBe('');
  });

  it('has a neighbour filter that selects exactly the prober pods', () => {
    const podLabels = present(podTemplateMeta.labels, 'pod labels');
    expect(selectorMatches(config.neighbourFilter, podLabels)).toBe(true);
    // ... and not a pod that merely shares the namespace.
    expect(selectorMatches(config.neighbourFilter, { app: 'something-else' })).toBe(false);
    expect(isSubset(daemonSetSpec.selector.matchLabels ?? {}, podLabels)).toBe(true);
  });

  it('serves on the port the config listens on, and its probes use the server routes', () => {
    expect(container.ports).toEqual([
      { name: 'http', containerPort: config.port, protocol: 'TCP' },
    ]);
    const routes = Object.values(ROUTES) as string[];
    expect(container.readinessProbe?.httpGet).toEqual({ path: ROUTES.ready, port: 'http' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: ROUTES.alwaysHappy, port: 'http' });
    expect(container.startupProbe?.httpGet).toEqual({ path: ROUTES.alwaysHappy, port: 'http' });
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe])
      expect(routes).toContain(probe?.httpGet?.path);
  });

  it('announces /metrics through the prometheus.io annotations', () => {
    const annotations = podTemplateMeta.annotations;
    expect(annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.port),
      'prometheus.io/path': ROUTES.metrics,
    });
  });

  it('gives the shutdown drain time to finish before the kubelet kills the pod', () => {
    expect(present(podSpec.terminationGracePeriodSeconds, 'grace period') * 1000).toBeGreaterThan(
      config.shutdownDurationMs + config.checkTimeoutMs,
    );
  });

  it('runs on control-plane nodes, one node at a time during updates, with ndots 1', () => {
    expect(podSpec.tolerations).toContainEqual({
      key: 'node-role.kubernetes.io/control-plane',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    expect(daemonSetSpec.updateStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1 },
    });
    expect(podSpec.dnsConfig?.options).toEqual([{ name: 'ndots', value: '1' }]);
    // The probed names are fully qualified, which is what makes ndots 1 safe.
    for (const url of [config.serviceUrl, config.ingressUrl])
      expect(new URL(url).hostname.split('.').length).toBeGreaterThan(2);
    expect(config.apiServerDns.split('.').length).toBeGreaterThan(2);
  });

  it('meets Pod Security "restricted"', () => {
    expect(podSpec.hostNetwork ?? false).toBe(false);
    expect(podSpec.hostPID ?? false).toBe(false);
    expect(podSpec.hostIPC ?? false).toBe(false);
    expect(podSpec.volumes ?? []).toEqual([]);
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('runs as the same numeric user as the image', () => {
    const user = /^USER\s+(\d+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(Number(user)).toBe(podSpec.securityContext?.runAsUser);
  });

  it('requests and limits CPU and memory, and requests at least the measured RSS', () => {
    const requests = present(container.resources?.requests, 'resource requests');
    const limits = present(container.resources?.limits, 'resource limits');
    const mebibytes = (quantity: string | number | undefined): number => {
      const match = typeof quantity === 'string' ? /^(\d+)(Mi|Gi)$/.exec(quantity) : null;
      if (!match) throw new Error(`memory quantity ${String(quantity)}: use Mi or Gi`);
      return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
    };
    const millicores = (quantity: string | number | undefined): number =>
      typeof quantity === 'string' && quantity.endsWith('m')
        ? Number(quantity.slice(0, -1))
        : Number(quantity) * 1000;
    expect(mebibytes(requests.memory)).toBeLessThanOrEqual(mebibytes(limits.memory));
    expect(millicores(requests.cpu)).toBeLessThanOrEqual(millicores(limits.cpu));
    // The request covers the steady RSS that `npm run bench -- --only rss` last measured for
    // the bundle as the image runs it (50 neighbours), so the two cannot drift apart.
    const rss = JSON.parse(readFileSync(join(ROOT, 'bench/results/rss.json'), 'utf8')) as {
      data: { runs: { label: string; steadyMiB: number }[] };
    };
    const asShipped = rss.data.runs.find((run) => run.label.includes('as the image runs it'));
    expect(asShipped?.steadyMiB).toBeGreaterThan(0);
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(asShipped?.steadyMiB ?? Infinity);
  });

  it('uses the image name kustomization.yaml overrides, with a pinned tag', () => {
    const source = parseYamlFile(join(EXAMPLES, 'daemonset.yaml'))[0] as ExampleKinds['DaemonSet'];
    const images = readKustomization().images ?? [];
    expect(images.map((image) => image.name)).toContain(
      source.spec?.template.spec?.containers[0]?.image,
    );
    for (const built of podContainers(daemonSet)) expect(built.image).toMatch(/:[\w.-]+$/);
    expect(container.image).not.toMatch(/:latest$/);
  });

  it('runs under the ServiceAccount the RBAC binds', () => {
    const serviceAccount = findObject(objects, 'ServiceAccount');
    expect(podSpec.serviceAccountName).toBe(serviceAccount.metadata.name);
  });
});

describe('Service, Ingress and ServiceMonitor match the DaemonSet', () => {
  const podLabels = present(podTemplateMeta.labels, 'pod labels');
  const servicePort = present(serviceSpec.ports?.[0], 'Service port');

  it('Service selects the prober pods on the named container port, and the service URL uses its port', () => {
    expect(isSubset(serviceSpec.selector ?? {}, podLabels)).toBe(true);
    expect(serviceSpec.ports).toHaveLength(1);
    expect(servicePort).toMatchObject({
      name: 'http',
      port: 8080,
      targetPort: container.ports?.[0]?.name,
    });
    expect(Number(new URL(resolvedEnv().KUBENURSE_SERVICE_URL as string).port)).toBe(
      servicePort.port,
    );
  });

  it('Ingress exposes /alwayshappy only, exactly, on the host of KUBENURSE_INGRESS_URL', () => {
    expect(ingress.spec?.rules).toHaveLength(1);
    const rule = present(ingress.spec?.rules?.[0], 'Ingress rule');
    expect(rule.host).toBe(new URL(resolvedEnv().KUBENURSE_INGRESS_URL as string).hostname);
    expect(rule.http?.paths).toEqual([
      {
        path: ROUTES.alwaysHappy,
        pathType: 'Exact',
        backend: { service: { name: service.metadata.name, port: { name: servicePort.name } } },
      },
    ]);
    expect(ingress.spec?.defaultBackend).toBeUndefined();
  });

  it('ServiceMonitor selects the Service by its labels and scrapes its named port on /metrics', () => {
    expect(
      isSubset(serviceMonitor.spec.selector.matchLabels ?? {}, service.metadata.labels ?? {}),
    ).toBe(true);
    expect(serviceMonitor.spec.endpoints).toHaveLength(1);
    expect(serviceMonitorEndpoint).toMatchObject({
      port: servicePort.name,
      path: ROUTES.metrics,
    });
    expect(serviceMonitorEndpoint.interval).toMatch(/^\d+[sm]$/);
    // job="kubenurse" (the rules and the dashboard select on it) comes from this Service label.
    const jobLabel = present(serviceMonitor.spec.jobLabel, 'ServiceMonitor jobLabel');
    expect(service.metadata.labels?.[jobLabel]).toBe('kubenurse');
  });

  it('ServiceMonitor adds the node label the alerts group by', () => {
    const rules = (serviceMonitorEndpoint.relabelings ?? []).map(normaliseRule);
    expect(
      relabel({ __meta_kubernetes_pod_node_name: 'node-a', __address__: '10.1.2.3:8080' }, rules),
    ).toMatchObject({ node: 'node-a' });
  });

  it('the Grafana dashboard ConfigMap carries the sidecar label and fits a client-side apply', () => {
    const configMap = findObject(objects, 'ConfigMap');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    const json = present(Object.values(configMap.data ?? {})[0], 'dashboard JSON');
    expect((): unknown => JSON.parse(json)).not.toThrow();
    // kubectl apply stores the object in an annotation limited to 256 KiB.
    expect(Buffer.byteLength(json)).toBeLessThan(256 * 1024);
  });
});

describe('kube-proxy scrape configurations', () => {
  const pods = {
    kubeProxyV4: {
      __meta_kubernetes_namespace: 'kube-system',
      __meta_kubernetes_pod_name: 'kube-proxy-7xq2z',
      __meta_kubernetes_pod_ip: '10.0.0.5',
      __meta_kubernetes_pod_node_name: 'node-a',
      __address__: '10.0.0.5',
    },
    kubeProxyV6: {
      __meta_kubernetes_namespace: 'kube-system',
      __meta_kubernetes_pod_name: 'kube-proxy-b9d4k',
      __meta_kubernetes_pod_ip: 'fd00::5',
      __meta_kubernetes_pod_node_name: 'node-b',
      __address__: 'fd00::5',
    },
    coredns: {
      __meta_kubernetes_namespace: 'kube-system',
      __meta_kubernetes_pod_name: 'coredns-5d78c9869d-abcde',
      __meta_kubernetes_pod_ip: '10.244.0.3',
      __meta_kubernetes_pod_node_name: 'node-a',
      __address__: '10.244.0.3:53',
    },
  };

  function expectKubeProxyTargets(rules: ReturnType<typeof normaliseRule>[]): void {
    expect(relabel(pods.kubeProxyV4, rules)).toMatchObject({
      __address__: '10.0.0.5:10249',
      node: 'node-a',
    });
    expect(relabel(pods.kubeProxyV6, rules)).toMatchObject({
      __address__: '[fd00::5]:10249',
      node: 'node-b',
    });
    expect(relabel(pods.coredns, rules)).toBeUndefined();
  }

  it('PodMonitor: kube-system pods named kube-proxy-*, port 10249, job kube-proxy, node label', () => {
    const podMonitor = findObject(objects, 'PodMonitor');
    expect(podMonitor.spec.namespaceSelector?.matchNames).toEqual(['kube-system']);
    expect(podMonitor.spec.jobLabel).toBe('k8s-app');
    expect(podMonitor.spec.selector.matchLabels).toEqual({ 'k8s-app': 'kube-proxy' });
    expect(podMonitor.spec.podMetricsEndpoints).toHaveLength(1);
    const endpoint = present(podMonitor.spec.podMetricsEndpoints?.[0], 'PodMonitor endpoint');
    expectKubeProxyTargets((endpoint.relabelings ?? []).map(normaliseRule));
  });

  it('plain Prometheus job: pod role in kube-system, the same targets and labels', () => {
    const [config] = parseYamlFile(join(EXAMPLES, 'prometheus-kube-proxy-job.yaml')) as [
      PrometheusConfig,
    ];
    expect(config.scrape_configs).toHaveLength(1);
    const job = present(config.scrape_configs[0], 'scrape config');
    expect(job.job_name).toBe('kube-proxy');
    expect(job.kubernetes_sd_configs).toEqual([
      { role: 'pod', namespaces: { names: ['kube-system'] } },
    ]);
    expectKubeProxyTargets(job.relabel_configs.map(normaliseRule));
  });
});

// ---- RBAC: exactly what the code calls ----

/**
 * Every Kubernetes API path the code requests, and the permission it needs. The test below
 * finds the paths in src/ itself: a new API call fails it until it is listed here and the
 * RBAC in examples/rbac.yaml covers it.
 */
const API_ACCESS: Record<
  string,
  | {
      readonly kind: 'Role' | 'ClusterRole';
      readonly resource: string;
      readonly verbs: readonly string[];
    }
  | string
> = {
  // Neighbour discovery: a ListWatch (list, then watch) of the prober pods in its namespace.
  '/api/v1/namespaces/{}/pods': { kind: 'Role', resource: 'pods', verbs: ['list', 'watch'] },
  // ... and of the nodes (schedulability, deletion).
  '/api/v1/nodes': { kind: 'ClusterRole', resource: 'nodes', verbs: ['list', 'watch'] },
  // Only when no namespace is known; the DaemonSet always sets KUBENURSE_NAMESPACE.
  '/api/v1/pods': 'unused in the example (KUBENURSE_NAMESPACE is set)',
  // The apiserver checks: a non-resource URL every authenticated client may read.
  '/version': 'allowed by the default system:public-info-viewer ClusterRole',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function apiPathsInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = withoutComments(readFileSync(file, 'utf8'));
    if (/makeApiClient|CoreV1Api|AppsV1Api/.test(text))
      throw new Error(
        `${relative(ROOT, file)} uses client-node's typed API: list its calls in API_ACCESS`,
      );
    for (const match of text.matchAll(/\/(?:apis?\/v1\b[^'"`\s?]*|version(?=['"`]))/g)) {
      const path = match[0].replace(/\$\{[^}]*\}/g, '{}');
      found.set(path, [...(found.get(path) ?? []), relative(ROOT, file)]);
    }
  }
  return found;
}

describe('RBAC grants exactly what the code uses', () => {
  it('every API path in src/ is listed in API_ACCESS, and every listed path is still used', () => {
    const inSource = apiPathsInSource();
    expect([...inSource.keys()].sort()).toEqual(Object.keys(API_ACCESS).sort());
  });

  it('Role and ClusterRole hold exactly the verbs of API_ACCESS', () => {
    const needed = (kind: 'Role' | 'ClusterRole'): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      for (const access of Object.values(API_ACCESS)) {
        if (typeof access === 'string' || access.kind !== kind) continue;
        out[access.resource] = [
          ...new Set([...(out[access.resource] ?? []), ...access.verbs]),
        ].sort();
      }
      return out;
    };
    const granted = (kind: 'Role' | 'ClusterRole'): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      for (const rule of findObject(objects, kind).rules ?? []) {
        expect(rule.apiGroups, `${kind}: core API group only`).toEqual(['']);
        expect(rule.resourceNames).toBeUndefined();
        for (const resource of rule.resources ?? [])
          out[resource] = [...new Set([...(out[resource] ?? []), ...rule.verbs])].sort();
      }
      return out;
    };
    expect(granted('Role')).toEqual(needed('Role'));
    expect(granted('ClusterRole')).toEqual(needed('ClusterRole'));
  });

  it('binds both roles to the prober ServiceAccount', () => {
    const serviceAccount = findObject(objects, 'ServiceAccount');
    for (const [binding, role] of [
      ['RoleBinding', 'Role'],
      ['ClusterRoleBinding', 'ClusterRole'],
    ] as const) {
      const object = findObject(objects, binding);
      expect(object.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: role,
        name: findObject(objects, role).metadata.name,
      });
      expect(object.subjects).toEqual([
        { kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: NAMESPACE },
      ]);
    }
  });
});
