// Which layer broke, on a real network (docs/layers.md). Four node namespaces on one bridge;
// each has node addresses (10.77.0.N, fd77::N) and, in a separate range, pod addresses
// (10.77.1.N, fd77:1::N). node-2 and node-3 run a neighbour (its prober's /alwayshappy on
// the pod addresses, kube-proxy's /healthz on the node addresses); node-1 and node-4 run the
// shipped layer checks against both, dual-stack. Each fault is iptables/ip6tables (or a link
// going down) on one layer, one family or one pair; every checker that sees it must name the
// same, right layer, and everything must be healthy again once the fault is removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { NODE_BINARY } from './testbed/helpers.ts';
import { createNamespace, deleteNamespaceSync, runPrefix } from './testbed/netns.ts';
import { assertPreflight } from './testbed/preflight.ts';
import { nsRun, run } from './testbed/shell.ts';
import { waitFor } from './testbed/wait.ts';

const HERE = import.meta.dirname;
const PREFIX = `${runPrefix()}ly`;
const FABRIC = `${PREFIX}-fab`;
const ns = (index: number): string => `${PREFIX}-n${index}`;
const address = (index: number) => ({
  node4: `10.77.0.${index}`,
  pod4: `10.77.1.${index}`,
  node6: `fd77::${index}`,
  pod6: `fd77:1::${index}`,
});
const TARGETS = [2, 3];
const CHECKERS = [1, 4];
/** A verdict needs a round with the fault (interval 1 s, timeout 800 ms); generous for busy CI. */
const VERDICT_WAIT_MS = 20_000;

const children: ChildProcess[] = [];
/** Checker index → its newest round: neighbour node → layer. */
const latest = new Map<number, { verdicts: Record<string, string>; alive: unknown }>();

function start(index: number, script: string, args: string[]): ChildProcess {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns(index), NODE_BINARY, join(HERE, 'layers', script), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  return child;
}

function neighbour(index: number) {
  const a = address(index);
  return {
    podName: `kubenurse-${index}`,
    podIp: a.pod4,
    hostIp: a.node4,
    nodeName: `node-${index}`,
    secondaryPodIp: a.pod6,
    secondaryHostIp: a.node6,
  };
}

beforeAll(async () => {
  assertPreflight();
  await createNamespace(FABRIC);
  await nsRun(FABRIC, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
  await nsRun(FABRIC, 'ip', ['link', 'set', 'br0', 'up']);
  for (const index of [...CHECKERS, ...TARGETS]) {
    await createNamespace(ns(index));
    await run('ip', [
      '-n',
      FABRIC,
      'link',
      'add',
      `port${index}`,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      ns(index),
    ]);
    await run('ip', ['-n', FABRIC, 'link', 'set', `port${index}`, 'master', 'br0', 'up']);
    const a = address(index);
    for (const cidr of [`${a.node4}/24`, `${a.pod4}/24`])
      await run('ip', ['-n', ns(index), 'addr', 'add', cidr, 'dev', 'eth0']);
    for (const cidr of [`${a.node6}/64`, `${a.pod6}/64`])
      await run('ip', ['-n', ns(index), 'addr', 'add', cidr, 'dev', 'eth0', 'nodad']);
    // Static IPv6 addresses are flushed when a link goes down unless told otherwise: whatever
    // happens to the link in a fault, the node must find its addresses back afterwards.
    await nsRun(ns(index), 'sysctl', ['-qw', 'net.ipv6.conf.eth0.keep_addr_on_down=1']);
    await run('ip', ['-n', ns(index), 'link', 'set', 'eth0', 'up']);
  }
  for (const index of TARGETS) {
    const a = address(index);
    const child = start(index, 'target.ts', [`${a.pod4},${a.pod6}`, `${a.node4},${a.node6}`]);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`target in ${ns(index)} exited ${code}`)));
    });
  }
  const neighbours = JSON.stringify(TARGETS.map(neighbour));
  for (const index of CHECKERS) {
    const child = start(index, 'checker.ts', [`kubenurse-${index}`, neighbours]);
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines)
        if (line.trim())
          latest.set(
            index,
            JSON.parse(line) as { verdicts: Record<string, string>; alive: unknown },
          );
    });
  }
  await expectLayers('healthy at start', {});
}, 60_000);

afterAll(() => {
  for (const child of children)
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
  for (const index of [...CHECKERS, ...TARGETS]) deleteNamespaceSync(ns(index));
  deleteNamespaceSync(FABRIC);
});

