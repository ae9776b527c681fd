// Where a probe's own overhead goes (issue #17): one process, the image's Node flags, several
// ways of making the same request over a fresh connection, taking turns against the fleet's
// delay target (own process). Reports first byte − the hold the target really applied, p50 and
// mean per variant, so each variant is compared with bare Node in the same run.
//
//   npm exec -- node <image flags> bench/probe-variants.ts [--n 300] [--hold 20] [--only a,b]
//
// Not part of `npm run bench`: a measurement tool for the leads in BENCHMARKS.md section 1.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, buildConnector, type Dispatcher } from 'undici';
import { DEFAULT_BUCKETS } from '../src/config.ts';
import { ProbeMetrics } from '../src/metrics.ts';
import { Prober } from '../src/probe/http.ts';
import { FleetClient } from './lib/fleet-client.ts';
import { fmt, summarize } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '300' },
    hold: { type: 'string', default: '20' },
    only: { type: 'string' },
  },
});
const N = Number(values.n);
const HOLD = Number(values.hold);

interface Result {
  readonly firstByte: number;
  /** Earliest sign of the response on the socket, when the variant can see it. */
  readonly socketByte?: number;
  readonly total: number;
  /** Trace events, ms since start, where the variant has them. */
  readonly phases?: Record<string, number>;
}

type Variant = (url: string) => Promise<Result>;

/** net.connect, GET written before the connect completes, first 'data' = first byte. */
const bare: Variant = (url) => {
  const { hostname, port, pathname, search, host } = new URL(url);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let firstByte = Number.NaN;
    const phases: Record<string, number> = {};
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      if (Number.isNaN(firstByte)) firstByte = performance.now() - start;
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end >= 0 && received.length >= end + 7) {
        socket.destroy();
        resolve({ firstByte, total: performance.now() - start, phases });
      }
    });
    socket.once('error', reject);
    socket.once('connect', () => (phases.connect_done = performance.now() - start));
    socket.write(`GET ${pathname}${search} HTTP/1.1\r\nhost: ${host}\r\nuser-agent: bare\r\n\r\n`);
  });
};

const metrics = new ProbeMetrics({
  buckets: DEFAULT_BUCKETS,
  legacyMetrics: false,
  incomingChecks: () => 0,
});
const prober = new Prober({
  metrics,
  trust: { ca: [], insecure: false },
  timeoutMs: 5000,
  reuseConnections: false,
});

/** The shipped Prober: request duration (headers parsed) and got_first_resp_byte (socket). */
function viaProber(subject: { probe: Prober['probe'] }): Variant {
  return async (url) => {
    const start = performance.now();
    const { outcome } = await subject.probe({ type: 'v', url });
    if (outcome.status !== 'ok') throw new Error(outcome.status === 'error' ? outcome.message : '');
    const phases = outcome.phases as Record<string, number>;
    return {
      firstByte: outcome.durationMs,
      socketByte: phases.got_first_resp_byte,
      total: performance.now() - start,
      phases,
    };
  };
}
const ours = viaProber(prober);

const CLIENT_OPTIONS = {
  pipelining: 1,
  keepAliveTimeout: 1,
  bodyTimeout: 0,
  headersTimeout: 0,
} as const;

const defaultConnector = buildConnector({ timeout: 20_000 });

/** A minimal connector: net.connect, no keep-alive probes, no connect timer, no session cache. */
function minimalConnector(onSocket?: (socket: Socket) => void): buildConnector.connector {
  return (opts, callback) => {
    const socket = connect({ host: opts.hostname, port: Number(opts.port) });
    socket.setNoDelay(true);
    onSocket?.(socket);
    socket.once('connect', () => callback(null, socket));
    socket.once('error', (error) => callback(error, null));
    return socket;
  };
}

/** undici Client + request(), connector and options as given. */
function viaRequest(
  connector: (onSocket: (socket: Socket) => void) => buildConnector.connector,
  options: { reset?: boolean; signal?: boolean } = {},
): Variant {
  return async (url) => {
    const { origin, pathname, search } = new URL(url);
    let socketByte: number | undefined;
    let start = 0;
    const client = new Client(origin, {
      ...CLIENT_OPTIONS,
      connect: connector((socket) =>
        socket.prependOnceListener('readable', () => {
          socketByte = performance.now() - start;
        }),
      ),
    });
    const controller = options.signal ? new AbortController() : undefined;
    start = performance.now();
    const response = await client.request({
      path: `${pathname}${search}`,
      method: 'GET',
      headers: { 'user-agent': 'v' },
      reset: options.reset ?? false,
      signal: controller?.signal,
    });
    const firstByte = performance.now() - start;
    await response.body.dump();
    void client.destroy().catch(() => {});
    return { firstByte, socketByte, total: performance.now() - start };
  };
}

