// A small fake Kubernetes apiserver: the project's own, for integration tests, the local
// demo and the end-to-end suite. Plain Node (no vitest imports), so scripts can use it too.
//
// What it speaks (core/v1 pods and nodes only, JSON only):
//   GET /version                                 kubernetes-like version JSON
//   GET /api/v1/nodes            /api/v1/nodes/{name}
//   GET /api/v1/pods             /api/v1/namespaces/{ns}/pods     /api/v1/namespaces/{ns}/pods/{name}
//   list query: labelSelector (=, ==, !=, in, notin, exists, !key), fieldSelector (metadata.name,
//   metadata.namespace, spec.nodeName, status.phase, and for nodes spec.unschedulable, with
//   =, ==, !=), resourceVersion, limit/continue pagination (continue tokens carry the list's
//   resourceVersion and the last key; a token older than the history answers 410 Expired)
//   ?watch=true: newline-delimited {"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":…}
//   from resourceVersion (replayed from a bounded history; older → ERROR 410 Expired, as a
//   real apiserver), or from "now" with synthetic ADDED events when none is given;
//   timeoutSeconds honoured; an object that stops (starts) matching a selector is DELETED (ADDED).
// HTTPS with a CA made at start (dev/fakes/pki.ts) or a given cert/key; every request needs
// `Authorization: Bearer <token>` (401 otherwise; `allowAnonymousVersion` opens /version).
//
// Usage:
//   const api = await FakeApiServer.start({ host: '127.0.2.1' });
//   api.addNode({ name: 'worker-1' });
//   api.addPod({ name: 'kubenurse-abc', nodeName: 'worker-1', podIP: '127.0.2.2' });
//   const saDir = api.writeServiceAccountDir('kube-system');   // token, ca.crt, namespace
//   const env = api.inClusterEnv(saDir);                        // KUBERNETES_SERVICE_HOST/PORT, …
//   const kubeconfig = api.writeKubeconfig();                   // for KUBECONFIG
//   api.cordon('worker-1'); api.taint('worker-1', 'ToBeDeletedByClusterAutoscaler');
//   Faults: api.dropWatches(), api.expireNextWatch(), api.compact(), api.fail(500),
//   api.fail(500, 'version'), api.hang(), api.heal(), api.close() / api.listen() (down / up
//   again on the same port), api.setToken(t) (rotation: rewrites every service-account dir),
//   api.deny('nodes') (403 Forbidden, as RBAC without the ClusterRole), api.overrideNext('watch',
//   'nodes', handler) (a hostile answer written by the test).
// Traffic: api.traffic(token) counts what was sent to one client (lists, pages, watch events
// and bytes), api.addToken()/writeServiceAccountDir(ns, dir, token) give each prober its own.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { urlHost } from '../../src/url-host.ts';
import { createTestCa } from './pki.ts';

type Json = Record<string, unknown>;
type Kind = 'pods' | 'nodes';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface FakeApiServerOptions {
  /** Address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (ephemeral); the chosen port is kept for close()/listen(). */
  readonly port?: number;
  /** Bearer token accepted; default a random one. */
  readonly token?: string;
  /** Serving certificate; default: issued for `host` (and localhost) by a fresh test CA. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly caCert: string };
  /** Events kept for watches resuming from a resourceVersion; older ones answer 410. Default 1000. */
  readonly historyLimit?: number;
  /** Answer /version without a token, as clusters with the public-info-viewer role do. Default false. */
  readonly allowAnonymousVersion?: boolean;
  /** Send BOOKMARK events this often to watches that ask for them, as real apiservers do (about 60 s). Default: only on sendBookmarks(). */
  readonly bookmarkIntervalMs?: number;
}

export interface PodInit {
  readonly name: string;
  readonly namespace?: string;
  readonly nodeName?: string;
  readonly podIP?: string;
  readonly hostIP?: string;
  /** Dual-stack: the other family's pod and node address (status.podIPs[1], status.hostIPs[1]). */
  readonly secondaryPodIP?: string;
  readonly secondaryHostIP?: string;
  /** Default { 'app.kubernetes.io/name': 'kubenurse' }. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Default Running. */
  readonly phase?: string;
  /** Ready condition; default true. */
  readonly ready?: boolean;
}

export interface NodeInit {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly unschedulable?: boolean;
  readonly taints?: readonly { key: string; value?: string; effect: string }[];
  readonly internalIP?: string;
  /** Dual-stack: a second InternalIP, of the other family. */
  readonly secondaryInternalIP?: string;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly watch: boolean;
  /** The bearer token presented, if any. */
  readonly token: string | undefined;
  readonly status: number;
  /** Date.now() when the request arrived. */
  readonly at: number;
}

