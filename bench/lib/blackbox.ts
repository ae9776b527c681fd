// Prometheus' blackbox_exporter as the reference prober: installed from Debian, started on a
// bench loopback address with its http_2xx module, and asked /probe?target=…&module=http_2xx.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, freePort, startChild, waitFor, type Child } from './children.ts';
import { installDebianPackages } from '../../scripts/preflight/apt.ts';
import { findCommand } from '../../scripts/preflight/components.ts';

const BLACKBOX_BINARY = '/usr/bin/prometheus-blackbox-exporter';
const BLACKBOX_PACKAGE = 'prometheus-blackbox-exporter';
export const BLACKBOX_PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export type BlackboxPhase = (typeof BLACKBOX_PHASES)[number];

// http_2xx as in blackbox's example config, pinned to IPv4. Go's client is created per probe,
// so every probe opens a fresh connection, like ours with KUBENURSE_REUSE_CONNECTIONS unset.
const CONFIG = `modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`;

export interface BlackboxProbe {
  readonly success: boolean;
  readonly statusCode: number | undefined;
  /** probe_duration_seconds: the whole probe as blackbox times it. */
  readonly durationSeconds: number;
  /** probe_http_duration_seconds{phase}. */
  readonly phases: Readonly<Record<BlackboxPhase, number>>;
}

/** Parses the text a /probe request answers. Throws when the essential samples are missing. */
export function parseBlackboxProbe(text: string): BlackboxProbe {
  const phases: Record<BlackboxPhase, number> = {
    resolve: 0,
    connect: 0,
    tls: 0,
    processing: 0,
    transfer: 0,
  };
  let duration: number | undefined;
  let success: number | undefined;
  let statusCode: number | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, labels = '', valueText] = match;
    const value = Number(valueText);
    if (name === 'probe_duration_seconds') duration = value;
    else if (name === 'probe_success') success = value;
    else if (name === 'probe_http_status_code') statusCode = value;
    else if (name === 'probe_http_duration_seconds') {
      const phase = /phase="([^"]*)"/.exec(labels)?.[1];
      if (phase !== undefined && (BLACKBOX_PHASES as readonly string[]).includes(phase))
        phases[phase as BlackboxPhase] = value;
    }
  }
  if (duration === undefined || success === undefined)
    throw new Error('blackbox /probe answer has no probe_duration_seconds or probe_success');
  return { success: success === 1, statusCode, durationSeconds: duration, phases };
}

/**
 * Makes sure the Debian package is installed: as root it is installed with apt-get, the way
 * npm test's preflight installs the suites' packages (its service kept stopped); otherwise the
 * error says how. Returns the binary's path.
 */
export function ensureBlackbox(
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): string {
  if (existsSync(BLACKBOX_BINARY)) return BLACKBOX_BINARY;
  const aptGet = findCommand('apt-get');
  if (process.getuid?.() !== 0 || aptGet === undefined) {
    throw new Error(
      `${BLACKBOX_BINARY} is missing; install it with: sudo apt-get install -y ${BLACKBOX_PACKAGE} (then re-run npm run bench)`,
    );
  }
  log(`installing ${BLACKBOX_PACKAGE} with apt-get (running as root)`);
  installDebianPackages(aptGet, [BLACKBOX_PACKAGE]);
  if (!existsSync(BLACKBOX_BINARY))
    throw new Error(
      `apt-get installed ${BLACKBOX_PACKAGE} but ${BLACKBOX_BINARY} is still missing`,
    );
  return BLACKBOX_BINARY;
}

export interface RunningBlackbox {
  readonly child: Child;
  readonly baseUrl: string;
  /** One probe of `target` through /probe; timed by blackbox itself. */
  probe(target: string): Promise<BlackboxProbe>;
  stop(): Promise<void>;
}

export async function startBlackbox(host: string): Promise<RunningBlackbox> {
  const binary = ensureBlackbox();
  const dir = mkdtempSync(join(tmpdir(), 'bench-blackbox-'));
  const configFile = join(dir, 'blackbox.yml');
  writeFileSync(configFile, CONFIG);
  const port = await freePort(host);
  const child = startChild(
    binary,
    [`--config.file=${configFile}`, `--web.listen-address=${host}:${port}`, '--log.level=warn'],
    { name: 'blackbox_exporter' },
  );
  const baseUrl = `http://${host}:${port}`;
  try {
    await waitFor(`blackbox_exporter on ${baseUrl}`, () => answers(`${baseUrl}/metrics`));
  } catch (error) {
    await child.stop();
    throw new Error(`${String(error)}\nblackbox output:\n${child.output()}`, { cause: error });
  }
  return {
    child,
    baseUrl,
    async probe(target) {
      const response = await fetch(
        `${baseUrl}/probe?module=http_2xx&target=${encodeURIComponent(target)}`,
        { signal: AbortSignal.timeout(10_000) },
      );
      return parseBlackboxProbe(await response.text());
    },
    stop: () => child.stop(),
  };
}
