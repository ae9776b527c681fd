// Discovery outside a cluster: a kubeconfig file, with everything client-node's KubeConfig
// supports (exec plugins, OIDC, client certificates, proxies). Only imported dynamically by
// connection.ts when KUBECONFIG is set, so the bundle keeps it (and the generated API it
// imports) in a chunk that in-cluster probers never load.
// Public API only (the package index re-exports RequestContext and HttpMethod): a minor
// release of client-node cannot move these without breaking its own documented API.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { ApiConnection, RequestAuth } from './connection.ts';

export function kubeconfigConnection(path: string): ApiConnection {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig ${path} has no current cluster`);
  const server = cluster.server.replace(/\/+$/, '');
  return {
    server,
    async authenticate(): Promise<RequestAuth> {
      const context = new RequestContext(server, HttpMethod.GET);
      await kubeConfig.applySecurityAuthentication(context);
      // client-node builds a new dispatcher (TLS options, proxy) for every request; none
      // for a plain http:// server, which then goes through undici's global dispatcher.
      const dispatcher = context.getDispatcher();
      return {
        headers: context.getHeaders(),
        dispatcher,
        release: () => void dispatcher?.close().catch(() => undefined),
      };
    },
    close: async () => undefined,
  };
}
