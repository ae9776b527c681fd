// Eight real prober processes on 127.0.2.2–127.0.2.9 (one per "node", same port) find each
// other through the fake apiserver and probe each other pod IP to pod IP. The cluster
// changes under them; /alive, /metrics and /ready follow within a few rounds, stale
// path_ series disappear, and watch drops and 410 Gone are survived without restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHash, selectNeighbours } from '../../src/neighbours/limit.ts';
import { FakeApiServer } from '../../dev/fakes/fake-apiserver.ts';
import { startProber, type ProberProcess } from '../../dev/process/prober-process.ts';
import { eventually as waitFor } from '../support/eventually.ts';

const API_HOST = '127.0.2.1';
const PORT = 18480;
const NAMESPACE = 'kube-nurse';
const LIMIT = 3;
const INDICES = [2, 3, 4, 5, 6, 7, 8, 9];
/** The last one starts without a pod in the API: it joins the mesh later. */
const JOINER = 9;

const nodeOf = (i: number) => `node-${i}`;
const podOf = (i: number) => `kubenurse-${i}`;
const ipOf = (i: number) => `127.0.2.${i}`;

let api: FakeApiServer;
const probers = new Map<number, ProberProcess>();

/** kubenurse's layout: the discovery state and the neighbour list live in last_check_result. */
interface Alive {
  last_check_result: Record<string, string> & {
    neighbourhood_state: string;
    neighbourhood?: {
      PodName: string;
      PodIP: string;
      HostIP: string;
      NodeName: string;
      NodeHash: bigint;
    }[];
  };
}

const stateOf = (body: Alive): string => body.last_check_result.neighbourhood_state;
const neighboursOf = (body: Alive) => body.last_check_result.neighbourhood ?? [];

async function alive(i: number): Promise<Alive> {
  const response = await fetch(`http://${ipOf(i)}:${PORT}/alive`, {
    signal: AbortSignal.timeout(5000),
  });
  // NodeHash is an exact 64-bit JSON number: read its digits, not a rounded double.
  const reviver = (key: string, value: unknown, context?: { source?: string }) =>
    key === 'NodeHash' && context?.source ? BigInt(context.source) : value;
  return JSON.parse(await response.text(), reviver as Parameters<typeof JSON.parse>[1]) as Alive;
}

