// What held when the prober was attacked over HTTP, kept as regression tests: oversized
// headers are refused and pipelined requests are answered in order on one connection
// (the origin flood is held by test/unit/incoming.test.ts). Loopback 127.0.9.20.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';
import { eventually } from '../support/eventually.ts';

const HOST = '127.0.9.20';
const PORT = 18094;
let prober: ProberProcess;

beforeAll(async () => {
  prober = startProber({
    ...QUIET_PROBER_ENV,
    KUBENURSE_BIND_ADDRESS: HOST,
    KUBENURSE_PORT: String(PORT),
  });
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
});

/** Sends raw bytes on a fresh connection and collects everything until the server closes or `until` holds. */
async function exchange(bytes: string, until: (text: string) => boolean): Promise<string> {
  const socket: Socket = connect(PORT, HOST);
  await once(socket, 'connect');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  socket.write(bytes);
  await eventually(() =>
    expect(until(text) || socket.destroyed || socket.readableEnded).toBe(true),
  );
  socket.destroy();
  return text;
}

describe('hostile HTTP clients', () => {
  it('refuses a request whose headers exceed the limit (431), and keeps serving', async () => {
    const huge = `GET /alwayshappy HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    const answer = await exchange(huge, (text) => text.includes('\r\n\r\n'));
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect((await fetch(`${prober.baseUrl}/alwayshappy`)).status).toBe(200);
  });

  it('answers 100 pipelined requests on one connection, in order', async () => {
    const requests = Array.from(
      { length: 100 },
      (_, i) => `GET /alwayshappy?i=${i} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ).join('');
    const answer = await exchange(
      requests,
      (text) => (text.match(/HTTP\/1\.1 200 /g) ?? []).length >= 100,
    );
    expect((answer.match(/HTTP\/1\.1 200 /g) ?? []).length).toBe(100);
  });
});
