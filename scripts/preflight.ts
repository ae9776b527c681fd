// First step of `npm test`: makes sure every system program the suites run is there before any
// suite starts. As root with apt-get it installs what is missing (one line says so); otherwise
// it stops at once with one message naming the packages and the command that installs them.
// Exit 0: ready; 1: stopped.
import { findCommand, missingComponents, type SystemComponent } from './preflight/components.ts';
import { installDebianPackages } from './preflight/apt.ts';
import { planPreflight } from './preflight/plan.ts';
import { errorMessage } from '../src/error-text.ts';

const PREFIX = 'npm test preflight:';

function stop(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function describe(components: readonly SystemComponent[]): string {
  return components
    .map((component) => `${component.command} (${component.debianPackage})`)
    .join(', ');
}

const plan = planPreflight(missingComponents(), {
  platform: process.platform,
  uid: process.getuid?.(),
  aptGet: findCommand('apt-get'),
});

if (plan.action === 'stop') stop(plan.message);

if (plan.action === 'install') {
  process.stderr.write(`${plan.announcement}\n`);
  // Ctrl-C reaches apt-get too; waiting for it lets the policy-rc.d guard restore the machine.
  let signal: NodeJS.Signals | undefined;
  const remember = (received: NodeJS.Signals): void => {
    signal = received;
  };
  process.on('SIGINT', remember).on('SIGTERM', remember);
  try {
    installDebianPackages(plan.aptGet, plan.packages);
  } catch (error) {
    stop(`${PREFIX} ${errorMessage(error)}`);
  }
  if (signal !== undefined) stop(`${PREFIX} interrupted by ${signal}`);
  const stillMissing = missingComponents();
  if (stillMissing.length > 0) {
    stop(
      `${PREFIX} apt-get installed ${plan.packages.join(' ')} but these are still missing: ${describe(stillMissing)}`,
    );
  }
}
