# syntax=docker/dockerfile:1
# kubenurse-ts: a per-node network prober. Two stages:
#   build   — full Node 24 toolchain: install all dependencies, type-check, bundle with esbuild.
#   runtime — distroless Node 24: no shell, no package manager, no node_modules. The esbuild
#             bundle in dist/ is self-contained (tested in test/deploy/dockerfile.test.ts).

# Build image pinned to an exact Node release; renovate/dependabot can add @sha256 digests.
FROM node:24.21.0-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay on: the `node` devDependency puts the Node 24 binary that npm scripts
# run with into node_modules/.bin during its preinstall, and esbuild checks its binary.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build

# distroless/nodejs24 ships Node 24 at /nodejs/bin/node and a "nonroot" user (65532). Its tags
# name the Node major and Debian release only (distroless publishes no patch tags), so pin a
# release build by digest: nodejs24-debian12:nonroot@sha256:<digest>.
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
COPY --from=build /app/dist/ /app/dist/
ENV NODE_ENV=production
# Two malloc arenas instead of 8 per core: the prober has few threads and mostly idles, and
# the extra arenas only hold freed memory (with --max-semi-space-size below: 116 -> 98 MiB
# steady RSS with 50 neighbours, BENCHMARKS.md 2b).
ENV MALLOC_ARENA_MAX=2
# Numeric so Kubernetes can verify runAsNonRoot without resolving a user name.
USER 65532:65532
# 8080: HTTP (/alive, /alwayshappy, /ready, /metrics); 8443: HTTPS when KUBENURSE_USE_TLS=true.
EXPOSE 8080 8443
# Exec form, node as PID 1: SIGTERM reaches the prober directly, which then answers /ready
# with 503 for KUBENURSE_SHUTDOWN_DURATION before closing (no shell or npm in between).
# --max-semi-space-size=1: a 1 MiB young generation instead of up to 16 MiB; a round allocates
# little, so the extra scavenges cost 0–7 % CPU per round in our runs (within run-to-run noise).
# --no-opt --no-maglev: no optimizing compilers (the interpreter and Sparkplug remain); their
# code in the node binary is never paged in and their zones never allocated: -4 to -6 MiB RSS,
# CPU per probe unchanged within noise (BENCHMARKS.md 2b). A prober is mostly idle; nothing it
# runs is hot enough to pay for TurboFan.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--no-opt", "--no-maglev", "/app/dist/main.js"]
