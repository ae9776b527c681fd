// The CONNECT handshake with an HTTP proxy, bounded in size; the caller owns the deadline.
import type { Socket } from 'node:net';

/** A proxy's answer to CONNECT is a status line and a few headers; anything bigger is not one. */
const MAX_RESPONSE_BYTES = 16 * 1024;

class ProxyTunnelError extends Error {
  readonly code = 'ERR_PROXY_TUNNEL';
}

export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** Sends CONNECT authority and resolves once the proxy answered 2xx; the socket is then the tunnel. */
export function openTunnel(
  socket: Socket,
  authority: string,
  authorization: string | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onError = (error: Error) => fail(error);
    const onClose = () =>
      fail(new ProxyTunnelError(`proxy closed the connection during CONNECT ${authority}`));
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (received.length > MAX_RESPONSE_BYTES)
          fail(
            new ProxyTunnelError(
              `proxy answer to CONNECT ${authority} exceeds ${MAX_RESPONSE_BYTES} bytes`,
            ),
          );
        return;
      }
      cleanup();
      const statusLine = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
      if (status === undefined || !status.startsWith('2')) {
        reject(
          new ProxyTunnelError(
            `proxy refused CONNECT ${authority}: ${statusLine.slice(0, 100) || 'no status line'}`,
          ),
        );
        return;
      }
      const rest = received.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    const headers = [
      `CONNECT ${authority} HTTP/1.1`,
      `Host: ${authority}`,
      ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
      '',
      '',
    ];
    socket.write(headers.join('\r\n'));
  });
}
