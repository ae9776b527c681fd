// A probe's deadline: its own timeout or the caller's signal (the round's), whichever is first.
//
// Why not AbortSignal.timeout + AbortSignal.any: every probe would leave a timer that still
// fires (and builds a DOMException) seconds after the probe ended, and a composite signal
// registered on the round's long-lived signal until GC. This one clears its timer and drops
// its listener the moment the probe is over (BENCHMARKS.md 1).

export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the timeout (not the caller's signal) fired. */
  readonly timedOut: boolean;
  /** Stops the timer and detaches from the caller's signal; call when the probe is over. */
  dispose(): void;
}

export function startDeadline(timeoutMs: number, outer?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs}ms`, 'TimeoutError'));
  }, timeoutMs);
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}