/**
 * Waits until every checker's newest round names, for every target, the layer in `expected`
 * (checker → node → layer; anything not listed must be "none"). Also checks /alive's key agrees.
 */
async function expectLayers(
  what: string,
  expected: Record<number, Record<string, string>>,
): Promise<void> {
  await waitFor(what, VERDICT_WAIT_MS, () => {
    const wrong: string[] = [];
    for (const checker of CHECKERS) {
      const round = latest.get(checker);
      for (const target of TARGETS) {
        const node = `node-${target}`;
        const want = expected[checker]?.[node] ?? 'none';
        const got = round?.verdicts[node];
        const alive = (round?.alive as { neighbour_verdicts?: Record<string, { layer: string }> })
          ?.neighbour_verdicts?.[node]?.layer;
        if (got !== want || alive !== want)
          wrong.push(
            `node-${checker} → ${node}: ${got ?? 'no round'} (alive ${alive}), want ${want}`,
          );
      }
    }
    return Promise.resolve(wrong.length === 0 ? true : wrong.join('; '));
  });
}

const both = (node: string, layer: string) => ({ 1: { [node]: layer }, 4: { [node]: layer } });

async function rules(index: number, tool: 'iptables' | 'ip6tables', ...rulesArgs: string[][]) {
  for (const args of rulesArgs) await nsRun(ns(index), tool, args);
}

async function flush(index: number): Promise<void> {
  for (const tool of ['iptables', 'ip6tables']) {
    await nsRun(ns(index), tool, ['-F', 'INPUT']);
    await nsRun(ns(index), tool, ['-F', 'OUTPUT']);
  }
}

describe('layer verdicts on a real dual-stack network', () => {
  it('CNI only: node-2 drops its pod addresses, its node addresses answer → pod_network, then none', async () => {
    const a = address(2);
    await rules(2, 'iptables', ['-I', 'INPUT', '-d', a.pod4, '-j', 'DROP']);
    await rules(2, 'ip6tables', ['-I', 'INPUT', '-d', a.pod6, '-j', 'DROP']);
    await expectLayers(
      'both checkers blame the pod network of node-2',
      both('node-2', 'pod_network'),
    );
    await flush(2);
    await expectLayers('healthy after the CNI fault', {});
  }, 60_000);

  it('node down: node-2 drops everything → node_network, then none', async () => {
    await rules(2, 'iptables', ['-I', 'INPUT', '-j', 'DROP']);
    await rules(2, 'ip6tables', ['-I', 'INPUT', '-j', 'DROP']);
    await expectLayers(
      'both checkers blame node-2 or its underlay',
      both('node-2', 'node_network'),
    );
    await flush(2);
    await expectLayers('healthy after node-2 is back', {});
  }, 60_000);

  it("underlay only: node-3's switch port goes down → node_network, then none", async () => {
    // The switch port goes down: node-3 loses carrier, its own configuration stays.
    await run('ip', ['-n', FABRIC, 'link', 'set', 'port3', 'down']);
    await expectLayers(
      'both checkers blame node-3 or its underlay',
      both('node-3', 'node_network'),
    );
    await run('ip', ['-n', FABRIC, 'link', 'set', 'port3', 'up']);
    await expectLayers('healthy after the link is back', {});
  }, 60_000);

  it('IPv6 only: node-2 drops IPv6 on both layers → ipv6, then none', async () => {
    await rules(2, 'ip6tables', ['-I', 'INPUT', '-j', 'DROP']);
    await expectLayers('both checkers blame IPv6 to node-2', both('node-2', 'ipv6'));
    await flush(2);
    await expectLayers('healthy after IPv6 is back', {});
  }, 60_000);

  it('single pair: node-1 cannot reach node-3, node-4 can → only node-1 blames node-3', async () => {
    const a = address(3);
    for (const target of [a.node4, a.pod4])
      await rules(1, 'iptables', ['-I', 'OUTPUT', '-d', target, '-j', 'DROP']);
    for (const target of [a.node6, a.pod6])
      await rules(1, 'ip6tables', ['-I', 'OUTPUT', '-d', target, '-j', 'DROP']);
    await expectLayers('node-1 blames node-3, node-4 does not', {
      1: { 'node-3': 'node_network' },
    });
    await flush(1);
    await expectLayers('healthy after the pair is repaired', {});
  }, 60_000);
});
