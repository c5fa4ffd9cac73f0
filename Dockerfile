# syntax=docker/dockerfile:1
# kraken-emulator in a container (docs/docker.md). It mirrors the README's install and start:
#   npm ci, npm run build, then node dist/cli.js
# with the production dependencies only in the final image. Nothing is fetched at start: the
# fixtures, the Swagger UI assets, the live page (web/) and the certificate generation are all local.

# ---- build: install everything, compile TypeScript to dist/
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, the compiled emulator, its fixtures and scenarios
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY fixtures ./fixtures
COPY scenarios ./scenarios
COPY web ./web

# State and TLS material live on volumes, writable by the unprivileged `node` user (uid 1000).
RUN mkdir -p /data /certs && chown node:node /data /certs
VOLUME ["/data", "/certs"]
USER node

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
ENV KRAKEN_HOST=0.0.0.0 \
    KRAKEN_PORT=8443 \
    KRAKEN_DATA=/data/kraken.json \
    KRAKEN_CERTS=/certs
EXPOSE 8443

# Liveness on loopback. The certificate is not verified here: it may be the user's own, issued for
# names this probe does not use; the probe only asks whether the emulator answers.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('node:https').get({ host: '127.0.0.1', port: process.env.KRAKEN_PORT, path: '/_emulator/health', rejectUnauthorized: false, timeout: 4000 }, res => process.exit(res.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]

# SIGTERM (docker stop) closes gracefully: stop accepting, finish in-flight writes, flush, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/cli.js"]
