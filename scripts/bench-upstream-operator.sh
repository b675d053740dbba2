#!/usr/bin/env bash
# Bench-only: builds upstream Asya's Go operator (controller-runtime), the reference that
# `npm run bench:e2e -- upstream` runs side by side with ours. Not part of CI's setup (scripts/ci-setup.d/):
# only the benchmark calls it.
#
# Builds ${ASYA_UPSTREAM_DIR:-/work/shared/upstream-asya}/src/asya-operator (`go build ./cmd`, as its Makefile's
# `build` target does) from a writable copy (the shared folder is read-only in CI) into
#   ${ASYA_BENCH_CACHE:-$HOME/.cache/asya-bench}/upstream-operator-<key>/asya-operator
# keyed by a hash of the operator's files, the Go version and RECIPE below, so a warm run only checks.
# Also copies upstream's CRD (config/crd/asya.sh_asyncactors.yaml) next to it, as asyncactors-crd.yaml.
#
# One change to the copy, which does not touch reconciliation: cmd/main.go reads the runtime script for its
# start-up ConfigMap from the fixed path /runtime/asya_runtime.py (where upstream's image puts it), while the
# controller already reads ASYA_RUNTIME_SCRIPT_PATH (internal/controller, getRuntimeScriptPath); the copy's
# main.go is made to read that same variable (default unchanged), so the bench need not write to /runtime.
#
# Usage: scripts/bench-upstream-operator.sh [--print-path]
#   Prints the binary's path on the last line of stdout (progress on stderr); --print-path only prints it.
set -euo pipefail

UPSTREAM="${ASYA_UPSTREAM_DIR:-/work/shared/upstream-asya}"
SRC="$UPSTREAM/src/asya-operator"
CACHE_ROOT="${ASYA_BENCH_CACHE:-$HOME/.cache/asya-bench}"
# Bump when the way it is built (or the patch below) changes.
RECIPE=1

log() { echo "bench-upstream-operator: $*" >&2; }
die() { echo "bench-upstream-operator: ERROR: $*" >&2; exit 1; }

[[ -d "$SRC/cmd" ]] || die "$SRC not found (set ASYA_UPSTREAM_DIR to the upstream Asya copy)"
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
GO_VERSION="$(go env GOVERSION 2>/dev/null || echo nogo)"

tree_hash() {
  (cd "$1" && find . -type f ! -path './bin/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
KEY="$(printf '%s' "$(tree_hash "$SRC")" "$GO_VERSION" "$RECIPE" | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/upstream-operator-$KEY"

if [[ "${1:-}" == "--print-path" ]]; then echo "$OUT/asya-operator"; exit 0; fi
[[ -z "${1:-}" ]] || die "unknown argument: $1 (use --print-path or no argument)"

if [[ -x "$OUT/asya-operator" && -f "$OUT/asyncactors-crd.yaml" ]]; then
  log "cached ($OUT/asya-operator)"
  echo "$OUT/asya-operator"
  exit 0
fi
[[ "$GO_VERSION" != nogo ]] || die "go is not on PATH"
mkdir -p "$CACHE_ROOT"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.lock"
  flock 9
fi
if [[ -x "$OUT/asya-operator" && -f "$OUT/asyncactors-crd.yaml" ]]; then echo "$OUT/asya-operator"; exit 0; fi

start=$SECONDS
tmp="$OUT.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp/src"
trap 'rm -rf "$tmp"' EXIT
cp -R "$SRC/." "$tmp/src/"
chmod -R u+w "$tmp/src"
grep -q 'const embeddedRuntimePath = "/runtime/asya_runtime.py"' "$tmp/src/cmd/main.go" \
  || die "cmd/main.go no longer has the fixed runtime path this script patches; check the upstream change"
sed -i 's|const embeddedRuntimePath = "/runtime/asya_runtime.py"|embeddedRuntimePath := getEnvOrDefault("ASYA_RUNTIME_SCRIPT_PATH", "/runtime/asya_runtime.py")|' "$tmp/src/cmd/main.go"
log "go build ./cmd (from a copy of $SRC) ..."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
(cd "$tmp/src" && go build -trimpath -ldflags="-s -w" -o "$tmp/asya-operator" ./cmd) >&2 || die "go build failed, see above"
cp "$SRC/config/crd/asya.sh_asyncactors.yaml" "$tmp/asyncactors-crd.yaml"
rm -rf "$tmp/src" "$OUT"
mv "$tmp" "$OUT"
trap - EXIT
log "built in $((SECONDS - start))s ($(du -h "$OUT/asya-operator" | cut -f1))"
echo "$OUT/asya-operator"
