// A neighbour as the layer checks see it, inside its node's network namespace: its prober's
// /alwayshappy on the pod addresses (:8080) and kube-proxy's /healthz on the node addresses
// (:10256). Usage: target.ts <pod addresses,comma separated> <node addresses,comma separated>
import { createServer } from 'node:http';

const [pods = '', nodes = ''] = process.argv.slice(2);

function serve(address: string, port: number, body: string): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
}

const healthz = JSON.stringify({ lastUpdated: new Date().toISOString(), nodeEligible: true });
await Promise.all([
  ...pods.split(',').map((address) => serve(address, 8080, '')),
  ...nodes.split(',').map((address) => serve(address, 10256, healthz)),
]);
process.stdout.write('ready\n');