/** undici Client + dispatch() with a minimal handler; stamps in onResponseStart, synchronously. */
function viaDispatch(stampSocket: boolean): Variant {
  return (url) => {
    const { origin, pathname, search } = new URL(url);
    let socketByte: number | undefined;
    let start = 0;
    const client = new Client(origin, {
      ...CLIENT_OPTIONS,
      connect: minimalConnector(
        stampSocket
          ? (socket) =>
              socket.prependOnceListener('readable', () => {
                socketByte = performance.now() - start;
              })
          : undefined,
      ),
    });
    start = performance.now();
    return new Promise((resolve, reject) => {
      let firstByte = Number.NaN;
      const phases: Record<string, number> = {};
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {
          phases.wrote_request = performance.now() - start;
        },
        onResponseStart() {
          firstByte = performance.now() - start;
        },
        onResponseData() {},
        onResponseEnd() {
          void client.destroy().catch(() => {});
          resolve({ firstByte, socketByte, total: performance.now() - start, phases });
        },
        onResponseError(_controller, error) {
          reject(error);
        },
      };
      client.dispatch(
        { origin, path: `${pathname}${search}`, method: 'GET', headers: { 'user-agent': 'v' } },
        handler,
      );
    });
  };
}

const VARIANTS: Record<string, Variant> = {
  bare,
  ours,
  'request+default-connector': viaRequest(() => defaultConnector),
  'request+minimal-connector': viaRequest((onSocket) => minimalConnector(onSocket)),
  'request+minimal-connector+reset': viaRequest((onSocket) => minimalConnector(onSocket), {
    reset: true,
  }),
  'request+minimal-connector+signal': viaRequest((onSocket) => minimalConnector(onSocket), {
    signal: true,
  }),
  'dispatch+minimal-connector': viaDispatch(false),
  'dispatch+minimal-connector+readable-stamp': viaDispatch(true),
};
const names = values.only
  ? values.only.split(',').filter((name) => name in VARIANTS)
  : Object.keys(VARIANTS);

const fleet = await FleetClient.start();
try {
  const base = await fleet.target('127.0.5.1');
  const samples = new Map<string, { id: string; result: Result }[]>();
  for (const name of names) samples.set(name, []);
  let id = 0;
  for (let i = -10; i < N; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(((i + k) % names.length) + names.length) % names.length] as string;
      const key = `x${++id}`;
      const result = await (VARIANTS[name] as Variant)(`${base}/pv/${HOLD}?id=${key}`);
      if (i >= 0) samples.get(name)?.push({ id: key, result });
    }
  }
  const { holds } = await fleet.stats();
  const lines = [
    `hold ${HOLD} ms, n ${N} per variant, flags: ${process.execArgv.join(' ') || 'none'}, ` +
      `MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 'unset'}`,
    '| variant | first byte − hold p50 | mean | p90 | socket byte − hold p50 | total − hold p50 |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const name of names) {
    const list = samples.get(name) ?? [];
    const over = (pick: (r: Result) => number | undefined) =>
      summarize(
        list
          .map(({ id: key, result }) => (pick(result) ?? Number.NaN) - (holds[key] ?? Number.NaN))
          .filter(Number.isFinite),
      );
    const fb = over((r) => r.firstByte);
    const sb = over((r) => r.socketByte);
    const total = over((r) => r.total);
    lines.push(
      `| ${name} | ${fmt(fb.p50, 3)} | ${fmt(fb.mean, 3)} | ${fmt(fb.p90, 3)} | ${sb.n ? fmt(sb.p50, 3) : '–'} | ${fmt(total.p50, 3)} |`,
    );
  }
  lines.push('', 'phases, p50 ms since start (not minus hold):');
  for (const name of names) {
    const list = (samples.get(name) ?? []).map(({ result }) => result.phases ?? {});
    const events = [...new Set(list.flatMap((phases) => Object.keys(phases)))];
    const p50 = (event: string) =>
      summarize(list.map((phases) => phases[event] ?? Number.NaN).filter(Number.isFinite)).p50;
    lines.push(`${name}: ${events.map((event) => `${event} ${fmt(p50(event), 3)}`).join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await prober.close();
  await fleet.stop();
}
process.exit(0);
