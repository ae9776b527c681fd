// The status page in a real browser: Debian's chromium, driven headless by playwright-core,
// against `npm run demo` (4 probers on 127.0.0.2–5). The matrix must turn all green, then show
// red cells for an injected partition, and green again once it is healed. Screenshots go to
// test-artifacts/. This file starts the demo, which owns 127.0.0.2–127.0.0.25: nothing else
// may run a demo at the same time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCommand } from '../../scripts/preflight/components.ts';
import { errorMessage } from '../../src/error-text.ts';
import { readUntil } from '../support/eventually.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const STATUS_PAGE = 'http://127.0.0.2:8080/';
const CONTROL_API = 'http://127.0.0.13:8080/api/faults';
const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let demo: ChildProcess | undefined;
let demoOutput = '';
let demoExit: Promise<number | null> | undefined;
let context: BrowserContext | undefined;
let page: Page;
let userDataDir: string | undefined;

async function setFault(spec: string, active: boolean): Promise<void> {
  const response = await fetch(CONTROL_API, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec, active }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(((await response.json()) as { active: boolean }).active).toBe(active);
}

/** The little of the DOM these tests read inside the page (the project has no DOM types). */
interface PageElement {
  getAttribute(name: string): string | null;
  readonly ownerDocument: {
    readonly defaultView: {
      getComputedStyle(element: PageElement): { backgroundColor: string };
    } | null;
  };
}

/** The state of every path cell: "from>to" → ok | error | none | unreachable. */
async function pathStates(): Promise<Record<string, string>> {
  // No DOM types in this project's tsconfig: read attributes through playwright's element handles.
  const cells = await page
    .locator('#matrix td[data-from][data-to]')
    .evaluateAll((tds: PageElement[]) =>
      tds.map((td) => [
        td.getAttribute('data-from'),
        td.getAttribute('data-to'),
        td.getAttribute('data-state'),
      ]),
    );
  const out: Record<string, string> = {};
  for (const [from, to, state] of cells)
    if (from !== to && NODES.includes(to ?? '')) out[`${from}>${to}`] = state ?? '';
  return out;
}

async function waitForPaths(
  predicate: (states: Record<string, string>) => boolean,
  what: string,
  timeoutMs = 45_000,
): Promise<Record<string, string>> {
  return readUntil(pathStates, predicate, timeoutMs, 250).catch((error: unknown) => {
    throw new Error(
      `status page: ${what} not seen within ${timeoutMs / 1000} s (${errorMessage(error)})\ndemo output:\n${demoOutput}`,
    );
  });
}

/** Waits until the cell from → to names `layer` (docs/layers.md: data-layer on path cells). */
async function waitForLayer(from: string, to: string, layer: string, timeoutMs = 45_000) {
  const cell = page.locator(`#matrix td[data-from="${from}"][data-to="${to}"]`);
  await readUntil(
    () => cell.getAttribute('data-layer'),
    (seen) => seen === layer,
    timeoutMs,
    250,
  ).catch((error: unknown) => {
    throw new Error(
      `status page: ${from} → ${to} never showed layer ${layer} (${errorMessage(error)})`,
    );
  });
}

const allPairs = NODES.flatMap((from) =>
  NODES.filter((to) => to !== from).map((to) => `${from}>${to}`),
);

