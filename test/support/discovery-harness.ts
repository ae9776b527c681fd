// Neighbour discovery in-process against the fake apiserver over real HTTPS: the apiserver,
// a small cluster of prober pods, and neighbour meshes whose prober only records what it was
// asked to probe. Every mesh presents a token of its own, so api.requests and api.traffic()
// tell which mesh sent what.
import { afterEach } from 'vitest';
import type { CheckOutcome } from '../../src/checks/types.ts';
import { parseConfig } from '../../src/config.ts';
import type { ProbeMetrics } from '../../src/metrics.ts';
import type { DiscoveryTuning } from '../../src/neighbours/discovery.ts';
import { createNeighbourhood, type Neighbourhood } from '../../src/neighbours/index.ts';
import type { Prober, ProbeTarget } from '../../src/probe/http.ts';
import { neighbourhoodStateText } from '../../src/state.ts';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import { proberContext } from '../../dev/prober-context.ts';

export const API_HOST = '127.0.2.1';
export const NAMESPACE = 'kube-system';
export const PROBER_SELECTOR = 'app.kubernetes.io/name=kubenurse';

/** Answers every probe with ok and remembers its target. */
export class RecordingProber {
  readonly targets: ProbeTarget[] = [];

  async probe(target: ProbeTarget): Promise<{ outcome: CheckOutcome }> {
    this.targets.push(target);
    return { outcome: { status: 'ok', durationMs: 1 } };
  }
}

export interface Mesh {
  readonly mesh: Neighbourhood;
  readonly metrics: ProbeMetrics;
  readonly prober: RecordingProber;
  /** The bearer token only this mesh presents (in its service-account dir). */
  readonly token: string;
  readonly serviceAccountDir: string;
}

export interface MeshOptions {
  /** Merged over the file's tuning. */
  readonly tuning?: Partial<DiscoveryTuning>;
  /** Probe with dev/prober-context's real Prober (recording into `metrics`), not the recording one. */
  readonly realProber?: boolean;
  /** Connect from a kubeconfig (the apiserver's current token) instead of a service account. */
  readonly kubeconfig?: boolean;
}

let tokens = 0;

/**
 * The apiserver and meshes of one test file; everything started is stopped after each test.
 * `defaults.env` and `defaults.tuning` apply to every mesh of the file.
 */
export function discoveryHarness(defaults: {
  readonly tuning: Partial<DiscoveryTuning>;
  readonly env?: Readonly<Record<string, string>>;
}) {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return {
    /** Runs `cleanup` after the current test, before what was started earlier. */
    defer: (cleanup: () => Promise<void>): void => void cleanups.push(cleanup),

    startApi: async (): Promise<FakeApiServer> => {
      const api = await FakeApiServer.start({ host: API_HOST });
      cleanups.push(() => api.close());
      return api;
    },

    /** Our prober pod is kubenurse-me in NAMESPACE, selecting the probers by PROBER_SELECTOR. */
    startMesh: (
      api: FakeApiServer,
      env: Record<string, string> = {},
      options: MeshOptions = {},
    ): Mesh => {
      const token = `prober-token-${++tokens}`;
      const serviceAccountDir = api.writeServiceAccountDir(NAMESPACE, undefined, token);
      const connection = options.kubeconfig
        ? { KUBECONFIG: api.writeKubeconfig() }
        : api.inClusterEnv(serviceAccountDir);
      const config = parseConfig({
        ...connection,
        KUBENURSE_POD_NAME: 'kubenurse-me',
        KUBENURSE_NAMESPACE: NAMESPACE,
        KUBENURSE_NEIGHBOUR_FILTER: PROBER_SELECTOR,
        KUBENURSE_LOG_LEVEL: 'silent',
        ...defaults.env,
        ...env,
      });
      const prober = new RecordingProber();
      const ctx = proberContext(config);
      if (options.realProber) cleanups.push(() => ctx.prober.close());
      const mesh = createNeighbourhood(
        options.realProber ? ctx : { ...ctx, prober: prober as unknown as Prober },
        { ...defaults.tuning, ...options.tuning },
      );
      if (!mesh) throw new Error('neighbourhood should be enabled');
      mesh.start();
      cleanups.push(() => mesh.stop());
      return { mesh, metrics: ctx.metrics, prober, token, serviceAccountDir };
    },
  };
}

/** A cluster of `nodes` nodes worker-<i>, one prober pod on each; ours (kubenurse-me) on worker-0. */
export function seed(api: FakeApiServer, nodes: number): void {
  for (let i = 0; i < nodes; i++) addWorker(api, i);
}

/** Node worker-<i> and the prober pod on it (kubenurse-<i>, or ours for 0), as seed() makes them. */
export function addWorker(api: FakeApiServer, i: number): void {
  api.addNode({ name: `worker-${i}` });
  api.addPod({
    name: i === 0 ? 'kubenurse-me' : `kubenurse-${i}`,
    namespace: NAMESPACE,
    nodeName: `worker-${i}`,
    podIP: `10.1.${i >> 8}.${(i & 255) + 1}`,
    hostIP: `192.168.${1 + (i >> 8)}.${(i & 255) + 1}`,
  });
}

/**
 * Makes every watch re-list: a change no prober watches (another namespace), then compaction,
 * then the streams end. Each watch resumes from a resourceVersion that is gone: 410 Gone.
 */
export function forceRelist(api: FakeApiServer): void {
  api.addPod({ name: 'elsewhere', namespace: 'default', nodeName: 'worker-1', podIP: '10.9.9.9' });
  api.compact();
  api.dropWatches();
}

/** The nodes the mesh runs path_ checks for, sorted. */
export const checkedNodes = (mesh: Neighbourhood): string[] =>
  mesh
    .checks()
    .map((check) => check.type.replace(/^path_/, ''))
    .sort();

/** The discovery state as /alive says it ('ok', or why not). */
export const stateText = (mesh: Neighbourhood): string => neighbourhoodStateText(mesh.view().state);

/** One sample of the mesh's registry by its exposition name with labels, e.g. `x{resource="pods"}`. */
export async function metricValue(
  metrics: ProbeMetrics,
  series: string,
): Promise<number | undefined> {
  const line = (await metrics.render())
    .split('\n')
    .find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}
