# syntax=docker/dockerfile:1
# One image for both processes of the asya-operator chart:
#   asya-webhook serve       the TLS admission webhook
#   asya-webhook controller  the reconciler
# Build: docker build -t asya-operator:0.1.0 .
# test/unit/charts.dockerfile.test.ts lints this file with hadolint and test/integration/helm.image.test.ts
# repeats the runtime stage's install (npm ci --omit=dev + dist/) in a temporary directory and starts it.

# The same Node as the `node` devDependency the tests run on (package.json).
ARG NODE_VERSION=24.21.0

# ---- build: compile TypeScript with the full dependency tree ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- deps: production dependencies only (no TypeScript, no jest, no node devDependency) ----
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----
FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="asya-operator" \
      org.opencontainers.image.description="Asya AsyncActor admission webhook and reconciler" \
      org.opencontainers.image.licenses="Apache-2.0"
# V8 sizes its heap from the container's memory limit (Node reads the cgroup), leaving 40% for the rest of the
# process: Node's default heap limit can exceed a small container limit, and then the kernel kills the pod
# before the GC works hard. Measured with the chart's limits: npm run bench:e2e -- scale (README).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size-percentage=60
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
# Numeric, not root, matching the chart's runAsUser (65532): Kubernetes checks runAsNonRoot on the number.
USER 65532:65532
EXPOSE 8443 8081 8080
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
