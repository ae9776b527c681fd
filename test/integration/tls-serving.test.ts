// KUBENURSE_USE_TLS=true: the prober also serves HTTPS on the TLS port with the given certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { createTestCa } from '../../dev/fakes/pki.ts';
import { startProber, type ProberProcess } from '../../dev/process/prober-process.ts';
import { readUntil } from '../support/eventually.ts';

const HOST = '127.0.1.30';
let prober: ProberProcess;
let ca: ReturnType<typeof createTestCa>;

beforeAll(async () => {
  ca = createTestCa();
  const issued = ca.issue('kubenurse', [HOST]);
  prober = startProber({
    KUBENURSE_BIND_ADDRESS: HOST,
    KUBENURSE_PORT: '18080',
    KUBENURSE_TLS_PORT: '18443',
    KUBENURSE_USE_TLS: 'true',
    KUBENURSE_CERT_FILE: issued.certPath,
    KUBENURSE_CERT_KEY: issued.keyPath,
    KUBENURSE_EXTRA_CA: ca.caCertPath,
    KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent',
    KUBENURSE_CHECK_NEIGHBOURHOOD: 'false',
    KUBENURSE_CHECK_KUBE_PROXY: 'false',
    // Probe our own HTTPS endpoint, verified with the extra CA.
    KUBENURSE_SERVICE_URL: `https://${HOST}:18443`,
    KUBENURSE_CHECK_INTERVAL: '1s',
    KUBENURSE_CACHE_TTL: '500ms',
  });
  await prober.waitUntilServing();
});

afterAll(async () => {
  await prober?.stop();
});

describe('TLS serving', () => {
  it('serves the same routes over HTTPS with a verifiable certificate', async () => {
    const dispatcher = new Agent({ connect: { ca: ca.caCert } });
    const response = await request(`https://${HOST}:18443/alwayshappy`, { dispatcher });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    // The first round may race the server start on a loaded machine; a later round must be ok.
    const body = await readUntil<{ last_check_result: Record<string, string> }>(
      async () => {
        const alive = await request(`https://${HOST}:18443/alive`, { dispatcher });
        // 500 (empty) until the first round has finished, as kubenurse.
        if (alive.statusCode !== 200) {
          await alive.body.dump();
          return { last_check_result: {} };
        }
        return (await alive.body.json()) as { last_check_result: Record<string, string> };
      },
      (alive) => alive.last_check_result.me_service === 'ok',
      10_000,
      500,
    );
    expect(body.last_check_result.api_server_direct).toBe('skipped');
    await dispatcher.close();
  });
});