async function pathTypesInMetrics(i: number): Promise<string[]> {
  const text = await (
    await fetch(`http://${ipOf(i)}:${PORT}/metrics`, { signal: AbortSignal.timeout(5000) })
  ).text();
  return [
    ...new Set([...text.matchAll(/type="(path_[^"]+)"/g)].map((match) => match[1] as string)),
  ].sort();
}

const pathTypes = (body: Alive) =>
  Object.keys(body.last_check_result)
    .filter((key) => key.startsWith('path_'))
    .sort();

/** What kubenurse's ring says node i checks among the `present` nodes. */
function expectedTypes(i: number, present: readonly number[]): string[] {
  const others = present
    .filter((j) => j !== i)
    .map((j) => ({ nodeName: nodeOf(j), hash: nodeHash(nodeOf(j)) }));
  return selectNeighbours(nodeOf(i), others, LIMIT)
    .map((n) => `path_${n.nodeName}`)
    .sort();
}

const eventually = (assertion: () => void | Promise<void>, timeoutMs = 20_000) =>
  waitFor(assertion, timeoutMs, 250);

/** Every prober in `members` checks exactly its ring neighbours among `members`, all ok, in /alive and /metrics. */
async function meshSettled(members: readonly number[]): Promise<void> {
  for (const i of members) {
    const expected = expectedTypes(i, members);
    const body = await alive(i);
    expect(stateOf(body), `prober ${i}`).toBe('ok');
    expect(pathTypes(body), `prober ${i} /alive`).toEqual(expected);
    for (const type of expected)
      expect(body.last_check_result[type], `prober ${i} ${type}`).toBe('ok');
    expect(await pathTypesInMetrics(i), `prober ${i} /metrics`).toEqual(expected);
  }
}

beforeAll(async () => {
  api = await FakeApiServer.start({ host: API_HOST });
  const saDir = api.writeServiceAccountDir(NAMESPACE);
  for (const i of INDICES) {
    api.addNode({ name: nodeOf(i), internalIP: ipOf(i) });
    if (i !== JOINER)
      api.addPod({
        name: podOf(i),
        namespace: NAMESPACE,
        nodeName: nodeOf(i),
        podIP: ipOf(i),
        hostIP: ipOf(i),
      });
  }
  for (const i of INDICES) {
    probers.set(
      i,
      startProber({
        ...api.inClusterEnv(saDir),
        KUBENURSE_BIND_ADDRESS: ipOf(i),
        KUBENURSE_PORT: String(PORT),
        KUBENURSE_POD_NAME: podOf(i),
        // Half learn their node from their own pod, half are told.
        ...(i % 2 === 0 ? { KUBENURSE_NODE_NAME: nodeOf(i) } : {}),
        KUBENURSE_NAMESPACE: NAMESPACE,
        KUBENURSE_NEIGHBOUR_FILTER: 'app.kubernetes.io/name=kubenurse',
        KUBENURSE_NEIGHBOUR_LIMIT: String(LIMIT),
        KUBENURSE_CHECK_INTERVAL: '1s',
        KUBENURSE_CACHE_TTL: '500ms',
        KUBENURSE_SHUTDOWN_DURATION: '0s',
        KUBENURSE_CHECK_API_SERVER_DNS: 'false',
        KUBENURSE_CHECK_ME_INGRESS: 'false',
        KUBENURSE_CHECK_ME_SERVICE: 'false',
        KUBENURSE_CHECK_KUBE_PROXY: 'false',
        KUBENURSE_LOG_LEVEL: 'warn',
      }),
    );
  }
  await Promise.all([...probers.values()].map((prober) => prober.waitUntilServing(30_000)));
}, 60_000);

afterAll(async () => {
  await Promise.all([...probers.values()].map((prober) => prober.stop()));
  await api?.close();
});

describe('a mesh of real prober processes', () => {
  const initial = INDICES.filter((i) => i !== JOINER);

  it('each prober checks exactly its K ring neighbours and is checked by exactly K', async () => {
    await eventually(() => meshSettled(initial));
    const checkedBy = new Map<string, number>();
    for (const i of initial) {
      const body = await alive(i);
      expect(
        neighboursOf(body)
          .map((n) => n.PodName)
          .sort(),
      ).toEqual(
        initial
          .filter((j) => j !== i)
          .map(podOf)
          .sort(),
      );
      for (const n of neighboursOf(body))
        expect(n).toEqual({
          PodName: n.PodName,
          PodIP: n.PodIP,
          HostIP: n.PodIP,
          NodeName: n.NodeName,
          NodeHash: nodeHash(n.NodeName),
        });
      for (const type of pathTypes(body)) checkedBy.set(type, (checkedBy.get(type) ?? 0) + 1);
    }
    expect([...checkedBy.values()]).toEqual(initial.map(() => LIMIT));
    // The joiner has no pod in the API yet: it knows the others but not its place on the ring.
    const joiner = await alive(JOINER);
    expect(stateOf(joiner)).toMatch(/own node unknown/);
    expect(pathTypes(joiner)).toEqual([]);
  });

  it('a node joining takes its place on the ring', async () => {
    api.addPod({
      name: podOf(JOINER),
      namespace: NAMESPACE,
      nodeName: nodeOf(JOINER),
      podIP: ipOf(JOINER),
      hostIP: ipOf(JOINER),
    });
    await eventually(() => meshSettled(INDICES));
  });

  it('a deleted pod disappears from every /alive and /metrics, and the ring moves on', async () => {
    const gone = 5;
    api.deletePod(NAMESPACE, podOf(gone));
    const remaining = INDICES.filter((i) => i !== gone);
    await eventually(() => meshSettled(remaining));
    for (const i of remaining) {
      expect(neighboursOf(await alive(i)).map((n) => n.NodeName)).not.toContain(nodeOf(gone));
      expect(await pathTypesInMetrics(i)).not.toContain(`path_${nodeOf(gone)}`);
    }
  });

  it('a cordoned node leaves the mesh and its prober answers 503 on /ready until uncordoned', async () => {
    const cordoned = 6;
    api.cordon(nodeOf(cordoned));
    const members = INDICES.filter((i) => i !== 5 && i !== cordoned);
    await eventually(() => meshSettled(members));
    await eventually(async () =>
      expect((await fetch(`http://${ipOf(cordoned)}:${PORT}/ready`)).status).toBe(503),
    );
    for (const i of members)
      expect(await pathTypesInMetrics(i)).not.toContain(`path_${nodeOf(cordoned)}`);

    api.cordon(nodeOf(cordoned), false);
    await eventually(() => meshSettled(INDICES.filter((i) => i !== 5)));
    expect((await fetch(`http://${ipOf(cordoned)}:${PORT}/ready`)).status).toBe(200);
  });

  it('survives dropped watches and 410 Gone without a restart', async () => {
    const pids = new Map([...probers].map(([i, prober]) => [i, prober.child.pid]));
    const open = api.watchCount();
    api.expireNextWatch('event');
    api.dropWatches();
    // Every watch is back, the one answered 410 after its re-list: then the second blow.
    await eventually(() => expect(api.watchCount()).toBe(open));
    api.compact();
    api.dropWatches({ abrupt: true });
    api.addPod({
      name: podOf(5),
      namespace: NAMESPACE,
      nodeName: nodeOf(5),
      podIP: ipOf(5),
      hostIP: ipOf(5),
    });
    await eventually(() => meshSettled(INDICES), 30_000);
    for (const [i, prober] of probers) {
      expect(prober.child.exitCode, `prober ${i} still running`).toBeNull();
      expect(prober.child.pid).toBe(pids.get(i));
    }
  });
});
