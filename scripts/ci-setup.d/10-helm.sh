#!/usr/bin/env bash
# helm, for the chart tests (test/integration/helm*.test.ts). It lives where scripts/e2e-tools.sh keeps it
# (`scripts/e2e-tools.sh --print-bin-dir`/helm), built the same way (go install, pinned version), so the two
# never build it twice; only helm is built here, not the Kubernetes binaries. Idempotent.
# Usage: scripts/ci-setup.d/10-helm.sh [--print-path]   (the last line of stdout is the binary's path)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELM_VERSION="$(sed -n 's/^HELM_VERSION=//p' "$ROOT/scripts/e2e-tools.sh")"
[[ -n "$HELM_VERSION" ]] || { echo "10-helm: cannot read HELM_VERSION from scripts/e2e-tools.sh" >&2; exit 1; }
BIN_DIR="$(bash "$ROOT/scripts/e2e-tools.sh" --print-bin-dir | tail -n 1)"
HELM="$BIN_DIR/helm"

if [[ "${1:-}" == "--print-path" ]]; then echo "$HELM"; exit 0; fi
log() { echo "10-helm: $*" >&2; }

if [[ -x "$HELM" ]]; then
  log "helm: cached ($HELM)"
  echo "$HELM"
  exit 0
fi
command -v go >/dev/null 2>&1 || { log "ERROR: go is not on PATH (needed to build helm $HELM_VERSION)"; exit 1; }

KEY_DIR="$(dirname "$BIN_DIR")"
mkdir -p "$BIN_DIR"
# The same lock as scripts/e2e-tools.sh: one Go build at a time on this cache.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$KEY_DIR/.lock"
  flock 9
fi
if [[ ! -x "$HELM" ]]; then
  log "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION ..."
  gobin="$BIN_DIR/.helm.tmp.$$"
  (cd "$KEY_DIR" && GOBIN="$gobin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
     go install -trimpath -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
     "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >&2 || { rm -rf "$gobin"; log "ERROR: building helm failed"; exit 1; }
  mv -f "$gobin/helm" "$HELM"
  rm -rf "$gobin"
fi
"$HELM" version --short >&2
echo "$HELM"
