// Our prober as the process that ships: the production bundle (scripts/bundle.mjs →
// main.js), built fresh from this tree into a temporary directory, started with a clean
// environment of KUBENURSE_* variables only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, freePort, NODE, startChild, waitFor, type Child } from './children.ts';
import { PROJECT_ROOT } from './report.ts';
import { QUIET_PROBER_ENV } from '../../dev/process/prober-process.ts';

let bundled: string | undefined;

/** Builds the production bundle once per benchmark process; returns the path of main.js. */
function buildBundle(): string {
  if (bundled && existsSync(bundled)) return bundled;
  const outdir = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  execFileSync(NODE, ['scripts/bundle.mjs', '--outdir', outdir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  bundled = join(outdir, 'main.js');
  if (!existsSync(bundled)) throw new Error(`scripts/bundle.mjs did not produce ${bundled}`);
  return bundled;
}

export interface ProberProcess {
  readonly child: Child;
  readonly pid: number;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

export interface ProberProcessOptions {
  readonly host: string;
  /** 0 or undefined: a free port. */
  readonly port?: number;
  /** KUBENURSE_* (and KUBERNETES_*, KUBECONFIG) variables on top of the bench defaults. */
  readonly env: Readonly<Record<string, string>>;
  /** Run src/main.ts through type stripping instead of the bundle. */
  readonly fromSource?: boolean;
  /** Node flags before the script, e.g. the image's (bench/lib/image-runtime.ts). */
  readonly nodeFlags?: readonly string[];
  /** Start the prober inside this cgroup (its cgroup.procs file), before it runs a line. */
  readonly cgroupProcs?: string;
  /** Another node binary than this process's (e.g. a private copy: bench/lib/cgroup.ts). */
  readonly nodeBinary?: string;
}

/** Nothing external: no apiserver, no kube-proxy, no neighbours unless `env` turns them on. */
const QUIET_DEFAULTS: Readonly<Record<string, string>> = {
  ...QUIET_PROBER_ENV,
  KUBENURSE_LOG_LEVEL: 'warn',
};

export async function startProber(options: ProberProcessOptions): Promise<ProberProcess> {
  const port = options.port || (await freePort(options.host));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    ...QUIET_DEFAULTS,
    KUBENURSE_BIND_ADDRESS: options.host,
    KUBENURSE_PORT: String(port),
    KUBENURSE_POD_NAME: `bench-${options.host}`,
    ...options.env,
  };
  const entry = options.fromSource ? join(PROJECT_ROOT, 'src/main.ts') : buildBundle();
  const node = options.nodeBinary ?? NODE;
  const argv = [...(options.nodeFlags ?? []), entry];
  // The shell joins the cgroup, then becomes node: every page node touches is charged there.
  const child =
    options.cgroupProcs === undefined
      ? startChild(node, argv, { env, cwd: PROJECT_ROOT, name: 'prober' })
      : startChild(
          '/bin/sh',
          ['-c', 'echo $$ > "$0" && exec "$@"', options.cgroupProcs, node, ...argv],
          { env, cwd: PROJECT_ROOT, name: 'prober' },
        );
  const baseUrl = `http://${options.host}:${port}`;
  try {
    await waitFor(`prober on ${baseUrl}/ready`, () => answers(`${baseUrl}/ready`, 200), 30_000);
  } catch (error) {
    await child.stop();
    throw new Error(`${String(error)}\nprober output:\n${child.output()}`, { cause: error });
  }
  return { child, pid: child.pid, baseUrl, stop: () => child.stop() };
}
