// How discovery reaches the apiserver. In a pod that is three things — the service address
// (KUBERNETES_SERVICE_HOST/PORT), the cluster CA (ca.crt) and the rotating bound token — so
// we build that connection ourselves instead of loading client-node's KubeConfig, which
// imports the whole generated API and every auth provider (tens of MiB of RSS in every
// prober of the cluster). Outside a cluster (KUBECONFIG) the full KubeConfig is loaded on
// demand from ./kubeconfig.ts, a separate chunk of the bundle that in-cluster probers never read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../config.ts';
import { urlHost } from '../url-host.ts';

/** What one request to the apiserver needs: credentials and the TLS-configured dispatcher. */
export interface RequestAuth {
  readonly headers: Record<string, string>;
  /** undefined: undici's global dispatcher (a plain http:// server from a kubeconfig). */
  readonly dispatcher: Dispatcher | undefined;
  /** Called when the request is over; frees a per-request dispatcher (kubeconfig), else nothing. */
  release(): void;
}

export interface ApiConnection {
  /** https://host:port, no trailing slash. */
  readonly server: string;
  authenticate(): Promise<RequestAuth>;
  close(): Promise<void>;
}

/**
 * The bound token is rotated by the kubelet; like client-go and client-node we re-read the
 * file once it is older than this, so a rotation is picked up without a file read per request.
 */
export const TOKEN_REFRESH_MS = 60_000;

/** The pod's own connection: service address, ca.crt and token from the service-account directory. */
export class InClusterConnection implements ApiConnection {
  readonly server: string;
  private readonly tokenFile: string;
  private readonly caFile: string;
  private token: { value: string; readAt: number } | undefined;
  /** One dispatcher for the list and the watch requests, created once ca.crt could be read. */
  private agent: Agent | undefined;

  constructor(host: string, port: number | string, serviceAccountDir: string) {
    this.server = `https://${urlHost(host)}:${port}`;
    this.tokenFile = join(serviceAccountDir, 'token');
    this.caFile = join(serviceAccountDir, 'ca.crt');
  }

  async authenticate(): Promise<RequestAuth> {
    // Both reads throw a clear error (e.g. ENOENT) that becomes the discovery state; the
    // next attempt reads again, so a secret mounted late is picked up.
    this.agent ??= new Agent({ connect: { ca: readFileSync(this.caFile, 'utf8') } });
    const now = Date.now();
    if (this.token === undefined || now - this.token.readAt >= TOKEN_REFRESH_MS) {
      this.token = { value: readFileSync(this.tokenFile, 'utf8').trim(), readAt: now };
    }
    return {
      headers: { authorization: `Bearer ${this.token.value}` },
      dispatcher: this.agent,
      release: () => undefined,
    };
  }

  async close(): Promise<void> {
    await this.agent?.close().catch(() => undefined);
    this.agent = undefined;
  }
}

/**
 * KUBECONFIG outside a cluster (dynamic import: client-node's KubeConfig and its auth
 * providers are loaded only then), else the pod's service account. Throws when neither is set.
 */
export async function connect(config: Config): Promise<ApiConnection> {
  if (config.kubeconfig !== undefined)
    return (await import('./kubeconfig.ts')).kubeconfigConnection(config.kubeconfig);
  return inCluster(config);
}

/** Synchronous, so a missing configuration is the state right after start(). */
export function inCluster(config: Config): InClusterConnection {
  if (config.apiServerHost === undefined || config.apiServerPort === undefined) {
    throw new Error(
      'no Kubernetes API configured: set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST/PORT)',
    );
  }
  return new InClusterConnection(
    config.apiServerHost,
    config.apiServerPort,
    config.serviceAccountDir,
  );
}
