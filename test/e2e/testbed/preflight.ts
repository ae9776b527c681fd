// Can this machine run the testbed? One message listing everything missing, so the suite
// fails with a fix instead of a cryptic error half-way through (and never skips silently).
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_BINARY, SYSTEM_PATH } from './helpers.ts';

const TOOLS: readonly { binary: string; debianPackage: string }[] = [
  { binary: 'ip', debianPackage: 'iproute2' },
  { binary: 'tc', debianPackage: 'iproute2' },
  { binary: 'iptables', debianPackage: 'iptables' },
  { binary: 'iptables-restore', debianPackage: 'iptables' },
  { binary: 'iptables-save', debianPackage: 'iptables' },
  { binary: 'dnsmasq', debianPackage: 'dnsmasq-base' },
  { binary: 'nginx', debianPackage: 'nginx' },
  { binary: 'prometheus', debianPackage: 'prometheus' },
  { binary: 'openssl', debianPackage: 'openssl' },
  { binary: 'unshare', debianPackage: 'util-linux' },
  { binary: 'hostname', debianPackage: 'hostname' },
];

function onPath(binary: string, path: string): boolean {
  return path.split(':').some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface Machine {
  readonly platform: string;
  readonly uid: number | undefined;
  readonly path: string;
  readonly nodeBinary: string;
}

const THIS_MACHINE: Machine = {
  platform: process.platform,
  uid: process.getuid?.(),
  path: SYSTEM_PATH,
  nodeBinary: NODE_BINARY,
};

export function preflightProblems(machine: Machine = THIS_MACHINE): string[] {
  const problems: string[] = [];
  if (machine.platform !== 'linux')
    problems.push(`Linux is required (network namespaces), this is ${machine.platform}`);
  if (machine.uid !== undefined && machine.uid !== 0) {
    problems.push(
      `root is required (ip netns, iptables), running as uid ${machine.uid}: run with sudo or as root in CI`,
    );
  }
  const missing = TOOLS.filter((tool) => !onPath(tool.binary, machine.path));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
    problems.push(
      `missing tools: ${missing.map((tool) => tool.binary).join(', ')} (apt-get install ${packages.join(' ')})`,
    );
  }
  if (!existsSync(machine.nodeBinary))
    problems.push(`${machine.nodeBinary} is missing: run npm ci`);
  return problems;
}

export function assertPreflight(): void {
  const problems = preflightProblems();
  if (problems.length > 0) {
    throw new Error(
      `The end-to-end suite cannot run on this machine:\n  - ${problems.join('\n  - ')}\n(see docs/e2e.md)`,
    );
  }
}
