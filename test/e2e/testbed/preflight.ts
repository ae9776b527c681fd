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

function onPath(binary: string): boolean {
  return SYSTEM_PATH.split(':').some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function preflightProblems(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`Linux is required (network namespaces), this is ${process.platform}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push(`root is required (ip netns, iptables), running as uid ${process.getuid()}: run with sudo or as root in CI`);
  }
  const missing = TOOLS.filter((tool) => !onPath(tool.binary));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
    problems.push(`missing tools: ${missing.map((tool) => tool.binary).join(', ')} (apt-get install ${packages.join(' ')})`);
  }
  if (!existsSync(NODE_BINARY)) problems.push(`${NODE_BINARY} is missing: run npm ci`);
  return problems;
}

export function assertPreflight(): void {
  const problems = preflightProblems();
  if (problems.length > 0) {
    throw new Error(`The end-to-end suite cannot run on this machine:\n  - ${problems.join('\n  - ')}\n(see docs/e2e.md)`);
  }
}
