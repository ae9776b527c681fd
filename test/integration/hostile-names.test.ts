// Names that collide with object internals (`__proto__`, `constructor`, `toString`), as check
// names from the environment and as request header names, through the real prober process.
// Loopback 127.0.9.1–127.0.9.2 belong to this file.
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';

const PROBER_HOST = '127.0.9.1';
const TARGET_HOST = '127.0.9.2';
const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

let target: Server;
let prober: ProberProcess;

beforeAll(async () => {
  target = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => target.listen(0, TARGET_HOST, resolve));
  const url = `http://${TARGET_HOST}:${(target.address() as AddressInfo).port}/`;
  prober = startProber({
    ...QUIET_PROBER_ENV,
    KUBENURSE_BIND_ADDRESS: PROBER_HOST,
    KUBENURSE_PORT: '18090',
    KUBENURSE_NODE_NAME: 'node-a',
    KUBENURSE_CHECK_INTERVAL: '1s',
    KUBENURSE_CACHE_TTL: '500ms',
    KUBENURSE_EXTRA_CHECKS: NAMES.map((name) => `${name}:${url}`).join('|'),
  });
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
  target?.close();
});

async function json(path: string, headers: string[] = []): Promise<unknown> {
  // node:http sends header names as given (fetch would not send `__proto__`).
  const { statusCode, body } = await new Promise<{ statusCode: number; body: string }>(
    (resolve, reject) => {
      const host = new URL(prober.baseUrl).host;
      const raw = ['host', host, ...headers];
      const request = get(`${prober.baseUrl}${path}`, { headers: raw }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, body: text }));
      });
      request.on('error', reject);
    },
  );
  expect(statusCode).toBe(200);
  return JSON.parse(body) as unknown;
}

describe('check names that are object internals', () => {
  it('are in /alive as ordinary results', async () => {
    await eventually(async () => {
      const alive = (await json('/alive')) as { last_check_result: Record<string, unknown> };
      for (const name of NAMES) {
        expect(Object.hasOwn(alive.last_check_result, name), name).toBe(true);
        expect(alive.last_check_result[name]).toBe('ok');
      }
    });
  });

  it('are rows of the matrix (/status.json) and series of /metrics', async () => {
    const status = (await json('/status.json')) as {
      checks: { type: string; status: string }[];
      cluster: { rows: { source: string; checks: Record<string, { status: string }> }[] };
    };
    const self = status.cluster.rows.find((row) => row.source === 'self');
    for (const name of NAMES) {
      expect(status.checks.find((check) => check.type === name)?.status, name).toBe('ok');
      expect(Object.hasOwn(self?.checks ?? {}, name), name).toBe(true);
      expect(self?.checks[name]?.status).toBe('ok');
    }
    const metrics = await (await fetch(`${prober.baseUrl}/metrics`)).text();
    for (const name of NAMES)
      expect(metrics).toContain(
        `kubenurse_httpclient_request_duration_seconds_count{type="${name}"}`,
      );
  });

  it('a request header named __proto__ is echoed in /alive like any other', async () => {
    const alive = (await json('/alive', ['__proto__', 'x', 'constructor', 'y'])) as {
      headers: Record<string, string[]>;
    };
    expect(Object.hasOwn(alive.headers, '__proto__')).toBe(true);
    expect(alive.headers['__proto__']).toEqual(['x']);
    expect(alive.headers.Constructor).toEqual(['y']);
  });
});
