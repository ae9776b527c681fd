// scripts/bundle.mjs replaces modules the prober never runs with stubs (STUBBED_MODULES).
// That is only safe while it stays true, so: src/ installs no body parser, the stubbed code is
// really gone from the bundle, and the bundled prober serves every one of its routes
// (127.0.6.40 belongs to this file).
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUBBED_MODULES, bundle } from '../../scripts/bundle.mjs';
import { ROUTES } from '../../src/server.ts';
import { ASSET_PREFIX, PAGE_PATH, STATUS_PATH } from '../../src/status/index.ts';
import { eventually } from '../support/eventually.ts';
import {
  QUIET_PROBER_ENV,
  startProber,
  type ProberProcess,
} from '../../dev/process/prober-process.ts';
import { ROOT } from './support.ts';

const HOST = '127.0.6.40';
const PORT = 18_640;
const BASE = `http://${HOST}:${PORT}`;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('stubbed modules are never reached', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'kubenurse-stubs-'));
  let inputs: string[] = [];
  let prober: ProberProcess | undefined;

  beforeAll(async () => {
    const result = await bundle({ outdir: relative(ROOT, outdir) });
    inputs = Object.keys(result.metafile.inputs);
    prober = startProber(
      { ...QUIET_PROBER_ENV, KUBENURSE_BIND_ADDRESS: HOST, KUBENURSE_PORT: String(PORT) },
      { entry: join(outdir, 'main.js') },
    );
    // /ready first, then /alive: it answers 500 until the first round has finished.
    for (const route of [ROUTES.ready, ROUTES.alive])
      await eventually(
        async () => expect((await fetch(`${BASE}${route}`)).status).toBe(200),
        30_000,
        100,
      );
  }, 120_000);

  afterAll(async () => {
    await prober?.stop();
  });

  it('src/ installs no express body parser (the only users of body-parser)', () => {
    for (const file of sourceFiles('src')) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(
        /\bexpress\.(json|urlencoded|raw|text)\s*\(|['"]body-parser['"]|\bbodyParser\b/,
      );
    }
  });

  it('the bundle contains the stubs instead of the modules (iconv-lite is gone)', () => {
    for (const [name, stub] of Object.entries(STUBBED_MODULES)) {
      expect(inputs, name).toContain(stub);
      expect(
        inputs.filter((input) => input.includes(`node_modules/${name}/`)),
        name,
      ).toEqual([]);
    }
    expect(inputs.filter((input) => input.includes('node_modules/iconv-lite/'))).toEqual([]);
  });

  it('the bundled prober serves every route, a request body changes nothing, and no stub is hit', async () => {
    const routes = [
      ...Object.values(ROUTES),
      PAGE_PATH,
      `${ASSET_PREFIX}status.css`,
      `${ASSET_PREFIX}status.js`,
      STATUS_PATH,
      `${STATUS_PATH}?view=self`,
    ];
    for (const route of routes) {
      const response = await fetch(`${BASE}${route}`);
      expect(response.status, `${route}: ${await response.text()}`).toBe(200);
    }
    const page = await fetch(`${BASE}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    // Bodies of any type are ignored, never parsed: kubenurse's routes answer every method.
    const withBody = await fetch(`${BASE}${ROUTES.alive}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=koi8-r' },
      body: '{"a":1}',
    });
    expect(withBody.status).toBe(200);
    await withBody.text();
    expect(prober?.output()).not.toMatch(/not in the kubenurse-ts bundle|stubbed out/);
  });
});
