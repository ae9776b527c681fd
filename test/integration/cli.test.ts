// `kubenurse-ts check` as a user runs it: a real process, real targets on loopback
// (127.0.0.40–127.0.0.49 belong to this file), exit codes and both output formats.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli.ts');
const servers: Server[] = [];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI with only the given variables (no inherited KUBECONFIG or KUBENURSE_*). */
function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function listen(host: string, port = 0): Promise<number> {
  const server = createServer((req, res) =>
    res.writeHead(req.url === '/alwayshappy' ? 200 : 404).end(),
  );
  servers.push(server);
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done((server.address() as AddressInfo).port));
  });
}

/** Built-in checks only, nothing from the cluster: the base of most cases. */
const LOCAL_ONLY = {
  KUBENURSE_CHECK_NEIGHBOURHOOD: 'false',
  KUBENURSE_CHECK_KUBE_PROXY: 'false',
  KUBENURSE_CHECK_TIMEOUT: '2s',
};
let happyUrl = '';

beforeAll(async () => {
  happyUrl = `http://127.0.0.40:${await listen('127.0.0.40')}`;
});

afterAll(() => {
  for (const server of servers) server.close();
});

describe('kubenurse-ts check', () => {
  it('exits 0 and prints a table when every check is ok or skipped', async () => {
    const run = await runCli(['check'], {
      ...LOCAL_ONLY,
      KUBENURSE_SERVICE_URL: happyUrl,
      KUBENURSE_INGRESS_URL: happyUrl,
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^CHECK\s+RESULT\s+TOTAL ms\s+dns\s+connect\s+tls\s+send\s+wait$/);
    expect(lines.find((line) => line.startsWith('me_service'))).toMatch(/^me_service\s+ok\s+\d/);
    expect(lines.find((line) => line.startsWith('me_ingress'))).toMatch(/^me_ingress\s+ok\s+\d/);
    expect(lines.find((line) => line.startsWith('api_server_direct'))).toMatch(/skipped/);
    expect(run.stdout).toContain('api_server_direct: KUBERNETES_SERVICE_HOST is not set');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('no failures: 2 ok, 2 skipped');
  });

  it('exits 1 when the service URL refuses connections, and names the failing phase', async () => {
    const run = await runCli(['check'], {
      ...LOCAL_ONLY,
      KUBENURSE_SERVICE_URL: 'http://127.0.0.41:1',
      KUBENURSE_INGRESS_URL: happyUrl,
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^me_service\s+FAILED connect_done/m);
    expect(run.stdout).toMatch(/^me_service: .*ECONNREFUSED/m);
    expect(run.stdout).toContain('1 of 4 checks failed');
  });

  it('exits 2 with one clear line for a bad variable, before checking anything', async () => {
    const run = await runCli(['check'], { ...LOCAL_ONLY, KUBENURSE_CHECK_INTERVAL: 'banana' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'kubenurse-ts: invalid configuration: KUBENURSE_CHECK_INTERVAL="banana": expected a Go duration such as 5s, 1m30s or 500ms',
    ]);
  });

  it('exits 2 for an unknown command or option', async () => {
    expect((await runCli(['chek'], LOCAL_ONLY)).code).toBe(2);
    expect((await runCli(['check', '--jsn'], LOCAL_ONLY)).code).toBe(2);
    expect((await runCli([], LOCAL_ONLY)).stderr).toContain('missing command');
  });

  it('--json prints one document with every check, its timings and phase breakdown', async () => {
    const run = await runCli(['check', '--json'], {
      ...LOCAL_ONLY,
      KUBENURSE_SERVICE_URL: 'http://127.0.0.41:1',
      KUBENURSE_INGRESS_URL: happyUrl,
    });
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as {
      ok: boolean;
      neighbourhood: unknown;
      checks: Record<string, unknown>[];
      startedAt: string;
    };
    expect(doc.ok).toBe(false);
    expect(doc.neighbourhood).toBeNull();
    expect(Number.isNaN(Date.parse(doc.startedAt))).toBe(false);
    expect(doc.checks.map((check) => check.type)).toEqual([
      'api_server_direct',
      'api_server_dns',
      'me_ingress',
      'me_service',
    ]);
    const ingress = doc.checks.find((check) => check.type === 'me_ingress') as Record<
      string,
      unknown
    >;
    expect(ingress).toMatchObject({ status: 'ok', event: null, message: null });
    expect(ingress.durationMs).toBeTypeOf('number');
    expect(Object.keys(ingress.phases as object)).toEqual(
      expect.arrayContaining(['connect_done', 'wrote_request', 'got_first_resp_byte']),
    );
    expect(Object.keys(ingress.phaseBreakdownMs as object)).toEqual(['connect', 'send', 'wait']);
    const service = doc.checks.find((check) => check.type === 'me_service') as Record<
      string,
      unknown
    >;
    expect(service).toMatchObject({ status: 'error', event: 'connect_done' });
    expect(service.message).toMatch(/ECONNREFUSED/);
  });

  describe('with neighbours discovered through a kubeconfig', () => {
    let api: FakeApiServer;
    let kubeconfig = '';
    let port = 0;

    beforeAll(async () => {
      api = await FakeApiServer.start({ host: '127.0.0.45' });
      kubeconfig = api.writeKubeconfig(undefined, 'kube-nurse');
      // Neighbours are probed on one port (KUBENURSE_PORT): node-a answers there, node-b does not.
      port = await listen('127.0.0.46');
      for (const [node, ip] of [
        ['node-a', '127.0.0.46'],
        ['node-b', '127.0.0.47'],
      ] as const) {
        api.addNode({ name: node });
        api.addPod({
          name: `kubenurse-${node}`,
          namespace: 'kube-nurse',
          nodeName: node,
          podIP: ip,
          hostIP: ip,
        });
      }
      api.addNode({ name: 'node-self' });
    });

    afterAll(async () => {
      await api.close();
    });

    it('checks every neighbour, reports the one that does not answer, and exits 1', async () => {
      const run = await runCli(['check'], {
        ...LOCAL_ONLY,
        KUBENURSE_CHECK_NEIGHBOURHOOD: 'true',
        KUBECONFIG: kubeconfig,
        KUBENURSE_NAMESPACE: 'kube-nurse',
        KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
        KUBENURSE_NODE_NAME: 'node-self',
        KUBENURSE_PORT: String(port),
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toMatch(/^path_node-a\s+ok\s+\d/m);
      expect(run.stdout).toMatch(/^path_node-b\s+FAILED connect_done/m);
      expect(run.stdout).toContain('neighbourhood: ok (2 neighbours found)');
    });

    it('exits 1 and says why when discovery cannot reach the apiserver', async () => {
      const run = await runCli(['check', '--json'], {
        ...LOCAL_ONLY,
        KUBENURSE_CHECK_NEIGHBOURHOOD: 'true',
        KUBECONFIG: kubeconfig.replace(/kubeconfig$/, 'missing-kubeconfig'),
        KUBENURSE_NODE_NAME: 'node-self',
      });
      expect(run.code).toBe(1);
      const doc = JSON.parse(run.stdout) as { neighbourhood: { state: string } };
      expect(doc.neighbourhood.state).not.toBe('ok');
      expect(doc.neighbourhood.state).toMatch(/neighbour discovery/);
    });
  });
});
