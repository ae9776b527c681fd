// The Service VIP and the Ingress of the demo.
//
// Service: a TCP round robin over the ready pod IPs, which is what kube-proxy's DNAT rules do
// for a ClusterIP (per connection, no HTTP awareness). Stopping it makes the VIP refuse
// connections.
// Ingress: an HTTP reverse proxy to the Service that, like examples/ingress.yaml, routes only
// the exact path /alwayshappy (so /metrics and /alive are not published); when the Service is
// down it answers 502, as nginx does.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { forward } from './forward.ts';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { Restartable, type Endpoint } from './restartable.ts';

export class ServiceProxy extends Restartable {
  protected readonly server: TcpServer;
  private readonly ready = new Set<string>();
  private next = 0;

  constructor(at: Endpoint, endpoints: readonly Endpoint[]) {
    super(at);
    const key = (endpoint: Endpoint): string => `${endpoint.host}:${endpoint.port}`;
    this.server = createTcpServer((client) => {
      // Like an EndpointSlice: only pods that pass their readiness probe receive traffic.
      const candidates = endpoints.filter((endpoint) => this.ready.has(key(endpoint)));
      if (candidates.length === 0) {
        // kube-proxy rejects connections to a Service without ready endpoints.
        client.resetAndDestroy();
        return;
      }
      const target = candidates[this.next++ % candidates.length] as Endpoint;
      const upstream = connect(target.port, target.host);
      client.pipe(upstream).pipe(client);
      const closeBoth = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', closeBoth);
      upstream.on('error', closeBoth);
      client.on('close', closeBoth);
      upstream.on('close', closeBoth);
    });
    this.track();
  }

  /** What the demo's "kubelet" found when it probed the pod's /ready. */
  setReady(endpoint: Endpoint, ready: boolean): void {
    const key = `${endpoint.host}:${endpoint.port}`;
    if (ready) this.ready.add(key);
    else this.ready.delete(key);
  }
}

const INGRESS_PATH = '/alwayshappy';

export class IngressProxy extends Restartable {
  protected readonly server: HttpServer;

  constructor(at: Endpoint, service: Endpoint) {
    super(at);
    this.server = createHttpServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== INGRESS_PATH) {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('404 Not Found (the ingress only routes /alwayshappy)\n');
        return;
      }
      forward(req, res, service, {
        headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' },
        failure: (error) =>
          `502 Bad Gateway: service ${service.host}:${service.port}: ${error.message}\n`,
      });
    });
    this.track();
  }
}
