// The image, checked without a Docker engine: the Dockerfile read statically, then its build
// stage replayed on a copy of exactly the build context it would see, and the entrypoint of
// the runtime stage started from that output with no node_modules anywhere above it.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTDIR, ENTRY_POINTS, STATIC_ASSETS, bundle } from '../../scripts/bundle.mjs';
import { parseConfig } from '../../src/config.ts';
import { ROUTES } from '../../src/server.ts';
import { readUntil } from '../support/eventually.ts';
import { ROOT } from './support.ts';
import {
  dockerignorePatterns,
  imageTag,
  keptByDockerignore,
  parseCopy,
  parseDockerfile,
  stages,
  type Stage,
} from './dockerfile.ts';

const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const allStages = stages(instructions);
const buildStage = allStages[0] as Stage;
const runtimeStage = allStages.at(-1) as Stage;
const ignore = dockerignorePatterns(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

function only(stage: Stage, keyword: string): string[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.args);
}

function workdir(stage: Stage): string {
  return only(stage, 'WORKDIR').at(-1) ?? '/';
}

/** Files of the repository under `source` (a file or a directory), relative to the root. */
function repoFiles(source: string): string[] {
  const path = join(ROOT, source);
  if (!existsSync(path)) return [];
  if (!readdirSync(dirname(path)).includes(posix.basename(source.replace(/\/$/, '')))) return [];
  try {
    return readdirSync(path, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
  } catch {
    return [source];
  }
}

/** The runtime stage's entrypoint script, as an absolute path inside the image. */
function entrypointScript(): { argv: string[]; script: string } {
  const entrypoint = only(runtimeStage, 'ENTRYPOINT').at(-1) ?? '';
  const argv = JSON.parse(entrypoint) as string[];
  const script = argv.find((arg) => arg.endsWith('.js')) as string;
  return {
    argv,
    script: posix.isAbsolute(script) ? script : posix.join(workdir(runtimeStage), script),
  };
}

describe('Dockerfile (static)', () => {
  it('builds in one stage and runs in another', () => {
    expect(allStages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
  });

  it('pins every base image by a version tag (never latest, never untagged)', () => {
    for (const stage of allStages) {
      const { tag, digest } = imageTag(stage.image);
      expect(tag !== undefined || digest, `${stage.image} is untagged`).toBe(true);
      expect(tag, stage.image).not.toBe('latest');
    }
    // Node 24 in both: a full image to build, a minimal one to run.
    expect(buildStage.image).toMatch(/^node:24(\.\d+){0,2}(-[a-z]+)?$/);
    expect(runtimeStage.image).toMatch(
      /^(gcr\.io\/distroless\/nodejs24-debian\d+|node:24(\.\d+){0,2}-(bookworm-|trixie-)?slim)[:@]/,
    );
  });

  it('build stage installs from the lockfile and runs npm run build', () => {
    const runs = only(buildStage, 'RUN').join('\n');
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(runs).toMatch(/\bnpm run build\b/);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    for (const stage of allStages) {
      for (const args of only(stage, 'COPY')) {
        const copy = parseCopy(args);
        if (copy.from !== undefined) continue;
        for (const source of copy.sources) {
          const files = repoFiles(source);
          expect(files.length, `COPY ${source}: not in the repository`).toBeGreaterThan(0);
          for (const file of files)
            expect(
              keptByDockerignore(file, ignore),
              `COPY ${source}: ${file} is excluded by .dockerignore`,
            ).toBe(true);
        }
      }
    }
  });

  it('keeps secrets, dependencies and build output out of the context', () => {
    for (const path of [
      'node_modules/express/package.json',
      'dist/main.js',
      '.git/config',
      'test/deploy/support.ts',
      '.env',
      'examples/daemonset.yaml',
    ]) {
      expect(keptByDockerignore(path, ignore), path).toBe(false);
    }
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'src/main.ts',
      'src/status/static/index.html',
      'scripts/bundle.mjs',
    ]) {
      expect(keptByDockerignore(path, ignore), path).toBe(true);
    }
  });

  it('runtime stage takes only the bundle from the build stage: no node_modules, no npm', () => {
    expect(only(runtimeStage, 'RUN')).toEqual([]);
    const copies = only(runtimeStage, 'COPY').map(parseCopy);
    expect(copies).toHaveLength(1);
    for (const copy of copies) {
      expect(copy.from).toBe(buildStage.name);
      for (const source of copy.sources) {
        expect(
          posix.relative(workdir(buildStage), posix.resolve(workdir(buildStage), source)),
        ).toMatch(new RegExp(`^${DEFAULT_OUTDIR}(/|$)`));
      }
    }
  });

  it('runs as a numeric, non-root user', () => {
    const user = only(runtimeStage, 'USER').at(-1);
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user?.split(':')[0])).toBeGreaterThan(0);
  });

  it('exposes the HTTP port the prober listens on, and the TLS port', () => {
    const config = parseConfig({});
    const ports = only(runtimeStage, 'EXPOSE')
      .flatMap((args) => args.split(/\s+/))
      .map((port) => Number(port.split('/')[0]));
    expect(ports).toContain(config.port);
    expect(ports).toContain(config.tlsPort);
  });

  it('starts node directly in exec form (SIGTERM reaches the prober), on what npm run build produces', () => {
    const { argv, script } = entrypointScript();
    expect(only(runtimeStage, 'CMD')).toEqual([]);
    expect(posix.basename(argv[0] as string)).toBe('node');
    expect(argv.join(' ')).not.toMatch(/\b(sh|bash|npm|npx)\b/);
    // scripts/bundle.mjs turns src/<name>.ts into <outdir>/<name>.js; the image copies <outdir>.
    const produced = ENTRY_POINTS.map((entry) =>
      posix.join(DEFAULT_OUTDIR, `${posix.relative('src', entry).replace(/\.ts$/, '.js')}`),
    );
    const dist = parseCopy(only(runtimeStage, 'COPY')[0] as string);
    const inImage = produced.map((file) =>
      posix.join(dist.destination, posix.relative(DEFAULT_OUTDIR, file)),
    );
    expect(inImage).toContain(script);
  });
});

