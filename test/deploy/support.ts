// Shared helpers of the deployment tests: the examples/ tree as kustomize would build it,
// schema validation of each object, and promtool.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { requireCommand } from '../../scripts/preflight/components.ts';
import {
  ConfigMap,
  Namespace,
  Service,
  ServiceAccount,
  type IConfigMap,
  type INamespace,
  type IService,
  type IServiceAccount,
} from 'kubernetes-models/v1';
import { DaemonSet, type IDaemonSet } from 'kubernetes-models/apps/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  type IClusterRole,
  type IClusterRoleBinding,
  type IRole,
  type IRoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Ingress, type IIngress } from 'kubernetes-models/networking.k8s.io/v1';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
  type IPodMonitor,
  type IPrometheusRule,
  type IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLES = join(ROOT, 'examples');
export const NAMESPACE = 'kube-nurse';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface SourcedObject {
  readonly file: string;
  readonly object: K8sObject;
}

/** Parses every YAML document of a file; a syntax error anywhere fails with the file name. */
export function parseYamlFile(path: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'));
  const list = Array.isArray(documents) ? documents : [documents];
  return list
    .map((document) => {
      if (document.errors.length > 0)
        throw new Error(
          `${relative(ROOT, path)}: ${document.errors.map((e) => e.message).join('; ')}`,
        );
      return document.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  configMapGenerator?: {
    name: string;
    files?: string[];
    options?: { disableNameSuffixHash?: boolean; labels?: Record<string, string> };
  }[];
  [key: string]: unknown;
}

export function readKustomization(): Kustomization {
  const [doc] = parseYamlFile(join(EXAMPLES, 'kustomization.yaml'));
  return doc as Kustomization;
}

/**
 * What `kubectl apply -k examples/` creates, for the subset of kustomize the example uses
 * (resources, namespace, images, configMapGenerator with files). Anything else in the
 * kustomization fails here, so this never silently diverges from kustomize.
 */
export function buildExamples(): SourcedObject[] {
  const kustomization = readKustomization();
  const supported = new Set([
    'apiVersion',
    'kind',
    'namespace',
    'resources',
    'images',
    'configMapGenerator',
  ]);
  const unsupported = Object.keys(kustomization).filter((key) => !supported.has(key));
  if (unsupported.length > 0)
    throw new Error(
      `kustomization.yaml uses ${unsupported.join(', ')}: teach test/deploy/support.ts buildExamples() first`,
    );

  const out: SourcedObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(EXAMPLES, resource);
    if (!existsSync(path))
      throw new Error(`kustomization.yaml lists ${resource}, which does not exist`);
    for (const doc of parseYamlFile(path))
      out.push({ file: resource, object: structuredClone(doc) as K8sObject });
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    if (generator.options?.disableNameSuffixHash !== true)
      throw new Error(
        `configMapGenerator ${generator.name}: the sidecar and docs expect a stable name (disableNameSuffixHash: true)`,
      );
    const data: Record<string, string> = {};
    for (const entry of generator.files ?? []) {
      const [key, file] = entry.includes('=')
        ? (entry.split('=', 2) as [string, string])
        : [entry.split('/').at(-1) as string, entry];
      data[key] = readFileSync(join(EXAMPLES, file), 'utf8');
    }
    out.push({
      file: `configMapGenerator/${generator.name}`,
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: generator.name, labels: generator.options?.labels ?? {} },
        data,
      },
    });
  }
  for (const { object } of out) {
    if (kustomization.namespace !== undefined && !CLUSTER_SCOPED.has(object.kind))
      object.metadata.namespace = kustomization.namespace;
    for (const container of podContainers(object)) {
      const [name, tag] = splitImage(container.image);
      const override = kustomization.images?.find((image) => image.name === name);
      if (override)
        container.image = `${override.newName ?? name}:${override.newTag ?? tag ?? 'latest'}`;
    }
  }
  return out;
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/')
    ? [image.slice(0, at), image.slice(at + 1)]
    : [image, undefined];
}

export const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

interface Container {
  name: string;
  image: string;
  [key: string]: unknown;
}

export function podContainers(object: K8sObject): Container[] {
  const spec = (object as { spec?: { template?: { spec?: { containers?: Container[] } } } }).spec;
  return spec?.template?.spec?.containers ?? [];
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'networking.k8s.io/v1/Ingress': Ingress,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Validates against the Kubernetes / prometheus-operator schema of its kind; throws with the path of the first problem. */
export function validateObject(object: K8sObject): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model)
    throw new Error(
      `no schema registered for ${object.apiVersion} ${object.kind}: add it to MODELS in test/deploy/support.ts`,
    );
  new model(object as never).validate();
}

/**
 * The kinds examples/ holds, as their schema types: every object is validated against that
 * schema (validateObject, in manifests.test.ts), so the tests may read it through these types.
 */
export interface ExampleKinds {
  Namespace: INamespace;
  ServiceAccount: IServiceAccount;
  Service: IService;
  ConfigMap: IConfigMap;
  DaemonSet: IDaemonSet;
  Role: IRole;
  RoleBinding: IRoleBinding;
  ClusterRole: IClusterRole;
  ClusterRoleBinding: IClusterRoleBinding;
  Ingress: IIngress;
  ServiceMonitor: IServiceMonitor;
  PodMonitor: IPodMonitor;
  PrometheusRule: IPrometheusRule;
}

export function findObject<Kind extends keyof ExampleKinds>(
  objects: readonly SourcedObject[],
  kind: Kind,
  name?: string,
): ExampleKinds[Kind] & K8sObject {
  const matches = objects.filter(
    ({ object }) => object.kind === kind && (name === undefined || object.metadata.name === name),
  );
  if (matches.length !== 1)
    throw new Error(
      `expected exactly one ${kind}${name ? ` named ${name}` : ''} in examples/, found ${matches.length}`,
    );
  return (matches[0] as SourcedObject).object as ExampleKinds[Kind] & K8sObject;
}

/** `value`, or a failure naming what the manifest lacks. */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`examples/: no ${what}`);
  return value;
}

// ---- promtool ----

export interface ToolResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs promtool; a missing binary fails the test with what to install (never a skip). */
export function promtool(args: readonly string[], cwd = ROOT): ToolResult {
  const result = spawnSync(requireCommand('promtool'), args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export function promtoolVersion(): string {
  return (
    execFileSync(requireCommand('promtool'), ['--version'], { encoding: 'utf8' }).split('\n')[0] ??
    ''
  );
}
