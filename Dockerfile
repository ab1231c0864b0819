# syntax=docker/dockerfile:1

# Build stage: full dependencies, compile TypeScript to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# patches/ before the install: npm ci's postinstall applies them (patch-package).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
COPY schemas ./schemas
RUN npm run build

# Runtime stage: production dependencies only, non-root.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    AUTH_STATE_DIR=/app/auth_state \
    LOG_DIR=/app/logs \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p auth_state logs data && chown -R node:node auth_state logs data
USER node
VOLUME ["/app/auth_state", "/app/logs", "/app/data"]
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks the health endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly, not npm start: npm does not pass SIGTERM on, so the service could not shut down gracefully.
# The same node arguments as npm start (test/start-command.test.ts): V8's young generation kept at
# 2 x 8 MiB instead of 2 x 16 MiB, which an idle service otherwise holds on to once a burst grew it.
CMD ["node", "--max-semi-space-size=8", "dist/src/server.js"]
