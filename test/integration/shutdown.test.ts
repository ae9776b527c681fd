// SIGTERM with clients that hold connections open without a complete request: after the
// drain window (KUBENURSE_SHUTDOWN_DURATION) the prober closes them and exits 0, instead of
// waiting for Node's request timeouts while the kubelet's grace period runs out.
// Loopback 127.0.9.10 belongs to this file.
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa } from '../../dev/fakes/pki.ts';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';

const HOST = '127.0.9.10';
const HTTP_PORT = 18091;
const TLS_PORT = 18492;
const SHUTDOWN_MS = 1000;
/** Generous, for a loaded machine: without the fix the process lived 46–61 s past SIGTERM. */
const EXIT_DEADLINE_MS = SHUTDOWN_MS + 1000 + 8000;

let prober: ProberProcess;
let ca: ReturnType<typeof createTestCa>;

beforeAll(async () => {
  ca = createTestCa();
  const issued = ca.issue('kubenurse', [HOST]);
  prober = startProber({
    ...QUIET_PROBER_ENV,
    KUBENURSE_BIND_ADDRESS: HOST,
    KUBENURSE_PORT: String(HTTP_PORT),
    KUBENURSE_TLS_PORT: String(TLS_PORT),
    KUBENURSE_USE_TLS: 'true',
    KUBENURSE_CERT_FILE: issued.certPath,
    KUBENURSE_CERT_KEY: issued.keyPath,
    KUBENURSE_SHUTDOWN_DURATION: `${SHUTDOWN_MS}ms`,
  });
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
});

async function tcp(port: number): Promise<Socket> {
  const socket = connectTcp(port, HOST);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

describe('shutdown with connections that never complete a request', () => {
  it('closes them after the drain window and exits 0', async () => {
    const held: Socket[] = [];
    held.push(await tcp(HTTP_PORT)); // zero bytes
    const half = await tcp(HTTP_PORT);
    half.write('GET /alive HTTP/1.1\r\nHost: kubenurse\r\nX-Slow: '); // half a request
    held.push(half);
    held.push(await tcp(TLS_PORT)); // TCP only, no TLS handshake
    const tls = connectTls({ host: HOST, port: TLS_PORT, ca: ca.caCert });
    tls.on('error', () => undefined);
    await once(tls, 'secureConnect'); // handshake done, no request
    held.push(tls);
    const closedByServer = held.map((socket) => once(socket, 'close'));

    prober.child.kill('SIGTERM');
    const exit = await Promise.race([
      prober.exited,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve('still running'), EXIT_DEADLINE_MS).unref(),
      ),
    ]);
    expect(exit).toBe(0);
    // The server closed every one of them: the test never did.
    await Promise.all(closedByServer);
    expect(prober.output()).toContain('"msg":"stopped"');
  });
});
