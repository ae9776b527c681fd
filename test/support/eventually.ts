// Waiting for a condition in tests without timing thresholds: retry until it holds, then the
// last failure is what the test reports.
import { setTimeout as sleep } from 'node:timers/promises';

/** Retries `assertion` every `pollMs` until it passes, up to `timeoutMs`; rethrows the last failure. */
export async function eventually(
  assertion: () => void | Promise<void>,
  timeoutMs = 10_000,
  pollMs = 50,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await sleep(pollMs);
    }
  }
}