describe('image build replayed without Docker', () => {
  const context = mkdtempSync(join(tmpdir(), 'kubenurse-image-'));
  let child: ReturnType<typeof spawn> | undefined;

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it("the bundle imports nothing but Node built-ins at run time (and ws's optional native add-ons)", async () => {
    const outdir = join(context, 'metafile-check');
    const result = await bundle({ outdir: relative(ROOT, outdir) });
    const external = Object.values(result.metafile.outputs).flatMap((output) =>
      output.imports.filter((entry) => entry.external).map((entry) => entry.path),
    );
    // ws (via client-node) tries require('bufferutil') / require('utf-8-validate') inside
    // try/catch and falls back to JavaScript; the run below proves the bundle starts without them.
    const optional = new Set(['bufferutil', 'utf-8-validate']);
    expect(external.filter((path) => !isBuiltin(path) && !optional.has(path))).toEqual([]);
  });

  it('the build stage succeeds on exactly its COPY sources, and its entrypoint serves and stops on SIGTERM with no node_modules', async () => {
    // 1. The build context the build stage sees: its COPY sources, filtered by .dockerignore.
    const app = join(context, 'app');
    mkdirSync(app);
    for (const args of only(buildStage, 'COPY')) {
      for (const source of parseCopy(args).sources) {
        for (const file of repoFiles(source).filter((f) => keptByDockerignore(f, ignore))) {
          mkdirSync(dirname(join(app, file)), { recursive: true });
          cpSync(join(ROOT, file), join(app, file));
        }
      }
    }
    // npm ci would install the lockfile's packages; the repository's are the same ones.
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    const npm = spawnSync('npm', ['run', 'build'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
    });
    expect(npm.status, `${npm.stdout}${npm.stderr}`).toBe(0);

    // 2. The runtime stage: only the copied build output, far from any node_modules.
    const image = join(context, 'image');
    for (const args of only(runtimeStage, 'COPY')) {
      const copy = parseCopy(args);
      for (const source of copy.sources)
        cpSync(
          join(
            app,
            posix.relative(workdir(buildStage), posix.resolve(workdir(buildStage), source)),
          ),
          join(image, copy.destination),
          { recursive: true },
        );
    }
    const { script } = entrypointScript();
    expect(existsSync(join(image, script)), `${script} missing from the image`).toBe(true);
    for (const { to } of STATIC_ASSETS)
      expect(existsSync(join(image, posix.dirname(script), to)), `${to}/ next to the bundle`).toBe(
        true,
      );

    // 3. Start it like the container would (node + script), on loopback.
    const port = 18090;
    const base = `http://127.0.4.10:${port}`;
    child = spawn(process.execPath, [join(image, script)], {
      cwd: image,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        KUBENURSE_BIND_ADDRESS: '127.0.4.10',
        KUBENURSE_PORT: String(port),
        KUBENURSE_CHECK_NEIGHBOURHOOD: 'false',
        KUBENURSE_CHECK_KUBE_PROXY: 'false',
        KUBENURSE_SHUTDOWN_DURATION: '1s',
        KUBENURSE_SERVICE_ACCOUNT_DIR: join(context, 'no-service-account'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child?.once('exit', (code) => resolve(code)),
    );

    // Until it answers 200, or exits (waiting longer cannot help then).
    const ready = await readUntil(
      () =>
        fetch(`${base}${ROUTES.ready}`).then(
          (response) => response.status === 200,
          () => false,
        ),
      (answered) => answered || child?.exitCode !== null,
      10_000,
      100,
    ).catch(() => false);
    expect(ready, `the bundled prober never became ready:\n${output}`).toBe(true);
    expect((await fetch(`${base}${ROUTES.alwaysHappy}`)).status).toBe(200);
    const metrics = await (await fetch(`${base}${ROUTES.metrics}`)).text();
    expect(metrics).toContain('kubenurse_neighbourhood_incoming_checks');
    expect(output).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  }, 300_000);
});
