// A prober serving its HTTP endpoints and the status page over real HTTP, without probing
// anything: every round has the same outcomes, and the neighbourhood is a fixed list of
// neighbours (which the status page then reads over the network).
import type { RoundResult } from '../../src/checks/round.ts';
import { Scheduler } from '../../src/checks/scheduler.ts';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { parseConfig } from '../../src/config.ts';
import { IncomingChecks } from '../../src/incoming.ts';
import { startServer } from '../../src/server.ts';
import type { ProberState } from '../../src/state.ts';
import { StatusPage } from '../../src/status/index.ts';
import { proberContext } from '../../dev/prober-context.ts';

export interface StaticProberSpec {
  /** KUBENURSE_* settings: at least the bind address and port. */
  readonly env: Readonly<Record<string, string>>;
  /** The outcome of every round, by check type. */
  readonly outcomes: ReadonlyMap<string, CheckOutcome>;
  readonly neighbours?: readonly { readonly node: string; readonly ip: string }[];
}

export interface StaticProber {
  readonly page: StatusPage;
  close(): Promise<void>;
}

export async function startStaticProber(spec: StaticProberSpec): Promise<StaticProber> {
  const { config, logger, metrics } = proberContext(parseConfig(spec.env));
  const state: ProberState = {
    neighbourhood: () => ({
      state: { kind: 'ok' },
      neighbours: (spec.neighbours ?? []).map((n) => ({
        podName: `kubenurse-${n.node}`,
        podIp: n.ip,
        hostIp: n.ip,
        nodeName: n.node,
        nodeHash: 1n,
      })),
    }),
    kubeProxy: () => undefined,
  };
  const page = new StatusPage({ config, logger, metrics, state });
  const finishedAt = new Date();
  const result: RoundResult = {
    startedAt: new Date(finishedAt.getTime() - 50),
    finishedAt,
    outcomes: new Map(spec.outcomes),
  };
  const scheduler = new Scheduler({
    executor: page.observe({ run: () => Promise.resolve(result) }),
    intervalMs: 60_000,
    cacheTtlMs: 60_000,
    logger,
  });
  await scheduler.result();
  const server = await startServer({
    config,
    logger,
    scheduler,
    metrics,
    incoming: new IncomingChecks(),
    state,
    ready: () => true,
    extend: (app) => page.mount(app, scheduler),
  });
  return {
    page,
    close: async () => {
      await server.close();
      await page.close();
    },
  };
}
