// Rules of the source tree that keep src/ what ships and each concern in one place:
// src/ imports nothing outside src/, only src/metrics.ts defines metrics, and
// docs/architecture.md names every module (so a reader can find each concern from it).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every module specifier of static imports, re-exports and dynamic import() calls. */
function specifiers(text: string): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const match of text.matchAll(
    /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm,
  ))
    found.push({ specifier: match[3] as string, typeOnly: match[2] !== undefined });
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push({ specifier: match[1] as string, typeOnly: false });
  return found;
}

describe('source layout', () => {
  it('finds the imports of src/ (the scan below is not vacuous)', () => {
    const all = sourceFiles().flatMap((file) => specifiers(readFileSync(file, 'utf8')));
    expect(all.some(({ specifier }) => specifier === './metrics.ts')).toBe(true);
    expect(all.some(({ specifier }) => specifier === './neighbours/index.ts')).toBe(true);
    expect(all.some(({ specifier }) => specifier === 'prom-client')).toBe(true);
  });

  it('src/ imports nothing from outside src/ (dev/, test/ and bench/ are not shipped)', () => {
    const outside: string[] = [];
    for (const file of sourceFiles()) {
      for (const { specifier } of specifiers(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = resolve(dirname(file), specifier);
        if (relative(SRC, target).startsWith('..'))
          outside.push(`${relative(ROOT, file)} imports ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('only src/metrics.ts defines metrics (other modules import prom-client for types only)', () => {
    const definers: string[] = [];
    for (const file of sourceFiles()) {
      if (file === join(SRC, 'metrics.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const { specifier, typeOnly } of specifiers(text))
        if (specifier === 'prom-client' && !typeOnly) definers.push(relative(ROOT, file));
      if (/\bnew\s+(Gauge|Counter|Histogram|Summary)\s*[(<]/.test(text))
        definers.push(relative(ROOT, file));
    }
    expect(definers).toEqual([]);
  });

  it('docs/architecture.md names every file of src/ (top-level by path, others next to their folder)', () => {
    const lines = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8').split('\n');
    const unnamed = readdirSync(SRC, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(SRC, join(entry.parentPath, entry.name)))
      .filter((path) => {
        const folder = dirname(path).split('/')[0] as string;
        const name = path.split('/').pop() as string;
        return !lines.some((line) =>
          folder === '.'
            ? line.includes(`src/${path}`)
            : line.includes(`src/${folder}/`) && line.includes(name),
        );
      });
    expect(unnamed).toEqual([]);
  });
});
