import { describe, expect, it } from 'vitest';
import { startDeadline } from '../../src/probe/deadline.ts';

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

describe('startDeadline', () => {
  it('aborts with a TimeoutError when its own timeout fires', async () => {
    const deadline = startDeadline(5);
    const reason = await aborted(deadline.signal);
    expect(deadline.timedOut).toBe(true);
    expect((reason as DOMException).name).toBe('TimeoutError');
    deadline.dispose();
  });

  it("follows the caller's signal, with its reason, and is then not a timeout", async () => {
    const outer = new AbortController();
    const deadline = startDeadline(60_000, outer.signal);
    outer.abort(new Error('shutting down'));
    const reason = await aborted(deadline.signal);
    expect(deadline.timedOut).toBe(false);
    expect((reason as Error).message).toBe('shutting down');
    deadline.dispose();
  });

  it('starts aborted when the caller has already given up', () => {
    const deadline = startDeadline(60_000, AbortSignal.abort(new Error('gone')));
    expect(deadline.signal.aborted).toBe(true);
    deadline.dispose();
  });

  it("after dispose, neither the timer nor the caller's signal aborts it", async () => {
    const outer = new AbortController();
    const deadline = startDeadline(1, outer.signal);
    deadline.dispose();
    outer.abort();
    // A later deadline that does fire shows the earlier one's 1 ms timer has had its chance.
    const later = startDeadline(20);
    await aborted(later.signal);
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.timedOut).toBe(false);
  });
});
