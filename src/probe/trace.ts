// A probe's phase stamps, kubenurse's httptrace events, in milliseconds since the probe started
// (performance.now()). The connectors stamp what they see on their own sockets; what only undici
// sees (headers written) comes through its diagnostics channel, which names the socket but not
// the probe, hence the socket → holder map.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeMetrics, TraceEvent } from '../metrics.ts';

export interface Trace {
  /** Set when the request is handed to undici: creating our per-probe dispatcher is not network time. */
  start: number;
  readonly marks: Map<TraceEvent, number>;
  /**
   * When undici had parsed the response headers: the end of Go's RoundTrip, what the request
   * duration records. got_first_resp_byte is earlier: the first response bytes on the socket.
   */
  headersAt?: number;
}

/**
 * Which probe is using a connection right now; one holder per connection, updated per probe,
 * because a kept connection serves one probe after another.
 */
export interface TraceHolder {
  current: Trace | undefined;
}

/** Socket → its connection's holder; filled by our connectors, read by the diagnostics hook. */
const socketTraces = new WeakMap<Socket, TraceHolder>();

export function startTrace(): Trace {
  return { start: performance.now(), marks: new Map() };
}

/** The first stamp of an event counts: later ones (a retry inside the hop) do not move it. */
export function mark(trace: Trace, event: TraceEvent): void {
  if (!trace.marks.has(event)) trace.marks.set(event, performance.now() - trace.start);
}

/** Lets the diagnostics hook find the probe that is writing on `socket`. */
export function traceSocket(socket: Socket, holder: TraceHolder): void {
  socketTraces.set(socket, holder);
}

// undici publishes when it has written a request's headers; a GET has no body, so that is
// kubenurse's wrote_request.
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const trace = socketTraces.get((message as { socket: Socket }).socket)?.current;
  if (trace) {
    mark(trace, 'got_conn');
    mark(trace, 'wrote_request');
  }
});

/**
 * Go's GotFirstResponseByte fires when the first byte of the response is read from the
 * connection, before the headers are parsed. The socket's first 'readable' with data after the
 * request was written is that moment; undici's parser runs after us (BENCHMARKS.md 1).
 */
export function stampFirstByte(socket: Socket, holder: TraceHolder): void {
  socket.prependListener('readable', () => {
    const trace = holder.current;
    if (trace?.marks.has('wrote_request') && socket.readableLength > 0)
      mark(trace, 'got_first_resp_byte');
  });
}

/** The trace events of a probe that is over, under its check type. */
export function recordPhases(metrics: ProbeMetrics, type: string, trace: Trace): void {
  for (const [event, ms] of trace.marks) metrics.observeTrace(type, event, ms / 1000);
}
