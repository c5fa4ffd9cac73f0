# kraken-emulator in a container (README "Docker"; docs/docker.md lists every variable). It mirrors
# the README's install and start:
#   npm ci, npm run build, then node dist/cli.js
# with the production dependencies only in the final image. Nothing is fetched at start: the
# fixtures, the Swagger UI assets, the live page (web/) and the certificate generation are all local.
# `npm run test:container` builds and runs this image with podman (scripts/test-container.ts).

# The base image of both stages: a Node 22 version tag, so a rebuild gets the same Node. Pin it by
# digest where you build from a registry (NODE_IMAGE=node:22.23.5-slim@sha256:<digest>); a build
# with no registry passes its local image: --build-arg NODE_IMAGE=node:22.23.5-slim --pull=never.
ARG NODE_IMAGE=node:22.23.5-slim

# ---- build: install everything, compile TypeScript to dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/bundle.mjs
# The package's own build (tsc, then the esbuild bundles), less the source maps and type
# declarations: nothing in the image reads them.
RUN npm run build && find dist \( -name '*.map' -o -name '*.d.ts' \) -delete

# ---- runtime: production dependencies, the compiled emulator, its fixtures and scenarios
FROM ${NODE_IMAGE}
ARG NODE_IMAGE
LABEL org.opencontainers.image.title="kraken-emulator" \
      org.opencontainers.image.description="An emulator of the Haivision Kraken REST API v2 for integrators, CI and training" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY fixtures ./fixtures
COPY scenarios ./scenarios
COPY web ./web

# State and TLS material go in /data and /certs, writable by the unprivileged user 1000:1000 (the base
# image's `node`; numeric, so Kubernetes' runAsNonRoot can verify it). No VOLUME line: it would leave
# an anonymous volume behind every container, in-memory ones too. Mount a volume on each to keep it.
RUN mkdir -p /data /certs && chown 1000:1000 /data /certs
USER 1000:1000

# Every option is an environment variable (docs/docker.md lists them all). Set here: those a
# container needs; the others keep the command line's defaults unless given with `docker run -e`:
#   KRAKEN_HTTP_PORT, KRAKEN_HOSTNAME, KRAKEN_IN_MEMORY, KRAKEN_FIXTURE, KRAKEN_CERT, KRAKEN_KEY,
#   KRAKEN_SESSION_TIMEOUT, KRAKEN_SESSION_ID_FORMAT, KRAKEN_LOCKOUT_ATTEMPTS, KRAKEN_LOCKOUT_SECONDS,
#   KRAKEN_MAX_SESSIONS, KRAKEN_LOGIN_QUEUE, KRAKEN_MAX_CONNECTIONS,
#   KRAKEN_HEADER_TIMEOUT, KRAKEN_REQUEST_TIMEOUT,
#   KRAKEN_ADMIN_PASSWORD, KRAKEN_OPERATOR_PASSWORD, KRAKEN_VIEWER_PASSWORD, KRAKEN_PASSWORD_POLICY,
#   KRAKEN_TRANSITION_MS, KRAKEN_REBOOT_MS, KRAKEN_SEED, KRAKEN_CLOCK, KRAKEN_LOG_LEVEL, KRAKEN_PRINT_READY,
#   KRAKEN_CONTROL_TOKEN (on 0.0.0.0 one is generated and printed unless set; `off` opens /_emulator),
#   KRAKEN_JOURNAL_SIZE, KRAKEN_JOURNAL_BYTES, KRAKEN_PASSWORD_HASH,
#   fleet mode (README "A fleet"): KRAKEN_DEVICES, KRAKEN_FLEET, KRAKEN_DEVICE_ADDRESSES, KRAKEN_DEVICE_PORTS,
#   KRAKEN_DEVICE_HOSTNAMES, KRAKEN_SHARD
# An unprivileged user cannot bind 443: the emulator listens on 8443 and `docker run -p 443:8443`
# gives clients the device's port.
# MALLOC_ARENA_MAX=2 (glibc): each scrypt login allocates 16 MiB in a libuv thread, and glibc keeps
# an arena per thread; two arenas cap what it keeps: peak memory 15-20 % lower at 10,000 streams,
# throughput unchanged (measured for the footprint issue, 23).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    KRAKEN_HOST=0.0.0.0 \
    KRAKEN_PORT=8443 \
    KRAKEN_DATA=/data/kraken.json \
    KRAKEN_CERTS=/certs
EXPOSE 8443

# Liveness on loopback. The certificate is not verified here: it may be the user's own, issued for
# names this probe does not use; the probe only asks whether the emulator answers. Every 5 s, so a
# container shows healthy about 5 s after its start (ready in ~2 s); --start-interval would allow a
# quicker first probe only, but Docker 20.10 and podman 4.3 refuse it.
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:https').get({ host: '127.0.0.1', port: process.env.KRAKEN_PORT, path: '/_emulator/health', rejectUnauthorized: false, timeout: 4000 }, res => process.exit(res.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]

# SIGTERM (docker stop) closes gracefully: stop accepting, finish in-flight writes, flush, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/cli.js"]
