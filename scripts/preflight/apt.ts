// Installing Debian packages for the test suites, unattended and without side effects beyond
// the packages: no prompts, no upgrades of what is installed, and no system services started
// (the suites run their own nginx, dnsmasq and Prometheus inside network namespaces; a system
// nginx would also hold port 80).
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export const POLICY_RC_D = '/usr/sbin/policy-rc.d';

// invoke-rc.d and deb-systemd-invoke ask policy-rc.d before starting a service; 101 = "not allowed".
const DENY_ALL_SERVICES = `#!/bin/sh
# Written by kubenurse-ts scripts/preflight.ts while apt-get runs: no service may start.
exit 101
`;

/**
 * Runs `action` with a policy-rc.d that forbids starting services, then puts back whatever was
 * there before (nothing, or the machine's own policy, renamed aside meanwhile).
 */
export function withServicesKeptStopped<T>(action: () => T, policyPath = POLICY_RC_D): T {
  const aside = `${policyPath}.kubenurse-preflight-saved`;
  // A run killed half-way left the machine's own policy aside: put it back before starting.
  if (existsSync(aside)) renameSync(aside, policyPath);
  const hadPolicy = existsSync(policyPath);
  if (hadPolicy) renameSync(policyPath, aside);
  try {
    writeFileSync(policyPath, DENY_ALL_SERVICES, { mode: 0o755 });
    return action();
  } finally {
    rmSync(policyPath, { force: true });
    if (hadPolicy) renameSync(aside, policyPath);
  }
}

export function aptGetInstallArgs(packages: readonly string[]): string[] {
  return [
    '-y',
    '-q',
    '--no-install-recommends',
    // Packages already installed stay as they are; only what is missing is added.
    '--no-upgrade',
    // Wait for another apt (unattended-upgrades on a fresh machine) instead of failing.
    '-o',
    'DPkg::Lock::Timeout=300',
    '-o',
    'Dpkg::Options::=--force-confdef',
    '-o',
    'Dpkg::Options::=--force-confold',
    'install',
    ...packages,
  ];
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };
const APT_TIMEOUT_MS = 30 * 60_000;

interface AptRun {
  readonly ok: boolean;
  readonly output: string;
}

function aptGet(aptGetPath: string, args: readonly string[]): AptRun {
  const result = spawnSync(aptGetPath, args, {
    env: APT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: APT_TIMEOUT_MS,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${String(result.error)}` : ''}`;
  return { ok: result.status === 0, output };
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/**
 * Installs `packages`, quietly: apt's output is shown only when it fails. A fresh machine has no
 * package lists yet, so a failed install is retried once after `apt-get update`.
 */
export function installDebianPackages(aptGetPath: string, packages: readonly string[]): void {
  withServicesKeptStopped(() => {
    if (aptGet(aptGetPath, aptGetInstallArgs(packages)).ok) return;
    const update = aptGet(aptGetPath, ['-q', '-o', 'DPkg::Lock::Timeout=300', 'update']);
    const install = aptGet(aptGetPath, aptGetInstallArgs(packages));
    if (!install.ok) {
      throw new Error(
        `apt-get could not install ${packages.join(' ')}:\n${lastLines(`${update.output}\n${install.output}`, 30)}`,
      );
    }
  });
}
