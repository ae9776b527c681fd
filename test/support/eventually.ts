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

/**
 * Reads until `accept` holds and returns that value. A read that throws (e.g. /alive's 500
 * before the first round ends) counts as not accepted yet; at the deadline the last failure
 * is thrown.
 */
export async function readUntil<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
  pollMs = 200,
): Promise<T> {
  let accepted: { value: T } | undefined;
  await eventually(
    async () => {
      const value = await read();
      if (!accept(value))
        throw new Error(`condition not met; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
      accepted = { value };
    },
    timeoutMs,
    pollMs,
  );
  return (accepted as { value: T }).value;
}
