// The one list of system programs the test suites run, each with the Debian package that
// provides it. `npm test` starts with scripts/preflight.ts, which checks and installs from this
// list; the suites take their binaries' paths and their "missing" messages from here too, so a
// new tool is added in one place.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** Where Debian installs programs; independent of the caller's PATH (a user's lacks /usr/sbin). */
export const SYSTEM_SEARCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type Suite = 'integration' | 'deploy' | 'e2e' | 'browser';

export interface SystemComponent {
  readonly command: string;
  readonly debianPackage: string;
  /** What needs it, for the messages. */
  readonly usedBy: string;
  /** The suites (test/<suite>) that run it. */
  readonly suites: readonly Suite[];
}

export const SYSTEM_COMPONENTS = [
  {
    command: 'openssl',
    debianPackage: 'openssl',
    usedBy: 'throw-away test CAs',
    suites: ['integration', 'e2e', 'browser'],
  },
  {
    command: 'promtool',
    debianPackage: 'prometheus',
    usedBy: 'rule, dashboard and metrics checks',
    suites: ['integration', 'deploy'],
  },
  { command: 'prometheus', debianPackage: 'prometheus', usedBy: 'e2e scrapes', suites: ['e2e'] },
  { command: 'ip', debianPackage: 'iproute2', usedBy: 'network namespaces', suites: ['e2e'] },
  { command: 'iptables', debianPackage: 'iptables', usedBy: 'Service rules', suites: ['e2e'] },
  { command: 'iptables-save', debianPackage: 'iptables', usedBy: 'Service rules', suites: ['e2e'] },
  {
    command: 'iptables-restore',
    debianPackage: 'iptables',
    usedBy: 'Service rules and faults',
    suites: ['e2e'],
  },
  { command: 'dnsmasq', debianPackage: 'dnsmasq-base', usedBy: 'cluster DNS', suites: ['e2e'] },
  { command: 'nginx', debianPackage: 'nginx', usedBy: 'ingress controller', suites: ['e2e'] },
  { command: 'unshare', debianPackage: 'util-linux', usedBy: 'pod hostnames', suites: ['e2e'] },
  { command: 'hostname', debianPackage: 'hostname', usedBy: 'pod hostnames', suites: ['e2e'] },
  {
    command: 'chromium',
    debianPackage: 'chromium',
    usedBy: 'the status page in a browser',
    suites: ['browser'],
  },
] as const satisfies readonly SystemComponent[];

export type CommandName = (typeof SYSTEM_COMPONENTS)[number]['command'];

/** Absolute path of an executable `command` in `searchPath`, or undefined. */
export function findCommand(
  command: string,
  searchPath: string = SYSTEM_SEARCH_PATH,
): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function componentsOf(suite: Suite): SystemComponent[] {
  return SYSTEM_COMPONENTS.filter((component) =>
    (component.suites as readonly Suite[]).includes(suite),
  );
}

export function missingComponents(
  searchPath: string = SYSTEM_SEARCH_PATH,
  components: readonly SystemComponent[] = SYSTEM_COMPONENTS,
): SystemComponent[] {
  return components.filter((component) => findCommand(component.command, searchPath) === undefined);
}

/** The packages providing `components`, each once, in the list's order. */
export function debianPackages(components: readonly SystemComponent[]): string[] {
  return [...new Set(components.map((component) => component.debianPackage))];
}

function componentNamed(command: CommandName): SystemComponent {
  const component = SYSTEM_COMPONENTS.find((candidate) => candidate.command === command);
  if (component === undefined) throw new Error(`${command} is not in SYSTEM_COMPONENTS`);
  return component;
}

function missingCommandMessage(command: CommandName): string {
  const { debianPackage, usedBy } = componentNamed(command);
  return (
    `${command} (${usedBy}) is not installed: it comes with the Debian package ${debianPackage}, ` +
    `which npm test installs when run as root (or: sudo apt-get install ${debianPackage})`
  );
}

/** The absolute path of a listed program; a missing one fails with what to install (never a skip). */
export function requireCommand(command: CommandName): string {
  const path = findCommand(command);
  if (path === undefined) throw new Error(missingCommandMessage(command));
  return path;
}
