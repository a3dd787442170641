# syntax=docker/dockerfile:1
# The one image of the billing worker, the webhook receiver and the backfill schedule (docker-compose.yml).
# Build stage: tsc + pre-bundled workflows; runtime stage: plain node, production dependencies, non-root.

# Debian, not Alpine: @temporalio/core-bridge ships prebuilt native binaries for glibc Linux only.
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-workflows.ts scripts/
COPY src src
# tsx is a dev dependency, so the runtime cannot use it (`npm ci --omit=dev`): compile with tsc here
# instead (tsconfig.build.json, src/ -> dist/), and bundle the workflows once
# (dist/workflow-bundle.js) so workers start without webpack. Then drop the dev dependencies.
RUN npm run build:workflows \
  && npx tsc -p tsconfig.build.json \
  && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
# Root-owned and read-only to the process; only the outbox directory (a volume) is writable.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /var/lib/durable-billing/outbox && chown -R node:node /var/lib/durable-billing
USER node
# The worker by default; the receiver runs `node dist/webhooks/main.js` (see docker-compose.yml).
CMD ["node", "--enable-source-maps", "dist/worker.js"]
