// The environment the kubelet gives a container of examples/daemonset.yaml: the Service
// variables (KUBERNETES_SERVICE_HOST and, unless enableServiceLinks is false, the docker-link
// style variables of every Service in the pod's namespace), then the container's own `env`
// with the downward API resolved. The probers get exactly this, plus the test overrides.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface PodFacts {
  readonly podName: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly hostIp: string;
  readonly podIp: string;
  readonly serviceAccountName: string;
}

export interface ServiceFacts {
  readonly name: string;
  readonly namespace: string;
  readonly clusterIp: string;
  readonly ports: readonly { name?: string; port: number; protocol: 'TCP' | 'UDP' }[];
}

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } } & Record<string, unknown>;
}

export interface DaemonSetContainer {
  readonly env: readonly EnvEntry[];
  readonly enableServiceLinks: boolean;
  readonly serviceAccountName: string;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly dnsOptions: readonly string[];
  readonly containerPort: number;
}

export function readDaemonSet(path: string, containerName = 'kubenurse'): DaemonSetContainer {
  const manifest = parse(readFileSync(path, 'utf8')) as {
    kind?: string;
    spec?: {
      template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> };
    };
  };
  if (manifest.kind !== 'DaemonSet')
    throw new Error(`${path}: expected a DaemonSet, found ${String(manifest.kind)}`);
  const podSpec = (manifest.spec?.template?.spec ?? {}) as {
    containers?: { name: string; env?: EnvEntry[]; ports?: { containerPort: number }[] }[];
    enableServiceLinks?: boolean;
    serviceAccountName?: string;
    dnsConfig?: { options?: { name: string; value?: string }[] };
  };
  const container = podSpec.containers?.find((candidate) => candidate.name === containerName);
  if (!container) throw new Error(`${path}: no container named ${containerName}`);
  return {
    env: container.env ?? [],
    enableServiceLinks: podSpec.enableServiceLinks !== false,
    serviceAccountName: podSpec.serviceAccountName ?? 'default',
    podLabels: manifest.spec?.template?.metadata?.labels ?? {},
    dnsOptions: (podSpec.dnsConfig?.options ?? []).map((option) =>
      option.value === undefined ? option.name : `${option.name}:${option.value}`,
    ),
    containerPort: container.ports?.[0]?.containerPort ?? 8080,
  };
}

function fieldRef(path: string, pod: PodFacts): string {
  switch (path) {
    case 'metadata.name':
      return pod.podName;
    case 'metadata.namespace':
      return pod.namespace;
    case 'spec.nodeName':
      return pod.nodeName;
    case 'spec.serviceAccountName':
      return pod.serviceAccountName;
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.hostIp;
    case 'status.podIP':
    case 'status.podIPs':
      return pod.podIp;
    default:
      throw new Error(
        `the testbed does not emulate the downward API field ${path}: add it to pod-env.ts`,
      );
  }
}

/** The kubelet's docker-link variables for one Service (pkg/kubelet/envvars). */
export function serviceLinkEnv(service: ServiceFacts): Record<string, string> {
  const prefix = service.name.toUpperCase().replace(/-/g, '_');
  const env: Record<string, string> = {};
  const [first] = service.ports;
  if (!first) return env;
  env[`${prefix}_SERVICE_HOST`] = service.clusterIp;
  env[`${prefix}_SERVICE_PORT`] = String(first.port);
  for (const port of service.ports) {
    if (port.name)
      env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replace(/-/g, '_')}`] = String(
        port.port,
      );
  }
  env[`${prefix}_PORT`] = `${first.protocol.toLowerCase()}://${service.clusterIp}:${first.port}`;
  for (const port of service.ports) {
    const base = `${prefix}_PORT_${port.port}_${port.protocol}`;
    env[base] = `${port.protocol.toLowerCase()}://${service.clusterIp}:${port.port}`;
    env[`${base}_PROTO`] = port.protocol.toLowerCase();
    env[`${base}_PORT`] = String(port.port);
    env[`${base}_ADDR`] = service.clusterIp;
  }
  return env;
}

/**
 * `kubernetesService` is the apiserver's Service in `default`: its variables are always set.
 * `services` are the Services of the pod's namespace, linked unless enableServiceLinks=false.
 */
export function containerEnv(
  container: DaemonSetContainer,
  pod: PodFacts,
  kubernetesService: ServiceFacts,
  services: readonly ServiceFacts[],
): Record<string, string> {
  const env: Record<string, string> = {};
  if (container.enableServiceLinks) {
    for (const service of services.filter((candidate) => candidate.namespace === pod.namespace))
      Object.assign(env, serviceLinkEnv(service));
  }
  Object.assign(env, serviceLinkEnv(kubernetesService));
  for (const entry of container.env) {
    if (entry.value !== undefined)
      env[entry.name] = entry.value.replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (whole, name: string) => env[name] ?? whole,
      );
    else if (entry.valueFrom?.fieldRef)
      env[entry.name] = fieldRef(entry.valueFrom.fieldRef.fieldPath, pod);
    else if (entry.valueFrom)
      throw new Error(
        `env ${entry.name}: the testbed only emulates value and fieldRef, not ${Object.keys(entry.valueFrom).join(', ')}`,
      );
    else env[entry.name] = '';
  }
  return env;
}
