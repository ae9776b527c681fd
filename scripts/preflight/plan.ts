// What the preflight does, given what is missing and who runs it: nothing, install with apt-get,
// or stop with one message. Pure, so every branch is tested without touching the machine.
import { debianPackages, type SystemComponent } from './components.ts';

export interface Machine {
  readonly platform: NodeJS.Platform;
  /** undefined where the platform has no uids. */
  readonly uid: number | undefined;
  /** Path of apt-get, or undefined when the machine has none. */
  readonly aptGet: string | undefined;
}

export type Plan =
  | { readonly action: 'run' }
  | {
      readonly action: 'install';
      readonly packages: readonly string[];
      readonly aptGet: string;
      /** The one line telling the user what is about to happen. */
      readonly announcement: string;
    }
  | { readonly action: 'stop'; readonly message: string };

const PREFIX = 'npm test preflight:';
const ROOT_REASON = 'the end-to-end suite creates network namespaces and iptables rules';

function aptInstallCommand(packages: readonly string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function describe(missing: readonly SystemComponent[]): string {
  return missing.map((component) => component.command).join(', ');
}

export function planPreflight(missing: readonly SystemComponent[], machine: Machine): Plan {
  const packages = debianPackages(missing);
  if (machine.platform !== 'linux') {
    return {
      action: 'stop',
      message: `${PREFIX} the suites need Linux (${ROOT_REASON}), this is ${machine.platform}.`,
    };
  }
  const isRoot = machine.uid === 0;
  if (missing.length === 0) {
    if (isRoot) return { action: 'run' };
    return {
      action: 'stop',
      message: `${PREFIX} npm test must run as root (${ROOT_REASON}): run sudo npm test.`,
    };
  }
  if (!isRoot) {
    return {
      action: 'stop',
      message:
        `${PREFIX} missing ${describe(missing)}, from the Debian packages ${packages.join(' ')}; ` +
        `npm test must also run as root (${ROOT_REASON}). Run sudo npm test, which installs ` +
        `them itself, or install them first: sudo ${aptInstallCommand(packages)}`,
    };
  }
  if (machine.aptGet === undefined) {
    return {
      action: 'stop',
      message:
        `${PREFIX} missing ${describe(missing)} and there is no apt-get to install them: ` +
        `install the equivalents of the Debian packages ${packages.join(' ')}, then run npm test again.`,
    };
  }
  return {
    action: 'install',
    packages,
    aptGet: machine.aptGet,
    announcement:
      `${PREFIX} installing the Debian packages ${packages.join(' ')} for ${describe(missing)} ` +
      `(${aptInstallCommand(packages)}, their services kept stopped; a minute or two)`,
  };
}
