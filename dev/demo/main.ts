// `npm run demo`: four real probers on loopback with a fake apiserver, fake kube-proxies, a
// Service, an Ingress and a pod network the demo can break. No root, no cluster.
// Layout: see topology.ts. Faults: see faults.ts. Stops everything it started on Ctrl-C.
import { mkdtempSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { emitKeypressEvents } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FakeApiServer } from '../fakes/fake-apiserver.ts';
import { startFakeKubeProxy, type FakeKubeProxy } from '../fakes/fake-kube-proxy.ts';
import { startControlServer } from './control.ts';
import { FaultBoard, FaultSpecError, PRESETS, parseFault, type DemoWorld } from './faults.ts';
import { NODE_LAYER, PodNetwork } from './pod-network.ts';
import { findPrometheus, startPrometheus, type PrometheusStart } from './prometheus.ts';
import { startProber, stopProcess, tail, type ProberProcess } from './probers.ts';
import { IngressProxy, ServiceProxy } from './stand-ins.ts';
import {
  APISERVER,
  CONTROL,
  INGRESS,
  KUBE_PROXY_HEALTHZ_PORT,
  KUBE_PROXY_METRICS_PORT,
  NAMESPACE,
  NEIGHBOUR_FILTER,
  NODES,
  POD_LABELS,
  PROBER_PORT,
  PROMETHEUS,
  SERVICE,
  logFile,
  proberEnv,
  proberUrl,
  url,
} from './topology.ts';
import { errorMessage } from '../../src/error-text.ts';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The fake kube-proxies report unhealthy this long after their sync loop stops (kube-proxy: 2 × syncPeriod). */
const KUBE_PROXY_HEALTH_TIMEOUT_S = 10;
const READY_TIMEOUT_MS = 30_000;

const USAGE = `Usage: npm run demo -- [options]

Starts ${NODES.length} kubenurse-ts probers on loopback (${NODES.map((node) => node.hostIP).join(', ')}, port ${PROBER_PORT})
with a fake apiserver, fake kube-proxies, a Service and an Ingress. No root, no cluster.

Options:
  --fault SPEC      start with a fault (repeatable):
                      partition:node-2,node-3   nodes that cannot reach each other
                      isolate:node-1            one node cut off from all others
                      node-down:node-4          pod IP and node address refuse connections
                      cni:node-2                node-2's pod network is cut, its node network works
                      service | ingress | apiserver
                      kube-proxy-hang:node-1    kube-proxy stops syncing (healthz 503 after ${KUBE_PROXY_HEALTH_TIMEOUT_S} s)
  --prometheus      also run a local Prometheus (${PROMETHEUS.host}:${PROMETHEUS.port}) with examples/prometheusrule.yaml
  --interval SEC    check interval of the probers (default 2)
  --dir DIR         where logs and generated files go (default: a new temporary directory)
  -h, --help        this text
`;

