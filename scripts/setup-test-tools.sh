#!/usr/bin/env bash
# Installs what the test suite needs, once per machine: each scripts/ci-setup.d/*.sh in name order (RabbitMQ,
# moto, helm, hadolint, the e2e control plane built from Go modules). Idempotent: seconds when all is there.
# npm runs it before `npm test` (the pretest script).
set -euo pipefail
cd "$(dirname "$0")/.."
# Go builds the e2e control plane; where it is installed but not on this shell's PATH, use it anyway.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
for step in scripts/ci-setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== $step" >&2
  bash "$step" >&2
done