export type FaultScope = 'all' | 'version';

/** What the server sent to one client (by bearer token). */
export interface Traffic {
  listRequests: number;
  listBytes: number;
  watchRequests: number;
  watchEvents: number;
  watchBytes: number;
}

export type OverrideHandler = (response: ServerResponse, request: IncomingMessage) => void;

interface Watcher {
  readonly kind: Kind;
  readonly query: Readonly<Record<string, string>>;
  readonly traffic: Traffic | undefined;
  readonly namespace: string | undefined;
  readonly matches: (object: Json) => boolean;
  readonly bookmarks: boolean;
  readonly response: ServerResponse;
}

interface HistoryEntry {
  readonly rv: number;
  readonly kind: Kind;
  readonly before: Json | undefined;
  readonly after: Json | undefined;
}

const DEFAULT_POD_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'kubenurse',
};
const MAX_REQUEST_LOG = 10_000;

/** A core/v1 Pod as the apiserver would return it, from the few fields tests care about. */
function makePod(init: PodInit): Json {
  const ready = init.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: init.name,
      namespace: init.namespace ?? 'kube-system',
      uid: randomUid(),
      labels: { ...(init.labels ?? DEFAULT_POD_LABELS) },
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      ...(init.nodeName === undefined ? {} : { nodeName: init.nodeName }),
      containers: [{ name: 'kubenurse', image: 'kubenurse-ts' }],
    },
    status: {
      phase: init.phase ?? 'Running',
      ...(init.podIP === undefined
        ? {}
        : { podIP: init.podIP, podIPs: ipList(init.podIP, init.secondaryPodIP) }),
      ...(init.hostIP === undefined
        ? {}
        : {
            hostIP: init.hostIP,
            ...(init.secondaryHostIP === undefined
              ? {}
              : { hostIPs: ipList(init.hostIP, init.secondaryHostIP) }),
          }),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

/** status.podIPs / hostIPs: the primary address first, then the other family's. */
function ipList(primary: string, secondary: string | undefined): { ip: string }[] {
  return [primary, ...(secondary === undefined ? [] : [secondary])].map((ip) => ({ ip }));
}

/** A core/v1 Node, including a bulky status.images like real nodes carry. */
function makeNode(init: NodeInit): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: init.name,
      uid: randomUid(),
      labels: { 'kubernetes.io/hostname': init.name, ...init.labels },
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      ...(init.unschedulable ? { unschedulable: true } : {}),
      ...(init.taints?.length ? { taints: init.taints.map((taint) => ({ ...taint })) } : {}),
    },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      ...(init.internalIP === undefined
        ? {}
        : {
            addresses: ipList(init.internalIP, init.secondaryInternalIP).map(({ ip }) => ({
              type: 'InternalIP',
              address: ip,
            })),
          }),
      images: [{ names: ['registry.example/kubenurse-ts:latest'], sizeBytes: 40_000_000 }],
    },
  };
}

function emptyTraffic(): Traffic {
  return { listRequests: 0, listBytes: 0, watchRequests: 0, watchEvents: 0, watchBytes: 0 };
}

function randomUid(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function meta(object: Json): Json {
  return object.metadata as Json;
}

function status(code: number, reason: string, message: string): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

// ---------------------------------------------------------------------------------------
// Selectors

export class SelectorError extends Error {}

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** Kubernetes label selector syntax → a predicate. Throws SelectorError on bad syntax. */
export function parseLabelSelector(
  selector: string,
): (labels: Readonly<Record<string, string>>) => boolean {
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((requirement) => requirement(labels));
}

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (depth < 0) throw new SelectorError(`unbalanced ")" in ${JSON.stringify(selector)}`);
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (depth !== 0) throw new SelectorError(`unbalanced "(" in ${JSON.stringify(selector)}`);
  parts.push(current);
  const trimmed = parts.map((part) => part.trim());
  if (trimmed.length === 1 && trimmed[0] === '') return [];
  if (trimmed.some((part) => part === ''))
    throw new SelectorError(`empty requirement in ${JSON.stringify(selector)}`);
  return trimmed;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string): string {
  if (!LABEL_KEY.test(key)) throw new SelectorError(`invalid label key ${JSON.stringify(key)}`);
  return key;
}

function checkValue(value: string): string {
  if (!LABEL_VALUE.test(value) || value.length > 63)
    throw new SelectorError(`invalid label value ${JSON.stringify(value)}`);
  return value;
}