interface Options {
  readonly faults: string[];
  readonly prometheus: boolean;
  readonly intervalSeconds: number;
  readonly dir: string | undefined;
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function parseOptions(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        fault: { type: 'string', multiple: true },
        prometheus: { type: 'boolean', default: false },
        interval: { type: 'string', default: '2' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    fail(`${errorMessage(error)}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const intervalSeconds = Number(values.interval);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 60)
    fail(`--interval ${values.interval}: expected seconds from 1 to 60`);
  const faults = values.fault ?? [];
  for (const spec of faults) {
    try {
      parseFault(spec);
    } catch (error) {
      if (error instanceof FaultSpecError) fail(`--fault ${spec}: ${error.message}`);
      throw error;
    }
  }
  return { faults, prometheus: values.prometheus, intervalSeconds, dir: values.dir };
}

const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text: string): void => void process.stdout.write(`${text}\n`);

function addressHint(error: unknown, what: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return `${what}: address already in use. Is another demo (or test) running? The demo needs 127.0.0.2-127.0.0.25 to itself.`;
  if (code === 'EADDRNOTAVAIL')
    return `${what}: address not available. The demo needs Linux, where all of 127.0.0.0/8 is loopback.`;
  return `${what}: ${errorMessage(error)}`;
}

/** node-1's status page has a row for every node. */
async function pageListsAllNodes(): Promise<boolean> {
  try {
    const response = await fetch(proberUrl(NODES[0]!, '/status.json'), {
      signal: AbortSignal.timeout(2000),
    });
    const doc = (await response.json()) as { cluster?: { rows?: unknown[] } };
    return doc.cluster?.rows?.length === NODES.length;
  } catch {
    return false;
  }
}

/** Every prober's cluster view has all nodes, and every path between them answered ok. */
async function meshIsGreen(): Promise<boolean> {
  const views = await Promise.all(
    NODES.map(async (node) => {
      try {
        const response = await fetch(proberUrl(node, '/status.json?view=self'), {
          signal: AbortSignal.timeout(1000),
        });
        return (await response.json()) as { checks?: { type: string; status: string }[] };
      } catch {
        return undefined;
      }
    }),
  );
  return views.every((view) => {
    const paths = view?.checks?.filter((check) => check.type.startsWith('path_')) ?? [];
    return paths.length === NODES.length - 1 && paths.every((check) => check.status === 'ok');
  });
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = Date.now();
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'kubenurse-demo-'));
  mkdirSync(dir, { recursive: true });

  const cleanups: (() => Promise<void>)[] = [];
  const probers: ProberProcess[] = [];
  let prometheus: PrometheusStart | undefined;
  let stopping = false;
  let restoreTerminal = (): void => undefined;

  // If the demo dies some other way, its children must not outlive it.
  process.on('exit', () => {
    for (const prober of probers) if (prober.child.exitCode === null) prober.child.kill('SIGKILL');
    if (prometheus?.child.exitCode === null) prometheus.child.kill('SIGKILL');
  });

  const shutdown = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    stopping = true;
    restoreTerminal();
    say('\nstopping…');
    const children = [...probers.map((prober) => stopProcess(prober.child, prober.exited))];
    if (prometheus) {
      const { child } = prometheus;
      children.push(
        stopProcess(
          child,
          new Promise((done) =>
            child.exitCode !== null ? done(undefined) : child.once('exit', done),
          ),
        ),
      );
    }
    await Promise.all(children);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    say(
      `stopped ${probers.length} probers${prometheus ? ' and Prometheus' : ''}, ` +
        `and the fake apiserver, kube-proxies, Service, Ingress and pod network. Logs stay in ${dir}`,
    );
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGHUP', () => void shutdown(0));

  try {
    // The control plane: nodes and prober pods as the DaemonSet would create them.
    const apiserver = await FakeApiServer.start({
      host: APISERVER.host,
      port: APISERVER.port,
    }).catch((error: unknown) => {
      throw new Error(addressHint(error, `apiserver ${APISERVER.host}:${APISERVER.port}`));
    });
    cleanups.push(() => apiserver.close());
    for (const node of NODES) {
      apiserver.addNode({ name: node.name, internalIP: node.hostIP });
      apiserver.addPod({
        name: node.podName,
        namespace: NAMESPACE,
        nodeName: node.name,
        podIP: node.podIP,
        hostIP: node.hostIP,
        labels: POD_LABELS,
      });
    }
    const serviceAccountDir = apiserver.writeServiceAccountDir(
      NAMESPACE,
      join(dir, 'serviceaccount'),
    );
    const kubeconfig = apiserver.writeKubeconfig(join(dir, 'kubeconfig'), NAMESPACE);

    // Probers first: loading their modules is the slow part of the start, and everything
    // else below is up within milliseconds, long before their first round.
    const compileCache = join(PROJECT_ROOT, 'node_modules', '.cache', 'kubenurse-ts-demo');
    for (const node of NODES) {
      const env = {
        ...proberEnv({ node, serviceAccountDir, intervalSeconds: options.intervalSeconds }),
        NODE_COMPILE_CACHE: compileCache,
      };
      const prober = startProber(PROJECT_ROOT, node.name, env, logFile(dir, node));
      probers.push(prober);
      void prober.exited.then((how) => {
        if (!stopping)
          say(
            `\n${bold(`prober ${node.name} stopped unexpectedly (${how})`)}; last lines of ${prober.logFile}:\n${tail(prober.logFile)}\n`,
          );
      });
    }

    const kubeProxies = new Map<string, FakeKubeProxy>();
    for (const node of NODES) {
      const kubeProxy = await startFakeKubeProxy({
        host: node.hostIP,
        metricsPort: KUBE_PROXY_METRICS_PORT,
        healthzPort: KUBE_PROXY_HEALTHZ_PORT,
        healthTimeoutSeconds: KUBE_PROXY_HEALTH_TIMEOUT_S,
      }).catch((error: unknown) => {
        throw new Error(addressHint(error, `kube-proxy of ${node.name}`));
      });
      kubeProxies.set(node.name, kubeProxy);
      cleanups.push(() => kubeProxy.stop());
    }
    const hungKubeProxies = new Set<string>();
    // A healthy kube-proxy syncs whenever something changes; here: every few seconds.
    let ticks = 0;
    const syncLoop = setInterval(() => {
      const now = Date.now() / 1000;
      ticks++;
      for (const [name, kubeProxy] of kubeProxies) {
        if (hungKubeProxies.has(name)) continue;
        if (ticks % 10 === 0) kubeProxy.sync(0.002 + Math.random() * 0.01);
        else kubeProxy.setSync({ lastQueuedTimestamp: now - 0.05, lastTimestamp: now });
      }
    }, 3000);
    cleanups.push(async () => clearInterval(syncLoop));

    const podNetwork = new PodNetwork(NODES);
    await podNetwork.start().catch((error: unknown) => {
      throw new Error(addressHint(error, 'pod network (127.0.0.22-25)'));
    });
    cleanups.push(() => podNetwork.stop());
    const nodeNetwork = new PodNetwork(NODES, NODE_LAYER);
    await nodeNetwork.start().catch((error: unknown) => {
      throw new Error(addressHint(error, 'node network (127.0.0.2-5 :10257)'));
    });
    cleanups.push(() => nodeNetwork.stop());
    const service = new ServiceProxy(
      SERVICE,
      NODES.map((node) => ({ host: node.podIP, port: PROBER_PORT })),
    );
    await service.start().catch((error: unknown) => {
      throw new Error(addressHint(error, 'Service'));
    });
    cleanups.push(() => service.stop());
    // The kubelet's readiness probe, through the pod network, decides who is behind the Service.
    const readiness = setInterval(() => {
      for (const node of NODES) {
        const endpoint = { host: node.podIP, port: PROBER_PORT };
        fetch(`http://${node.podIP}:${PROBER_PORT}/ready`, { signal: AbortSignal.timeout(800) })
          .then((response) => service.setReady(endpoint, response.status === 200))
          .catch(() => service.setReady(endpoint, false));
      }
    }, 500);
    cleanups.push(async () => clearInterval(readiness));
    const ingress = new IngressProxy(INGRESS, SERVICE);
    await ingress.start().catch((error: unknown) => {
      throw new Error(addressHint(error, 'Ingress'));
    });
    cleanups.push(() => ingress.stop());