beforeAll(async () => {
  const chromiumPath = requireCommand('chromium');
  mkdirSync(ARTIFACTS, { recursive: true });
  const logDir = mkdtempSync(join(tmpdir(), 'kubenurse-demo-test-'));
  demo = spawn(process.execPath, [join(ROOT, 'dev', 'demo', 'main.ts'), '--dir', logDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout?.on('data', (chunk: Buffer) => (demoOutput += chunk.toString()));
  demo.stderr?.on('data', (chunk: Buffer) => (demoOutput += chunk.toString()));
  const child = demo;
  demoExit = new Promise((done) => child.once('exit', (code) => done(code)));
  // Until it says it is up, or exits (waiting longer cannot help then).
  await readUntil(
    () =>
      Promise.resolve(child.exitCode === null && !demoOutput.includes('Ctrl-C stops everything')),
    (starting) => !starting,
    60_000,
    100,
  ).catch(() => {
    throw new Error(`the demo did not come up within 60 s:\n${demoOutput}`);
  });
  if (child.exitCode !== null)
    throw new Error(`the demo exited (${child.exitCode}):\n${demoOutput}`);

  userDataDir = mkdtempSync(join(tmpdir(), 'kubenurse-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 90_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (demo && demo.exitCode === null) {
    demo.kill('SIGINT');
    const code = await Promise.race([
      demoExit,
      new Promise<string>((done) => setTimeout(() => done('timeout'), 20_000)),
    ]);
    if (code === 'timeout') demo.kill('SIGKILL');
    expect(code, demoOutput).toBe(0);
  }
  // Every prober the demo started is gone with it.
  await expect(fetch(STATUS_PAGE, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
}, 60_000);

describe('status page (chromium against npm run demo)', () => {
  it('serves the page at / to a browser and shows all 4 nodes green', async () => {
    const response = await page.goto(STATUS_PAGE);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toContain('text/html');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });

    const states = await waitForPaths(
      (s) => allPairs.every((pair) => s[pair] === 'ok'),
      'all 12 paths ok',
    );
    expect(Object.keys(states).sort()).toEqual([...allPairs].sort());
    const rows = await page
      .locator('#matrix tbody tr')
      .evaluateAll((trs: PageElement[]) => trs.map((tr) => tr.getAttribute('data-node')));
    expect(rows).toEqual(NODES);
    // The latency is shown in the cell, with a colour from the scale, not red.
    const cell = page.locator('#matrix td[data-from="node-2"][data-to="node-3"]');
    expect(await cell.textContent()).toMatch(/^\d+(\.\d)?$/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-green.png'), fullPage: true });
  }, 90_000);

  it('turns node-2 ⟷ node-3 red after a partition, with the error on hover, and green after healing', async () => {
    await setFault('partition:node-2,node-3', true);
    const broken = await waitForPaths(
      (s) => s['node-2>node-3'] === 'error' && s['node-3>node-2'] === 'error',
      'the partition (red cells)',
    );
    // Only the cut pair fails.
    for (const pair of allPairs)
      if (pair !== 'node-2>node-3' && pair !== 'node-3>node-2')
        expect(broken[pair], pair).toBe('ok');
    const red = page.locator('#matrix td[data-from="node-2"][data-to="node-3"]');
    expect(await red.getAttribute('title')).toMatch(/node-2 → node-3: FAILED/);
    // The demo's partition cuts the link, pod and node network: the cell names that layer.
    await waitForLayer('node-2', 'node-3', 'node_network');
    expect(await red.textContent()).toBe('node');
    expect(await red.getAttribute('title')).toMatch(/layer: node or underlay/);
    expect(
      await red.evaluate(
        (td: PageElement) => td.ownerDocument.defaultView?.getComputedStyle(td).backgroundColor,
      ),
    ).toBe('rgb(217, 45, 32)');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-partition.png'), fullPage: true });

    await setFault('partition:node-2,node-3', false);
    await waitForPaths(
      (s) => allPairs.every((pair) => s[pair] === 'ok'),
      'all paths ok again after healing',
    );
    // node-2's own page remembers the failure of its path to node-3, although it is ok again.
    await page.goto('http://127.0.0.3:8080/');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    const row = page.locator('#checks tbody tr[data-type="path_node-3"]');
    expect(await row.getAttribute('data-state')).toBe('ok');
    expect(await row.locator('td.message').textContent()).toMatch(/ago/);
    expect(await row.locator('td.message').textContent()).not.toMatch(/^none$/);
  }, 120_000);

  it('names the broken layer: the CNI of node-2 (its node network still answers), then healthy again', async () => {
    await page.goto(STATUS_PAGE);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    await setFault('cni:node-2', true);
    const toNode2 = NODES.filter((n) => n !== 'node-2').map((n) => `${n}>node-2`);
    await waitForPaths((s) => toNode2.every((pair) => s[pair] === 'error'), 'cells to node-2 red');
    for (const from of ['node-1', 'node-3', 'node-4'])
      await waitForLayer(from, 'node-2', 'pod_network');
    const cell = page.locator('#matrix td[data-from="node-1"][data-to="node-2"]');
    expect(await cell.textContent()).toBe('CNI');
    expect(await cell.getAttribute('title')).toMatch(
      /layer: pod network \(CNI \/ overlay\)[^\n]*\nipv4: pod path down, node path up/,
    );
    // Not the red of an unreachable node: the colour says "pod network".
    expect(
      await cell.evaluate(
        (td: PageElement) => td.ownerDocument.defaultView?.getComputedStyle(td).backgroundColor,
      ),
    ).toBe('rgb(217, 72, 15)');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-cni.png'), fullPage: true });

    await setFault('cni:node-2', false);
    await waitForPaths(
      (s) => allPairs.every((pair) => s[pair] === 'ok'),
      'all paths ok again after healing the CNI',
    );
    await waitForLayer('node-1', 'node-2', 'none');
  }, 120_000);
});
