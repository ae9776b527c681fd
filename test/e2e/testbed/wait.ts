// Waiting "until X, up to N seconds": never a fixed sleep standing in for a condition.
import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown by a check when waiting longer cannot help (a process exited): ends the wait at once. */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns true. Anything else it returns (a string) describes what is
 * still missing and ends up in the timeout error, as does the last error it threw.
 */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<true | string>,
  pollMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const outcome = await check();
      if (outcome === true) return;
      last = outcome;
    } catch (error) {
      if (error instanceof GiveUp)
        throw new Error(`gave up waiting until ${what}: ${error.message}`, { cause: error });
      last = `error: ${(error as Error).message}`;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}; last state: ${last}`);
    await sleep(pollMs);
  }
}