    const world: DemoWorld = {
      podNetwork,
      nodeNetwork,
      service,
      ingress,
      apiserver,
      kubeProxies,
      hungKubeProxies,
    };
    const board = new FaultBoard(world);
    const control: Server = await startControlServer(board, CONTROL, (message) =>
      say(message),
    ).catch((error: unknown) => {
      throw new Error(addressHint(error, 'control page'));
    });
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          control.close(() => done());
          control.closeAllConnections();
        }),
    );

    if (options.prometheus) {
      const binary = findPrometheus();
      if (binary === undefined) {
        say(
          '--prometheus: no prometheus binary found (looked in /usr/bin, /usr/local/bin and PATH). ' +
            'Install it (Debian: apt-get install prometheus); the demo runs without it.',
        );
      } else {
        prometheus = startPrometheus(
          binary,
          dir,
          `${PROMETHEUS.host}:${PROMETHEUS.port}`,
          NODES,
          join(PROJECT_ROOT, 'examples', 'prometheusrule.yaml'),
        );
        if (prometheus.warning) say(`--prometheus: ${prometheus.warning}`);
        const { child, logFile: promLog } = prometheus;
        child.once('exit', (code, signal) => {
          if (!stopping)
            say(
              `\n${bold(`Prometheus stopped (${signal ?? `exit code ${code}`})`)}; last lines of ${promLog}:\n${tail(promLog)}\n`,
            );
        });
      }
    }

    // The page is worth opening once node-1 lists every node; "green" (every path answered)
    // follows a round or two later and is reported on its own line.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let listed = false;
    while (!stopping && Date.now() < deadline && !(listed = await pageListsAllNodes()))
      await sleep(200);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    say('');
    say(
      bold(`kubenurse-ts demo: ${NODES.length} nodes on loopback, no cluster, no root`) +
        (listed
          ? `  (status page shows all ${NODES.length} nodes after ${seconds} s)`
          : `  (the status page does not list all nodes after ${seconds} s: see the logs)`),
    );
    say('');
    say(`  ${bold('Status page')}     ${proberUrl(NODES[0]!, '/')}    (every prober serves one)`);
    say(`  ${bold('Break things')}    ${url(CONTROL, '/')}`);
    say('');
    for (const node of NODES) {
      say(
        `  ${node.name}  ${proberUrl(node, '/')}  /alive  /metrics   pod IP ${node.podIP}   ` +
          `kube-proxy :${KUBE_PROXY_METRICS_PORT}/metrics :${KUBE_PROXY_HEALTHZ_PORT}/healthz`,
      );
    }
    say('');
    say(
      `  apiserver ${apiserver.url}   Service ${url(SERVICE)}   Ingress ${url(INGRESS, '/alwayshappy')}` +
        (prometheus ? `   Prometheus ${url(PROMETHEUS, '/alerts')}` : ''),
    );
    say(`  logs, kubeconfig and service-account files: ${dir}`);
    say('');
    say(
      `  One-shot check from here: KUBECONFIG=${kubeconfig} KUBENURSE_POD_NAME=${NODES[0]!.podName} ` +
        `KUBENURSE_NODE_NAME=${NODES[0]!.name} KUBENURSE_NAMESPACE=${NAMESPACE} \\`,
    );
    say(
      `    KUBENURSE_NEIGHBOUR_FILTER=${NEIGHBOUR_FILTER} KUBENURSE_SERVICE_URL=${url(SERVICE)} node_modules/.bin/node src/cli.ts check`,
    );

    if (process.stdin.isTTY) {
      say('');
      say(`  Keys: ${PRESETS.map((spec, index) => `${index + 1} ${spec}`).join(' · ')}`);
      say('        h heal everything · q quit');
      emitKeypressEvents(process.stdin);
      process.stdin.setRawMode(true);
      restoreTerminal = () => {
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        process.stdin.pause();
      };
      process.stdin.on(
        'keypress',
        (text: string | undefined, key: { ctrl?: boolean; name?: string } | undefined) => {
          if ((key?.ctrl && key.name === 'c') || text === 'q') {
            void shutdown(0);
            return;
          }
          if (text === 'h') {
            void board.healAll().then(() => say('healed everything'));
            return;
          }
          const preset = text === undefined ? undefined : PRESETS[Number(text) - 1];
          if (preset !== undefined) {
            void board
              .toggle(preset)
              .then((state) =>
                say(`${state.active ? 'BROKEN' : 'healed'}: ${state.description} (${state.spec})`),
              )
              .catch((error: unknown) => say(`could not toggle ${preset}: ${String(error)}`));
          }
        },
      );
    } else {
      say('');
      say('  Ctrl-C stops everything.');
    }

    // Faults from the command line come after the first all-green round, so the change shows.
    let green = false;
    while (!stopping && Date.now() < deadline + READY_TIMEOUT_MS && !(green = await meshIsGreen()))
      await sleep(250);
    if (stopping) return;
    say(
      green
        ? `\nall ${NODES.length * (NODES.length - 1)} paths between the nodes are green ` +
            `(${((Date.now() - started) / 1000).toFixed(1)} s after start)`
        : '\nnot every path is green yet: see the status page and the logs',
    );
    for (const spec of options.faults) {
      const state = await board.set(spec, true);
      say(`BROKEN: ${state.description} (${state.spec})`);
    }
  } catch (error) {
    say(`demo: ${errorMessage(error)}`);
    await shutdown(1);
  }
}

await main();
