// Upstream: internal/kubenurse/server.go — the HTTP server's Addr is ":8080", which Go binds
// on every address family (one dual-stack socket, IPv4 only when the kernel has no IPv6), and
// /alive's remote_addr is Go's Request.RemoteAddr ("ip:port", IPv6 in brackets, IPv4 clients
// of the dual-stack socket as plain IPv4). Port 18_931 belongs to this file.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_ADDRESS, ANY_IPV4_ADDRESS, listenEveryFamily, listenOn } from '../../src/listen.ts';
import { createLogger } from '../../src/log.ts';
import { eventually } from '../support/eventually.ts';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';

const PORT = 18_931;
let prober: ProberProcess | undefined;

beforeAll(async () => {
  // No KUBENURSE_BIND_ADDRESS: the default, as upstream's manifests run it.
  prober = startProber({ ...QUIET_PROBER_ENV, KUBENURSE_PORT: String(PORT) }, { port: PORT });
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
});

async function aliveFrom(base: string): Promise<{ remote_addr: string }> {
  let body: { remote_addr: string } | undefined;
  await eventually(async () => {
    const response = await fetch(`${base}/alive`);
    expect(response.status).toBe(200);
    body = (await response.json()) as { remote_addr: string };
  });
  return body as { remote_addr: string };
}

describe('listener (server.go: Addr ":8080")', () => {
  it('answers IPv4 clients, with remote_addr as plain IPv4', async () => {
    expect((await fetch(`http://127.0.0.1:${PORT}/ready`)).status).toBe(200);
    expect((await aliveFrom(`http://127.0.0.1:${PORT}`)).remote_addr).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('answers IPv6 clients on the same port, with remote_addr as [ip]:port', async () => {
    expect((await fetch(`http://[::1]:${PORT}/ready`)).status).toBe(200);
    expect((await aliveFrom(`http://[::1]:${PORT}`)).remote_addr).toMatch(/^\[::1\]:\d+$/);
  });

  it('logs the address it listens on: every family', () => {
    expect(prober?.output()).toMatch(/"bind":"::".*"msg":"listening"/);
  });
});

describe('listener fallback without IPv6 in the kernel', () => {
  const logger = createLogger('silent');

  it('binds 0.0.0.0 when binding [::] fails with EAFNOSUPPORT, and logs it once', async () => {
    const server = createServer();
    const tried: string[] = [];
    const lines: string[] = [];
    const recording = Object.assign(Object.create(logger) as typeof logger, {
      warn: (_fields: unknown, message: string) => void lines.push(message),
    });
    const bound = await listenEveryFamily(
      server,
      0,
      undefined,
      recording,
      async (target, port, host) => {
        tried.push(host);
        if (host === ANY_ADDRESS)
          throw Object.assign(new Error(`listen EAFNOSUPPORT: ${host}`), {
            code: 'EAFNOSUPPORT',
          });
        await listenOn(target, port, '127.0.0.1');
      },
    );
    try {
      expect(tried).toEqual([ANY_ADDRESS, ANY_IPV4_ADDRESS]);
      expect(bound).toBe(ANY_IPV4_ADDRESS);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/IPv6 is not available \(EAFNOSUPPORT.*IPv4 only/);
    } finally {
      server.close();
    }
  });

  it('does not fall back when the port is taken: that error stops the start', async () => {
    const server = createServer();
    await expect(
      listenEveryFamily(server, 0, undefined, logger, () =>
        Promise.reject(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' })),
      ),
    ).rejects.toThrow(/EADDRINUSE/);
  });

  it('KUBENURSE_BIND_ADDRESS is used as given, without fallback', async () => {
    const server = createServer();
    const tried: string[] = [];
    const bound = await listenEveryFamily(server, 0, '127.0.0.1', logger, async (s, p, host) => {
      tried.push(host);
      await listenOn(s, p, host);
    });
    server.close();
    expect(bound).toBe('127.0.0.1');
    expect(tried).toEqual(['127.0.0.1']);
  });
});
