// The project's fake apiserver (dev/fakes/fake-apiserver.ts) inside the apiserver
// namespace, driven by the test over stdin/stdout. Argument: a JSON ApiServerChildConfig.
import { readFileSync } from 'node:fs';
import { FakeApiServer } from '../../../../dev/fakes/fake-apiserver.ts';
import type { FaultScope } from '../../../../dev/fakes/fake-apiserver.ts';
import { serveRpc } from '../rpc.ts';

export interface ApiServerChildConfig {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly caCertPath: string;
  readonly serviceAccountDir: string;
  readonly serviceAccountNamespace: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ApiServerChildConfig;
const api = await FakeApiServer.start({
  host: config.host,
  port: config.port,
  token: config.token,
  tls: {
    cert: readFileSync(config.certPath, 'utf8'),
    key: readFileSync(config.keyPath, 'utf8'),
    caCert: readFileSync(config.caCertPath, 'utf8'),
  },
});
api.writeServiceAccountDir(config.serviceAccountNamespace, config.serviceAccountDir);

const scope = (params: Record<string, unknown>): FaultScope =>
  params.scope === 'version' ? 'version' : 'all';

serveRpc(
  {
    ping: () => ({ url: api.url }),
    addNode: (params) => void api.addNode(params),
    addPod: (params) => void api.addPod(params),
    cordon: (params) => void api.cordon(String(params.name), params.on !== false),
    fail: (params) => api.fail(Number(params.status ?? 500), scope(params)),
    hang: (params) => api.hang(scope(params)),
    heal: () => api.heal(),
    watchCount: () => api.watchCount(),
  },
  () => {
    void api.close().finally(() => process.exit(0));
  },
);