function parseRequirement(text: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  if (set) {
    const key = checkKey(set[1] as string);
    const values = new Set((set[3] as string).split(',').map((value) => checkValue(value.trim())));
    return set[2] === 'in'
      ? (labels) => key in labels && values.has(labels[key] as string)
      : (labels) => !(key in labels) || !values.has(labels[key] as string);
  }
  const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (comparison) {
    const key = checkKey(comparison[1] as string);
    const value = checkValue(comparison[3] as string);
    return comparison[2] === '!='
      ? (labels) => labels[key] !== value
      : (labels) => labels[key] === value;
  }
  if (text.startsWith('!')) {
    const key = checkKey(text.slice(1).trim());
    return (labels) => !(key in labels);
  }
  const key = checkKey(text);
  return (labels) => key in labels;
}

/** A field's value as a field selector compares it: strings as they are, anything else as ''. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const FIELD_PATHS: Record<string, (object: Json) => string> = {
  'metadata.name': (object) => text(meta(object).name),
  'metadata.namespace': (object) => text(meta(object).namespace),
  'spec.nodeName': (object) => text((object.spec as Json | undefined)?.nodeName),
  'status.phase': (object) => text((object.status as Json | undefined)?.phase),
  // Nodes only on a real apiserver; an unset field reads as "false", as there.
  'spec.unschedulable': (object) =>
    String((object.spec as Json | undefined)?.unschedulable === true),
};

export function parseFieldSelector(selector: string): (object: Json) => boolean {
  const requirements = splitTopLevel(selector).map((text) => {
    const match = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
    const read = match ? FIELD_PATHS[match[1] as string] : undefined;
    if (!match || !read)
      throw new SelectorError(`unsupported field selector ${JSON.stringify(text)}`);
    const value = match[3] as string;
    return match[2] === '!='
      ? (object: Json) => read(object) !== value
      : (object: Json) => read(object) === value;
  });
  return (object) => requirements.every((requirement) => requirement(object));
}

// ---------------------------------------------------------------------------------------

export class FakeApiServer {
  readonly host: string;
  readonly caCert: string;
  /** Path of the CA certificate in PEM, for KUBENURSE_EXTRA_CA or curl --cacert. */
  readonly caCertPath: string;
  /** Every request (newest last, at most 10,000), for assertions such as "no list per round". */
  readonly requests: RequestRecord[] = [];

  private readonly server: Server;
  private readonly historyLimit: number;
  private readonly allowAnonymousVersion: boolean;
  private boundPort: number;
  private tokens: Set<string>;
  private currentToken: string;
  /** Tokens of addToken(): accepted whatever setToken() does. */
  private readonly extraTokens = new Set<string>();
  private readonly serviceAccountDirs = new Set<string>();
  private readonly objects: Record<Kind, Map<string, Json>> = { pods: new Map(), nodes: new Map() };
  private readonly watchers = new Set<Watcher>();
  private readonly hanging = new Set<ServerResponse>();
  private history: HistoryEntry[] = [];
  /** Watches from a resourceVersion below this answer 410 Gone. */
  private compactedRv = 0;
  private rv = 1;
  private failure: { status: number; scope: FaultScope } | undefined;
  private hangScope: FaultScope | undefined;
  private nextWatchExpiry: 'event' | 'status' | undefined;
  private listening = false;
  private readonly denied = new Set<Kind>();
  private readonly overrides = new Map<string, OverrideHandler>();
  private readonly trafficByToken = new Map<string, Traffic>();

  private constructor(
    options: FakeApiServerOptions,
    tls: { cert: string; key: string; caCert: string; caCertPath: string },
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port ?? 0;
    this.currentToken = options.token ?? randomBytes(24).toString('base64url');
    this.tokens = new Set([this.currentToken]);
    this.historyLimit = options.historyLimit ?? 1000;
    this.allowAnonymousVersion = options.allowAnonymousVersion ?? false;
    this.caCert = tls.caCert;
    this.caCertPath = tls.caCertPath;
    this.server = createServer({ cert: tls.cert, key: tls.key }, (request, response) =>
      this.handle(request, response),
    );
    // Watches are long-lived; keep-alive sockets must not hold close() up.
    this.server.keepAliveTimeout = 1000;
    if (options.bookmarkIntervalMs !== undefined) {
      // Unref'd: it never keeps a process alive, and it survives close()/listen().
      setInterval(() => this.sendBookmarks(), options.bookmarkIntervalMs).unref();
    }
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    let tls: { cert: string; key: string; caCert: string; caCertPath: string };
    if (options.tls) {
      const dir = mkdtempSync(join(tmpdir(), 'fake-apiserver-'));
      const caCertPath = join(dir, 'ca.crt');
      writeFileSync(caCertPath, options.tls.caCert);
      tls = { ...options.tls, caCertPath };
    } else {
      const ca = createTestCa('fake-apiserver CA');
      const host = options.host ?? '127.0.0.1';
      const issued = ca.issue('apiserver', [
        host,
        'localhost',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ]);
      tls = { cert: issued.cert, key: issued.key, caCert: ca.caCert, caCertPath: ca.caCertPath };
    }
    const api = new FakeApiServer(options, tls);
    await api.listen();
    return api;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `https://${urlHost(this.host)}:${this.boundPort}`;
  }

  /** The token currently written to service-account dirs and kubeconfigs. */
  get token(): string {
    return this.currentToken;
  }

  // --- lifecycle ---------------------------------------------------------------------------

  /** Starts listening (again, on the same port after close()). */
  async listen(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.boundPort, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  /** Stops listening and cuts every connection, watches included: the apiserver is down. */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    for (const watcher of this.watchers) watcher.response.destroy();
    this.watchers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // --- credentials -------------------------------------------------------------------------

  /**
   * Accepts `token` from now on and writes it into every service-account dir made by
   * writeServiceAccountDir (a rotation). With keepPrevious the old tokens stay valid, as
   * bound tokens do until they expire.
   */
  setToken(token: string, { keepPrevious = false }: { keepPrevious?: boolean } = {}): void {
    if (!keepPrevious) this.tokens = new Set();
    this.tokens.add(token);
    this.currentToken = token;
    for (const dir of this.serviceAccountDirs) writeFileSync(join(dir, 'token'), token);
  }

  /**
   * A directory like /var/run/secrets/kubernetes.io/serviceaccount: token, ca.crt, namespace.
   * With `ownToken`, that token is accepted too and written there (traffic(ownToken) then
   * counts that client alone).
   */
  writeServiceAccountDir(namespace = 'kube-system', dir?: string, ownToken?: string): string {
    const target = dir ?? mkdtempSync(join(tmpdir(), 'fake-serviceaccount-'));
    mkdirSync(target, { recursive: true });
    // Real token files have no trailing newline; client-node sends the file content as is.
    if (ownToken !== undefined) this.addToken(ownToken);
    writeFileSync(join(target, 'token'), ownToken ?? this.token);
    writeFileSync(join(target, 'ca.crt'), this.caCert);
    writeFileSync(join(target, 'namespace'), namespace);
    // A dir with its own token keeps it across setToken() (its traffic stays attributable).
    if (ownToken === undefined) this.serviceAccountDirs.add(target);
    return target;
  }

  /** The variables a prober in a pod would see, pointing at this server and `serviceAccountDir`. */
  inClusterEnv(serviceAccountDir: string): Record<string, string> {
    return {
      KUBERNETES_SERVICE_HOST: this.host,
      KUBERNETES_SERVICE_PORT: String(this.boundPort),
      KUBENURSE_SERVICE_ACCOUNT_DIR: serviceAccountDir,
    };
  }

  /** A kubeconfig (JSON, which is valid YAML) with this server, its CA and the current token. */
  writeKubeconfig(path?: string, namespace = 'kube-system'): string {
    const target = path ?? join(mkdtempSync(join(tmpdir(), 'fake-kubeconfig-')), 'kubeconfig');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'fake',
          cluster: {
            server: this.url,
            'certificate-authority-data': Buffer.from(this.caCert).toString('base64'),
          },
        },
      ],
      users: [{ name: 'fake', user: { token: this.token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
      'current-context': 'fake',
    };
    writeFileSync(target, JSON.stringify(config, null, 2));
    return target;
  }

  // --- objects -----------------------------------------------------------------------------

  addNode(init: NodeInit | Json): Json {
    const object = 'metadata' in init ? clone(init) : makeNode(init as NodeInit);
    return this.put('nodes', object, 'ADDED');
  }

  updateNode(name: string, mutate: (node: Json) => void): Json {
    const object = clone(this.require('nodes', name));
    mutate(object);
    return this.put('nodes', object, 'MODIFIED');
  }

  deleteNode(name: string): void {
    this.remove('nodes', name);
  }

  /** kubectl cordon (and uncordon with `on` false): spec.unschedulable plus the matching taint. */
  cordon(name: string, on = true): Json {
    return this.updateNode(name, (node) => {
      const spec = (node.spec ??= {}) as Json;
      const taints = ((spec.taints as Json[] | undefined) ?? []).filter(
        (taint) => taint.key !== 'node.kubernetes.io/unschedulable',
      );
      if (on) {
        spec.unschedulable = true;
        taints.push({
          key: 'node.kubernetes.io/unschedulable',
          effect: 'NoSchedule',
          timeAdded: new Date().toISOString(),
        });
      } else delete spec.unschedulable;
      if (taints.length) spec.taints = taints;
      else delete spec.taints;
    });
  }

  taint(name: string, key: string, effect = 'NoSchedule', value?: string): Json {
    return this.updateNode(name, (node) => {
      const spec = (node.spec ??= {}) as Json;
      const taints = ((spec.taints as Json[] | undefined) ?? []).filter(
        (taint) => taint.key !== key,
      );
      taints.push({ key, effect, ...(value === undefined ? {} : { value }) });
      spec.taints = taints;
    });
  }

  untaint(name: string, key: string): Json {
    return this.updateNode(name, (node) => {
      const spec = (node.spec ??= {}) as Json;
      const taints = ((spec.taints as Json[] | undefined) ?? []).filter(
        (taint) => taint.key !== key,
      );
      if (taints.length) spec.taints = taints;
      else delete spec.taints;
    });
  }

  /** Graceful node deletion in progress (finalizers): deletionTimestamp set, node still listed. */
  markNodeDeleting(name: string): Json {
    return this.updateNode(
      name,
      (node) => void (meta(node).deletionTimestamp = new Date().toISOString()),
    );
  }

  addPod(init: PodInit | Json): Json {
    const object = 'metadata' in init ? clone(init) : makePod(init as PodInit);
    if (typeof meta(object).namespace !== 'string') meta(object).namespace = 'kube-system';
    return this.put('pods', object, 'ADDED');
  }

  updatePod(namespace: string, name: string, mutate: (pod: Json) => void): Json {
    const object = clone(this.require('pods', `${namespace}/${name}`));
    mutate(object);
    return this.put('pods', object, 'MODIFIED');
  }

  /** Graceful pod deletion started: deletionTimestamp set, pod still listed (Terminating). */
  terminatePod(namespace: string, name: string): Json {
    return this.updatePod(
      namespace,
      name,
      (pod) => void (meta(pod).deletionTimestamp = new Date().toISOString()),
    );
  }

  deletePod(namespace: string, name: string): void {
    this.remove('pods', `${namespace}/${name}`);
  }

  pods(): Json[] {
    return [...this.objects.pods.values()].map(clone);
  }

  nodes(): Json[] {
    return [...this.objects.nodes.values()].map(clone);
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  // --- faults ------------------------------------------------------------------------------

  /** Ends every open watch stream cleanly (as an apiserver restart or watch timeout does). */
  dropWatches({ abrupt = false }: { abrupt?: boolean } = {}): void {
    for (const watcher of this.watchers) {
      if (abrupt) watcher.response.destroy();
      else watcher.response.end();
    }
    this.watchers.clear();
  }

  /**
   * The next watch request answers 410 Gone: as an ERROR event in a 200 stream (what a real
   * apiserver sends for an expired resourceVersion), or as an HTTP 410 status.
   */
  expireNextWatch(as: 'event' | 'status' = 'event'): void {
    this.nextWatchExpiry = as;
  }

  /** Forgets the event history: every watch resuming from an older resourceVersion gets 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Answers `statusCode` to every request (or only to /version) until heal(). */
  fail(statusCode = 500, scope: FaultScope = 'all'): void {
    this.failure = { status: statusCode, scope };
  }

  /** Accepts requests (or only /version) but never answers them, until heal() or close(). */
  hang(scope: FaultScope = 'all'): void {
    this.hangScope = scope;
  }

  /** Ends fail() and hang(); requests left hanging are cut. */
  heal(): void {
    this.failure = undefined;
    this.hangScope = undefined;
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
  }

  /** Sends a BOOKMARK to every watch that asked for them (allowWatchBookmarks=true). */
  sendBookmarks(): void {
    for (const watcher of this.watchers) {
      if (watcher.bookmarks)
        this.writeEvent(watcher, 'BOOKMARK', {
          kind: watcher.kind === 'pods' ? 'Pod' : 'Node',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.rv) },
        });
    }
  }

  /** Open watch streams, optionally of one kind. */
  watchCount(kind?: Kind): number {
    return [...this.watchers].filter((watcher) => kind === undefined || watcher.kind === kind)
      .length;
  }

  /** Open watches with their query (fieldSelector, labelSelector, ...), optionally of one kind. */
  watchQueries(kind?: Kind): Readonly<Record<string, string>>[] {
    return [...this.watchers]
      .filter((watcher) => kind === undefined || watcher.kind === kind)
      .map((watcher) => watcher.query);
  }

  /** Answers 403 Forbidden to every request for `kind` (RBAC without the grant) until allow(). */
  deny(kind: Kind): void {
    this.denied.add(kind);
    for (const watcher of this.watchers) if (watcher.kind === kind) watcher.response.end();
  }

  allow(kind: Kind): void {
    this.denied.delete(kind);
  }

  /**
   * The next list or watch request for `kind` is answered by `handler` (status, headers and
   * body are the handler's): hostile or broken apiservers, and proxies in between.
   */
  overrideNext(request: 'list' | 'watch', kind: Kind, handler: OverrideHandler): void {
    this.overrides.set(`${request} ${kind}`, handler);
  }

  /** What was sent to the client presenting `token` (zeros if it never came). */
  traffic(token: string): Traffic {
    return { ...(this.trafficByToken.get(token) ?? emptyTraffic()) };
  }

  /** Zeroes every counter (open watches keep counting into them). */
  resetTraffic(): void {
    for (const traffic of this.trafficByToken.values()) Object.assign(traffic, emptyTraffic());
  }

  /** One more accepted token (e.g. one per simulated prober), without rewriting any file. */
  addToken(token: string): void {
    this.extraTokens.add(token);
  }

  /** `token` is answered 401 from now on (expired, or its service account deleted). */
  revokeToken(token: string): void {
    this.extraTokens.delete(token);
    this.tokens.delete(token);
  }

  // --- internals ---------------------------------------------------------------------------

  private trafficOf(token: string | undefined): Traffic | undefined {
    if (token === undefined) return undefined;
    let traffic = this.trafficByToken.get(token);
    if (!traffic) {
      traffic = emptyTraffic();
      this.trafficByToken.set(token, traffic);
    }
    return traffic;
  }

  private key(kind: Kind, object: Json): string {
    return kind === 'pods'
      ? `${meta(object).namespace as string}/${meta(object).name as string}`
      : (meta(object).name as string);
  }

  private require(kind: Kind, key: string): Json {
    const object = this.objects[kind].get(key);
    if (!object) throw new Error(`fake apiserver: no ${kind.slice(0, -1)} ${key}`);
    return object;
  }

  private put(kind: Kind, object: Json, type: 'ADDED' | 'MODIFIED'): Json {
    const key = this.key(kind, object);
    const before = this.objects[kind].get(key);
    if (type === 'ADDED' && before)
      throw new Error(`fake apiserver: ${kind.slice(0, -1)} ${key} already exists`);
    if (type === 'MODIFIED' && !before)
      throw new Error(`fake apiserver: no ${kind.slice(0, -1)} ${key}`);
    this.rv++;
    meta(object).resourceVersion = String(this.rv);
    this.objects[kind].set(key, object);
    this.record({ rv: this.rv, kind, before, after: object });
    return clone(object);
  }

  private remove(kind: Kind, key: string): void {
    const before = this.require(kind, key);
    this.objects[kind].delete(key);
    this.rv++;
    this.record({ rv: this.rv, kind, before, after: undefined });
  }

  private record(entry: HistoryEntry): void {
    this.history.push(entry);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.shift() as HistoryEntry;
      this.compactedRv = dropped.rv;
    }
    for (const watcher of this.watchers)
      if (watcher.kind === entry.kind) this.deliver(watcher, entry);
  }

  private visible(watcher: Watcher, object: Json | undefined): boolean {
    if (!object) return false;
    if (watcher.namespace !== undefined && meta(object).namespace !== watcher.namespace)
      return false;
    return watcher.matches(object);
  }

  /** One history entry as a watcher with its selectors sees it. */
  private deliver(watcher: Watcher, entry: HistoryEntry): void {
    const was = this.visible(watcher, entry.before);
    if (!entry.after) {
      if (was && entry.before) {
        // A deleted object's last state, at the deletion's resourceVersion.
        const last = clone(entry.before);
        meta(last).resourceVersion = String(entry.rv);
        this.writeEvent(watcher, 'DELETED', last);
      }
      return;
    }
    const is = this.visible(watcher, entry.after);
    const type: EventType | undefined =
      was && is ? 'MODIFIED' : is ? 'ADDED' : was ? 'DELETED' : undefined;
    if (type) this.writeEvent(watcher, type, entry.after);
  }

  private writeEvent(watcher: Watcher, type: string, object: Json): void {
    if (watcher.response.writableEnded || watcher.response.destroyed) return;
    const line = `${JSON.stringify({ type, object })}\n`;
    if (watcher.traffic) {
      watcher.traffic.watchEvents++;
      watcher.traffic.watchBytes += Buffer.byteLength(line);
    }
    watcher.response.write(line);
  }

  private authorised(
    request: IncomingMessage,
    path: string,
  ): { ok: boolean; token: string | undefined } {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (token !== undefined)
      return { ok: this.tokens.has(token) || this.extraTokens.has(token), token };
    return { ok: this.allowAnonymousVersion && path === '/version', token };
  }

  private log(entry: Omit<RequestRecord, 'at'>): void {
    const record: RequestRecord = { ...entry, at: Date.now() };
    this.requests.push(record);
    if (this.requests.length > MAX_REQUEST_LOG)
      this.requests.splice(0, this.requests.length - MAX_REQUEST_LOG);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'https://fake');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const query = Object.fromEntries(url.searchParams);
    const watch = query.watch === 'true' || query.watch === '1';
    const { ok, token } = this.authorised(request, path);
    const send = (code: number, body: Json) => {
      this.log({ method: request.method ?? 'GET', path, query, watch, token, status: code });
      const text = JSON.stringify(body);
      const traffic = ok ? this.trafficOf(token) : undefined;
      if (traffic && !watch && path !== '/version') {
        traffic.listRequests++;
        traffic.listBytes += Buffer.byteLength(text);
      }
      response.writeHead(code, { 'content-type': 'application/json' });
      response.end(text);
    };

    const inScope = (scope: FaultScope) => scope === 'all' || path === '/version';
    if (this.hangScope && inScope(this.hangScope)) {
      this.log({ method: request.method ?? 'GET', path, query, watch, token, status: 0 });
      this.hanging.add(response);
      response.on('close', () => this.hanging.delete(response));
      return;
    }
    if (this.failure && inScope(this.failure.scope))
      return send(
        this.failure.status,
        status(this.failure.status, 'InternalError', 'injected failure'),
      );
    if (!ok) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (request.method !== 'GET')
      return send(405, status(405, 'MethodNotAllowed', 'the fake apiserver only serves GET'));
    if (path === '/version') {
      return send(200, {
        major: '1',
        minor: '34',
        gitVersion: 'v1.34.0-fake',
        gitCommit: 'fake',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.25',
        compiler: 'gc',
        platform: 'linux/amd64',
      });
    }

    const route = this.route(path);
    if (!route)
      return send(
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${path})`),
      );
    if (this.denied.has(route.kind))
      return send(
        403,
        status(
          403,
          'Forbidden',
          `${route.kind} is forbidden: User "system:serviceaccount:fake" cannot ` +
            `${watch ? 'watch' : 'list'} resource "${route.kind}" in API group "" at the cluster scope`,
        ),
      );
    const override = this.overrides.get(`${watch ? 'watch' : 'list'} ${route.kind}`);
    if (override && route.name === undefined) {
      this.overrides.delete(`${watch ? 'watch' : 'list'} ${route.kind}`);
      this.log({ method: 'GET', path, query, watch, token, status: 0 });
      override(response, request);
      return;
    }
    if (route.name !== undefined) {
      const object = this.objects[route.kind].get(
        route.kind === 'pods' ? `${route.namespace}/${route.name}` : route.name,
      );
      if (!object || watch)
        return send(
          404,
          status(404, 'NotFound', `${route.kind.slice(0, -1)} "${route.name}" not found`),
        );
      return send(200, object);
    }

    let matches: (object: Json) => boolean;
    try {
      const labels = parseLabelSelector(query.labelSelector ?? '');
      const fields = parseFieldSelector(query.fieldSelector ?? '');
      matches = (object) =>
        labels((meta(object).labels as Record<string, string> | undefined) ?? {}) && fields(object);
    } catch (error) {
      if (error instanceof SelectorError)
        return send(
          400,
          status(400, 'BadRequest', `unable to parse requirement: ${error.message}`),
        );
      throw error;
    }

    if (!watch) {
      const requested = Number(query.resourceVersion || '0');
      if (!Number.isFinite(requested) || requested > this.rv)
        return send(
          504,
          status(
            504,
            'Timeout',
            `Too large resource version: ${query.resourceVersion}, current: ${this.rv}`,
          ),
        );
      const all = [...this.objects[route.kind].entries()]
        .filter(
          ([, object]) =>
            (route.namespace === undefined || meta(object).namespace === route.namespace) &&
            matches(object),
        )
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      // Pagination as the apiserver does it: the continue token names the list's
      // resourceVersion and the last key sent; one older than the history is 410 Expired.
      let listRv = this.rv;
      let after: string | undefined;
      if (query.continue) {
        let token: { rv?: unknown; after?: unknown };
        try {
          token = JSON.parse(Buffer.from(query.continue, 'base64url').toString('utf8')) as {
            rv?: unknown;
            after?: unknown;
          };
        } catch {
          token = {};
        }
        if (typeof token.rv !== 'number' || typeof token.after !== 'string')
          return send(400, status(400, 'BadRequest', 'invalid continue token'));
        if (token.rv < this.compactedRv)
          return send(
            410,
            status(
              410,
              'Expired',
              'The provided continue parameter is too old to display a consistent list result. ' +
                'You can start a new list without the continue parameter.',
            ),
          );
        listRv = token.rv;
        after = token.after;
      }
      const remaining = after === undefined ? all : all.filter(([key]) => key > after);
      const limit = Number(query.limit);
      const page = Number.isInteger(limit) && limit > 0 ? remaining.slice(0, limit) : remaining;
      const more = page.length < remaining.length;
      const listMeta: Json = { resourceVersion: String(listRv) };
      if (more) {
        const last = page[page.length - 1] as [string, Json];
        listMeta.continue = Buffer.from(JSON.stringify({ rv: listRv, after: last[0] })).toString(
          'base64url',
        );
        listMeta.remainingItemCount = remaining.length - page.length;
      }
      return send(200, {
        kind: route.kind === 'pods' ? 'PodList' : 'NodeList',
        apiVersion: 'v1',
        metadata: listMeta,
        items: page.map(([, object]) => object),
      });
    }

    if (this.nextWatchExpiry === 'status') {
      this.nextWatchExpiry = undefined;
      return send(410, status(410, 'Expired', 'too old resource version (injected)'));
    }
    this.log({ method: 'GET', path, query, watch, token, status: 200 });
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    const traffic = this.trafficOf(token);
    if (traffic) traffic.watchRequests++;
    const watcher: Watcher = {
      kind: route.kind,
      query,
      traffic,
      namespace: route.namespace,
      matches,
      bookmarks: query.allowWatchBookmarks === 'true',
      response,
    };
    const from = query.resourceVersion;
    const injected = this.nextWatchExpiry === 'event';
    if (injected) this.nextWatchExpiry = undefined;
    if (
      injected ||
      (from !== undefined && from !== '' && from !== '0' && !(Number(from) >= this.compactedRv))
    ) {
      this.writeEvent(
        watcher,
        'ERROR',
        status(410, 'Expired', `too old resource version: ${from ?? ''} (${this.compactedRv})`),
      );
      response.end();
      return;
    }
    if (from === undefined || from === '' || from === '0') {
      // No resourceVersion: start "now", with the current state as ADDED events.
      for (const object of this.objects[route.kind].values())
        if (this.visible(watcher, object)) this.writeEvent(watcher, 'ADDED', object);
    } else {
      for (const entry of this.history)
        if (entry.kind === route.kind && entry.rv > Number(from)) this.deliver(watcher, entry);
    }
    this.watchers.add(watcher);
    const timeoutSeconds = Number(query.timeoutSeconds);
    const timer =
      Number.isFinite(timeoutSeconds) && timeoutSeconds > 0
        ? setTimeout(() => response.end(), timeoutSeconds * 1000)
        : undefined;
    timer?.unref();
    response.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
    });
  }

  private route(path: string): { kind: Kind; namespace?: string; name?: string } | undefined {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
    const rest = parts.slice(2);
    if (rest[0] === 'nodes' && rest.length <= 2)
      return rest.length === 2 ? { kind: 'nodes', name: rest[1] as string } : { kind: 'nodes' };
    if (rest[0] === 'pods' && rest.length === 1) return { kind: 'pods' };
    if (rest[0] === 'namespaces' && rest[2] === 'pods' && rest.length >= 3 && rest.length <= 4) {
      const namespace = rest[1] as string;
      return rest.length === 4
        ? { kind: 'pods', namespace, name: rest[3] as string }
        : { kind: 'pods', namespace };
    }
    return undefined;
  }
}
