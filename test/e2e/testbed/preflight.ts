// Can this machine run the testbed? One message listing everything missing, so the suite
// fails with a fix instead of a cryptic error half-way through (and never skips silently).
import { existsSync } from 'node:fs';
import {
  componentsOf,
  debianPackages,
  missingComponents,
} from '../../../scripts/preflight/components.ts';
import { NODE_BINARY, SYSTEM_PATH } from './helpers.ts';

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
  const missing = missingComponents(machine.path, componentsOf('e2e'));
  if (missing.length > 0) {
    problems.push(
      `missing tools: ${missing.map((tool) => tool.command).join(', ')} (apt-get install ${debianPackages(missing).join(' ')}; npm test installs them when run as root)`,
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
