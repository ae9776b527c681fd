// A slow node: incoming connections to the prober port are redirected here (iptables REDIRECT
// in the node's namespace) and forwarded to the prober after a fixed delay. The kernel has no
// netem; this delays every request by at least `delayMs`, exactly, with no test hook in the
// prober. Arguments: listen port, upstream host, upstream port, delay in ms.
import { connect, createServer } from 'node:net';
import { serveRpc } from '../rpc.ts';

const [listenPort, upstreamHost, upstreamPort, delayMs] = process.argv.slice(2);
if (!listenPort || !upstreamHost || !upstreamPort || !delayMs)
  throw new Error('usage: delay-relay.ts <listen port> <upstream host> <upstream port> <delay ms>');

const server = createServer((client) => {
  client.pause();
  const upstream = connect(Number(upstreamPort), upstreamHost);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', () => upstream.destroy());
  // pipe() ends the client once the prober's answer is flushed to it; destroying the client when
  // the prober closes would cut an answer still in flight (a /metrics body larger than a buffer).
  upstream.on('close', () => {
    if (!upstream.readableEnded) client.destroy();
  });
  // The request reaches the prober `delayMs` after it was sent: the answer comes that much later.
  setTimeout(() => {
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }, Number(delayMs));
});
await new Promise<void>((resolve) => server.listen(Number(listenPort), '0.0.0.0', resolve));
serveRpc({ ping: () => 'listening' }, () => process.exit(0));
