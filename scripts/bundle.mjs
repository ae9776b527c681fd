// Production bundle: self-contained ESM, so the runtime image needs no node_modules, and the
// process loads only the code it uses: code size is RSS (every MB of bundled code cost ~10 MiB
// in a prober, see BENCHMARKS.md 2b). With code splitting, whatever is only imported
// dynamically (client-node's KubeConfig for KUBECONFIG, the kube-proxy monitor, …) is a chunk
// of its own that a prober never reads unless it needs it. Chunks sit next to the entries, so
// new URL('./static/', import.meta.url) means dist/static/ in every one of them.
//
// Usage: node scripts/bundle.mjs [--outdir DIR] [--entry src/x.ts ...]
//   --outdir  where to write (default dist/); tests bundle into a temporary directory.
//   --entry   bundle these entries instead of ENTRY_POINTS (local experiments only).
import { build } from 'esbuild';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Every program we ship: src/<name>.ts becomes dist/<name>.js. The Dockerfile runs dist/main.js. */
export const ENTRY_POINTS = ['src/main.ts', 'src/cli.ts'];
export const DEFAULT_OUTDIR = 'dist';
/**
 * Files the bundle reads at run time, copied next to it: the status page resolves
 * new URL('./static/', import.meta.url), i.e. src/status/static/ from source, dist/static/ bundled.
 */
export const STATIC_ASSETS = [{ from: 'src/status/static', to: 'static' }];

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Some CommonJS dependencies call require() for Node built-ins at run time; an ESM bundle has
// no require, so recreate one. The alias avoids clashing with identifiers inside the bundle.
const BANNER = [
  "import { createRequire as __kubenurseCreateRequire } from 'node:module';",
  'const require = __kubenurseCreateRequire(import.meta.url);',
].join('\n');

/**
 * Code the prober provably never runs, replaced by stubs at bundle time. express 5 requires
 * body-parser for express.json()/urlencoded()/raw()/text(), which pull in iconv-lite (every
 * legacy charset table, ~480 KB) and raw-body; the prober reads no request body on any route
 * (GET only). The stub throws if anyone starts using a body parser, and
 * test/deploy/bundle-stubs.test.ts serves every route from the bundle and checks src/ uses none.
 */
export const STUBBED_MODULES = { 'body-parser': 'scripts/stubs/body-parser.cjs' };

const stubPlugin = {
  name: 'kubenurse-stubs',
  setup(build) {
    const names = Object.keys(STUBBED_MODULES).map((name) =>
      name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({
      path: join(projectRoot, STUBBED_MODULES[args.path]),
    }));
  },
};

/**
 * Node built-ins reach the bundle through require(), never through an ESM import. For an ESM
 * import Node builds the built-in's module namespace, which reads every export — node:http's
 * lazy WebSocket, CloseEvent and MessageEvent getters too, and those load Node's internal copy
 * of undici (745 KiB of source, compiled at load): +13 MiB RSS in an idle process, from one
 * `import { STATUS_CODES } from 'node:http'` (BENCHMARKS.md 2b). require() hands back the
 * exports object and leaves lazy getters alone; esbuild's interop reads each export only when
 * the code uses it. Bundled CommonJS dependencies already require() their built-ins.
 */
const builtinsViaRequirePlugin = {
  name: 'kubenurse-builtins-via-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) =>
      args.kind === 'import-statement' && isBuiltin(args.path)
        ? { path: args.path, namespace: 'builtin-via-require' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin-via-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** Shared and dynamically imported code: CHUNK_PREFIX<hash>.js next to the entries. */
const CHUNK_PREFIX = 'chunk-';

export async function bundle({ entryPoints = ENTRY_POINTS, outdir = DEFAULT_OUTDIR } = {}) {
  // Chunk names change with their content; drop the previous build's so dist/ holds one build.
  const target = resolve(projectRoot, outdir);
  if (existsSync(target)) {
    for (const name of readdirSync(target))
      if (name.startsWith(CHUNK_PREFIX)) rmSync(join(target, name));
  }
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints,
    outdir,
    outbase: 'src',
    outExtension: { '.js': '.js' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    splitting: true,
    chunkNames: `${CHUNK_PREFIX}[hash]`,
    minify: true,
    sourcemap: 'external',
    // No keepNames: it wraps every function and class in a naming helper and cost ~10 MiB of
    // RSS (98 vs 88 MiB measured). Custom error classes then log a minified `type`; their
    // messages are unchanged, and main.js.map maps stack traces back to the source.
    keepNames: false,
    legalComments: 'linked',
    banner: { js: BANNER },
    metafile: true,
    plugins: [stubPlugin, builtinsViaRequirePlugin],
    // undici checks this global to know it is bundled the way Node.js core bundles it: then
    // it uses llhttp only and leaves out its experimental Milo parser (two WebAssembly
    // builds, ~150 KB), as in Node's own fetch. Side effect: undici's fetch (client-node's
    // watch) sends user-agent "node" instead of "undici".
    define: { esbuildDetection: 'true' },
    logLevel: 'warning',
  });
  for (const { from, to } of STATIC_ASSETS) {
    const source = join(projectRoot, from);
    if (!existsSync(source))
      throw new Error(
        `static assets ${from} not found (listed in STATIC_ASSETS of scripts/bundle.mjs)`,
      );
    cpSync(source, resolve(projectRoot, outdir, to), { recursive: true });
  }
  return result;
}

function isMain() {
  return (
    process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
  );
}

if (isMain()) {
  const { values } = parseArgs({
    options: {
      outdir: { type: 'string', default: DEFAULT_OUTDIR },
      entry: { type: 'string', multiple: true },
    },
  });
  const result = await bundle({ entryPoints: values.entry ?? ENTRY_POINTS, outdir: values.outdir });
  for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.js')) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KiB`);
  }
}
