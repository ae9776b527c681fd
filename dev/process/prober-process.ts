// Starts the real prober (`node src/main.ts`, Node 24 from node_modules) as a child process
// for tests and scripts, and stops it by PID. Plain Node, no vitest imports.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { urlHost } from '../../src/url-host.ts';
import { stopProcess } from './stop-process.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Node 24 as the project runs it, even when the system node is older. */
const NODE_BIN = existsSync(`${PROJECT_ROOT}node_modules/.bin/node`)
  ? `${PROJECT_ROOT}node_modules/.bin/node`
  : process.execPath;

/** A prober that reaches out to nothing: every check and discovery off, no service account. */
export const QUIET_PROBER_ENV: Readonly<Record<string, string>> = {
  KUBENURSE_CHECK_NEIGHBOURHOOD: 'false',
  KUBENURSE_CHECK_KUBE_PROXY: 'false',
  KUBENURSE_CHECK_API_SERVER_DIRECT: 'false',
  KUBENURSE_CHECK_API_SERVER_DNS: 'false',
  KUBENURSE_CHECK_ME_INGRESS: 'false',
  KUBENURSE_CHECK_ME_SERVICE: 'false',
  KUBENURSE_SHUTDOWN_DURATION: '0s',
  KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent-kubenurse-service-account',
};

export interface ProberProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  /** Everything the process printed so far (stdout and stderr, in order). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Waits until GET /alwayshappy answers, or fails after `timeoutMs`. */
  waitUntilServing(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

export function startProber(
  env: Record<string, string>,
  options: { entry?: string; host?: string; port?: number; nodeFlags?: readonly string[] } = {},
): ProberProcess {
  const entry = options.entry ?? `${PROJECT_ROOT}src/main.ts`;
  const host = options.host ?? env.KUBENURSE_BIND_ADDRESS ?? '127.0.0.1';
  const port = options.port ?? Number(env.KUBENURSE_PORT ?? 8080);
  const child = spawn(NODE_BIN, [...(options.nodeFlags ?? []), entry], {
    cwd: PROJECT_ROOT,
    // Only what the test gives, plus PATH: no inherited KUBENURSE_* or KUBERNETES_* leaks in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const baseUrl = `http://${urlHost(host)}:${port}`;
  let done = false;
  void exited.then(() => (done = true));

  return {
    child,
    baseUrl,
    output: () => text,
    exited,
    async waitUntilServing(timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (done) throw new Error(`prober exited before serving:\n${text}`);
        try {
          const response = await fetch(`${baseUrl}/alwayshappy`, {
            signal: AbortSignal.timeout(1000),
          });
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      throw new Error(`prober at ${baseUrl} did not serve within ${timeoutMs} ms:\n${text}`);
    },
    async stop(graceMs = 10_000) {
      await stopProcess(child, exited, graceMs);
      return exited;
    },
  };
}
