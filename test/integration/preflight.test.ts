// npm test's preflight on this very machine, with some of its programs made to look missing:
// each run happens in a private mount namespace where those binaries are covered by an empty,
// non-executable file, so nothing is uninstalled and nothing outside the namespace changes.
// Needs root (mount namespaces), as the end-to-end suite does; fails loudly otherwise.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SYSTEM_COMPONENTS,
  SYSTEM_SEARCH_PATH,
  debianPackages,
  findCommand,
} from '../../scripts/preflight/components.ts';
import { POLICY_RC_D, aptGetInstallArgs } from '../../scripts/preflight/apt.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOBODY = 65534;

// Covers each path given before `--` with the empty file, then runs the rest.
const HIDE_THEN_EXEC =
  'empty=$1; shift; while [ "$1" != -- ]; do mount --bind "$empty" "$1" || exit 97; shift; done; shift; exec "$@"';

let emptyFile: string;
let npmHome: string;

beforeAll(() => {
  if (process.getuid?.() !== 0)
    throw new Error('the preflight tests need root (they hide programs in a mount namespace)');
  const dir = mkdtempSync(join(tmpdir(), 'preflight-test-'));
  emptyFile = join(dir, 'hidden');
  writeFileSync(emptyFile, '', { mode: 0o644 });
  // npm, run as nobody, writes its cache and logs here.
  npmHome = join(dir, 'home');
  mkdirSync(npmHome);
  chmodSync(npmHome, 0o777);
});

interface HiddenRun {
  readonly hide: readonly string[];
  readonly uid?: number;
  readonly command: readonly string[];
}

function runWithHidden({ hide, uid, command }: HiddenRun): SpawnSyncReturns<string> {
  const paths = hide.map((name) => {
    const path = findCommand(name);
    if (path === undefined) throw new Error(`${name} must be installed to be hidden`);
    return realpathSync(path);
  });
  const asUser =
    uid === undefined
      ? []
      : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
  const result = spawnSync(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      HIDE_THEN_EXEC,
      'sh',
      emptyFile,
      ...paths,
      '--',
      ...asUser,
      ...command,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
      env: {
        PATH: SYSTEM_SEARCH_PATH,
        HOME: npmHome,
        npm_config_cache: join(npmHome, 'npm-cache'),
        npm_config_update_notifier: 'false',
      },
    },
  );
  if (result.error) throw result.error;
  // The namespace itself must have worked, or the run tells nothing about the preflight.
  if (result.status === 97 || /^unshare: /m.test(result.stderr))
    throw new Error(`could not hide ${hide.join(', ')}: ${result.stderr}`);
  return result;
}

const PREFLIGHT = [process.execPath, join(ROOT, 'scripts', 'preflight.ts')];

function preflightLines(output: string): string[] {
  return output.split('\n').filter((line) => line.startsWith('npm test preflight:'));
}

function policyState(): string | undefined {
  return existsSync(POLICY_RC_D) ? readFileSync(POLICY_RC_D, 'utf8') : undefined;
}

describe('npm test preflight', () => {
  it('as a user without the packages, npm test stops before any suite with one message', () => {
    const result = runWithHidden({
      hide: ['promtool', 'chromium', 'dnsmasq'],
      uid: NOBODY,
      command: ['npm', 'test'],
    });
    expect(result.status).not.toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    const lines = preflightLines(output);
    expect(lines, output).toHaveLength(1);
    expect(lines[0]).toContain('missing promtool, dnsmasq, chromium');
    expect(lines[0]).toContain(
      'sudo apt-get install -y --no-install-recommends prometheus dnsmasq-base chromium',
    );
    // Neither the type check nor vitest ran.
    expect(output).not.toMatch(/error TS\d|RUN\s+v\d|Test Files/);
  });

  it('as a user with everything installed, stops: the end-to-end suite needs root', () => {
    const result = runWithHidden({ hide: [], uid: NOBODY, command: PREFLIGHT });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(preflightLines(result.stderr)).toEqual([result.stderr.trimEnd()]);
    expect(result.stderr).toMatch(/must run as root/);
  });

  it('as root without apt-get, stops with the packages to install', () => {
    const before = policyState();
    const result = runWithHidden({ hide: ['promtool', 'apt-get'], command: PREFLIGHT });
    expect(result.status).toBe(1);
    expect(preflightLines(result.stderr)).toEqual([result.stderr.trimEnd()]);
    expect(result.stderr).toMatch(/missing promtool and there is no apt-get.*packages prometheus/);
    expect(policyState()).toEqual(before);
  });

  it('as root with apt-get, runs the real install of the missing packages, then checks again', () => {
    // prometheus is installed, so apt-get (with --no-upgrade) changes nothing; promtool stays
    // hidden, which the re-check after the install must notice.
    const before = policyState();
    const result = runWithHidden({ hide: ['promtool'], command: PREFLIGHT });
    expect(result.status, result.stderr).toBe(1);
    const lines = preflightLines(result.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/installing the Debian packages prometheus for promtool/);
    expect(lines[1]).toBe(
      'npm test preflight: apt-get installed prometheus but these are still missing: promtool (prometheus)',
    );
    expect(policyState()).toEqual(before);
    expect(existsSync(`${POLICY_RC_D}.kubenurse-preflight-saved`)).toBe(false);
  });

  it('passes on this machine, which has everything', () => {
    const result = spawnSync(PREFLIGHT[0] as string, PREFLIGHT.slice(1), { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it("apt-get knows every listed package under the install command's options", () => {
    const apt = findCommand('apt-get');
    if (apt === undefined) throw new Error('apt-get is missing');
    const packages = debianPackages(SYSTEM_COMPONENTS);
    const result = spawnSync(apt, ['-s', ...aptGetInstallArgs(packages)], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    });
    expect(result.status, result.stderr).toBe(0);
    for (const name of packages) expect(result.stdout).toContain(name);
  });
});
