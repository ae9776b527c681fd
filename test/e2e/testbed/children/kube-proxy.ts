// The project's fake kube-proxy (dev/fakes/fake-kube-proxy.ts) on a node: metrics on
// <node IP>:10249, healthz on <node IP>:10256, as kube-proxy with metricsBindAddress 0.0.0.0.
// Argument: the node IP.
import { startFakeKubeProxy } from '../../../../dev/fakes/fake-kube-proxy.ts';
import { serveRpc } from '../rpc.ts';

const host = process.argv[2];
if (!host) throw new Error('usage: kube-proxy.ts <node IP>');
const proxy = await startFakeKubeProxy({ host, metricsPort: 10249, healthzPort: 10256 });

serveRpc(
  {
    ping: () => ({ metricsUrl: proxy.metricsUrl, healthzUrl: proxy.healthzUrl }),
    /** The sync loop is stuck since `stuckForSeconds` ago while changes keep being queued. */
    hangSync: (params) => {
      const stuckFor = Number(params.stuckForSeconds ?? 0);
      proxy.setSync({ lastTimestamp: Date.now() / 1000 - stuckFor });
      proxy.hangSync();
    },
    sync: () => proxy.sync(),
  },
  () => {
    void proxy.stop().finally(() => process.exit(0));
  },
);
