// The status page's own rendering against hostile data, in Chromium: markup in every text the
// cluster can supply (node names, check types, messages, kube-proxy fields) stays text and
// runs nothing, even without the CSP the prober sends; names such as `constructor` and
// `__proto__` are ordinary columns; the server's "… N more" markers are shown. The page files
// are served as they ship, with a crafted status.json, on 127.0.9.30.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCommand } from '../../scripts/preflight/components.ts';
import { STATIC_DIR } from '../../src/status/index.ts';

const HOST = '127.0.9.30';
const XSS = '<img src=x onerror="window.pwned=1">';
const SCRIPT = '<script>window.pwned=1</script>';
const now = new Date().toISOString();
const cell = (status: string, message: string | null = null) => ({
  status,
  durationMs: 1,
  event: status === 'error' ? `<i>e</i>` : null,
  message,
});
// Raw JSON text, so that "__proto__" is a key of its own as a peer would send it.
const STATUS = `{
  "kind": "kubenurse-ts-status", "version": 1, "node": ${JSON.stringify(XSS)}, "pod": "p",
  "hostname": "h", "generatedAt": "${now}", "round": null, "refreshMs": 60000,
  "checks": [{"type": ${JSON.stringify(XSS)}, "status": "error", "durationMs": 1, "phases": null,
    "event": ${JSON.stringify(SCRIPT)}, "message": ${JSON.stringify(XSS)}, "lastError": null}],
  "moreChecks": 5, "neighbourhoodState": "ok", "neighbourhood": [], "moreNeighbours": 0,
  "kubeProxy": {${JSON.stringify(XSS)}: ${JSON.stringify(SCRIPT)}},
  "cluster": {
    "generatedAt": "${now}", "nodes": [${JSON.stringify(XSS)}, "node-b"],
    "checkTypes": ["__proto__", "constructor"], "hiddenColumns": {"nodes": 3, "checks": 4},
    "truncated": null,
    "rows": [
      {"node": ${JSON.stringify(XSS)}, "pod": "p", "podIP": null, "source": "self", "error": null,
       "paths": {"node-b": ${JSON.stringify(cell('error', SCRIPT))}},
       "checks": {"__proto__": ${JSON.stringify(cell('ok'))}}, "more": 7},
      {"node": "node-b", "pod": "q", "podIP": "10.0.0.2", "source": "status", "error": null,
       "paths": {}, "checks": {"constructor": ${JSON.stringify(cell('error', XSS))}}, "more": 0}
    ]
  }
}`;

let server: Server;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let page: Page;

beforeAll(async () => {
  const chromiumPath = requireCommand('chromium');
  const files: Record<string, [string, string]> = {
    '/': ['text/html', readFileSync(join(STATIC_DIR, 'index.html'), 'utf8')],
    '/status/status.js': ['text/javascript', readFileSync(join(STATIC_DIR, 'status.js'), 'utf8')],
    '/status/status.css': ['text/css', readFileSync(join(STATIC_DIR, 'status.css'), 'utf8')],
    '/status.json': ['application/json', STATUS],
  };
  // No CSP here on purpose: the rendering itself must never turn data into markup.
  server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file) res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  userDataDir = mkdtempSync(join(tmpdir(), 'kubenurse-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://${HOST}:${(server.address() as AddressInfo).port}/`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
  expect(errors).toEqual([]);
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  server?.close();
});

describe('status page with hostile data (chromium)', () => {
  it('shows markup from the cluster as text and runs none of it', async () => {
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img, script:not([src])').count()).toBe(0);
    expect(await page.locator('#identity').textContent()).toContain(XSS);
    expect(await page.locator('#matrix tbody tr').first().getAttribute('data-node')).toBe(XSS);
    expect(await page.locator('#checks tbody').textContent()).toContain(XSS);
    expect(await page.locator('#kube-proxy').textContent()).toContain(SCRIPT);
  });

  it('treats __proto__ and constructor as ordinary columns', async () => {
    const state = (from: string, to: string) =>
      page.locator(`#matrix td[data-from="${from}"][data-to="${to}"]`).getAttribute('data-state');
    expect(await state('node-b', 'constructor')).toBe('error');
    expect(await state('node-b', '__proto__')).toBe('none');
    expect(await page.locator('#matrix thead th').allTextContents()).toEqual(
      expect.arrayContaining(['__proto__', 'constructor']),
    );
  });

  it('shows the server\'s "… N more" markers', async () => {
    expect(await page.locator('#matrix td.more').allTextContents()).toEqual(['… 7 more', '']);
    expect(await page.locator('#truncated').textContent()).toContain(
      '3 more node columns and 4 more check columns',
    );
    expect(await page.locator('#checks tbody').textContent()).toContain('… 5 more checks');
  });
});
