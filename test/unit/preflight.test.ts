// npm test's preflight: what it decides for each kind of machine, the package list it derives,
// and the policy-rc.d guard that keeps apt from starting services.
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SYSTEM_COMPONENTS,
  debianPackages,
  findCommand,
  missingComponents,
  type SystemComponent,
} from '../../scripts/preflight/components.ts';
import { aptGetInstallArgs, withServicesKeptStopped } from '../../scripts/preflight/apt.ts';
import { planPreflight, type Machine, type Plan } from '../../scripts/preflight/plan.ts';

const ROOT_WITH_APT: Machine = { platform: 'linux', uid: 0, aptGet: '/usr/bin/apt-get' };

function named(...commands: string[]): SystemComponent[] {
  return commands.map((command) => {
    const component = SYSTEM_COMPONENTS.find((candidate) => candidate.command === command);
    if (component === undefined) throw new Error(`${command} is not listed`);
    return component;
  });
}

function stopMessage(plan: Plan): string {
  if (plan.action !== 'stop') throw new Error(`expected a stop, got ${plan.action}`);
  expect(plan.message).not.toContain('\n');
  return plan.message;
}

describe('the component list', () => {
  it('gives each command one package, and each package once in the install list', () => {
    const commands = SYSTEM_COMPONENTS.map((component) => component.command);
    expect(new Set(commands).size).toBe(commands.length);
    expect(debianPackages(named('prometheus', 'promtool', 'iptables', 'iptables-save'))).toEqual([
      'prometheus',
      'iptables',
    ]);
  });

  it('finds a command only as an executable in the searched directories', () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-path-'));
    writeFileSync(join(dir, 'promtool'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'chromium'), 'not executable\n', { mode: 0o644 });
    expect(findCommand('promtool', `/nonexistent:${dir}`)).toBe(join(dir, 'promtool'));
    expect(findCommand('chromium', dir)).toBeUndefined();
    const missing = missingComponents(dir).map((component) => component.command);
    expect(missing).toContain('chromium');
    expect(missing).not.toContain('promtool');
    expect(missing).toHaveLength(SYSTEM_COMPONENTS.length - 1);
  });
});

describe('planPreflight', () => {
  it('runs the suites when nothing is missing and it is root', () => {
    expect(planPreflight([], ROOT_WITH_APT)).toEqual({ action: 'run' });
  });

  it('as root with apt-get, installs exactly the packages of the missing commands and says so', () => {
    const plan = planPreflight(
      named('promtool', 'prometheus', 'dnsmasq', 'chromium'),
      ROOT_WITH_APT,
    );
    expect(plan).toMatchObject({
      action: 'install',
      packages: ['prometheus', 'dnsmasq-base', 'chromium'],
      aptGet: '/usr/bin/apt-get',
    });
    if (plan.action !== 'install') throw new Error('expected an install plan');
    expect(plan.announcement).not.toContain('\n');
    expect(plan.announcement).toContain('prometheus dnsmasq-base chromium');
    expect(plan.announcement).toContain('promtool, prometheus, dnsmasq, chromium');
  });

  it('not root: one line naming the packages, the apt-get command and sudo npm test', () => {
    const message = stopMessage(
      planPreflight(named('promtool', 'nginx'), { ...ROOT_WITH_APT, uid: 1000 }),
    );
    expect(message).toContain('missing promtool, nginx');
    expect(message).toContain('sudo apt-get install -y --no-install-recommends prometheus nginx');
    expect(message).toContain('sudo npm test');
  });

  it('not root with everything installed: stops, since the end-to-end suite needs root', () => {
    const message = stopMessage(planPreflight([], { ...ROOT_WITH_APT, uid: 1000 }));
    expect(message).toMatch(/must run as root/);
  });

  it('root without apt-get: stops with the Debian package names', () => {
    const message = stopMessage(
      planPreflight(named('chromium'), { ...ROOT_WITH_APT, aptGet: undefined }),
    );
    expect(message).toMatch(/missing chromium and there is no apt-get.*packages chromium/);
  });

  it('not Linux: stops whatever is installed', () => {
    const message = stopMessage(planPreflight([], { ...ROOT_WITH_APT, platform: 'darwin' }));
    expect(message).toMatch(/need Linux/);
  });
});

describe('apt-get', () => {
  it('installs unattended, without recommends, and never upgrades what is installed', () => {
    const args = aptGetInstallArgs(['prometheus', 'chromium']);
    expect(args).toEqual(expect.arrayContaining(['-y', '--no-install-recommends', '--no-upgrade']));
    expect(args.slice(-3)).toEqual(['install', 'prometheus', 'chromium']);
  });
});

describe('withServicesKeptStopped', () => {
  function policyPath(): string {
    return join(mkdtempSync(join(tmpdir(), 'preflight-policy-')), 'policy-rc.d');
  }

  it('forbids service starts while the action runs and leaves no policy when there was none', () => {
    const path = policyPath();
    const during = withServicesKeptStopped(() => {
      expect(statSync(path).mode & 0o777).toBe(0o755);
      return readFileSync(path, 'utf8');
    }, path);
    expect(during).toMatch(/^#!\/bin\/sh\n[^]*exit 101\n$/);
    expect(existsSync(path)).toBe(false);
  });

  it("puts the machine's own policy back, content and mode, also when the action throws", () => {
    const path = policyPath();
    writeFileSync(path, '#!/bin/sh\nexit 0\n');
    chmodSync(path, 0o700);
    expect(() =>
      withServicesKeptStopped(() => {
        expect(readFileSync(path, 'utf8')).toContain('exit 101');
        throw new Error('apt failed');
      }, path),
    ).toThrow('apt failed');
    expect(readFileSync(path, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(existsSync(`${path}.kubenurse-preflight-saved`)).toBe(false);
  });

  it('recovers the policy a killed run left aside', () => {
    const path = policyPath();
    writeFileSync(`${path}.kubenurse-preflight-saved`, 'machine policy\n');
    writeFileSync(path, '#!/bin/sh\nexit 101\n');
    withServicesKeptStopped(() => undefined, path);
    expect(readFileSync(path, 'utf8')).toBe('machine policy\n');
    expect(existsSync(`${path}.kubenurse-preflight-saved`)).toBe(false);
  });
});
