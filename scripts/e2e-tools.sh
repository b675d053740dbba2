#!/usr/bin/env bash
# Builds the binaries of the e2e control plane and node from Go modules (no Docker):
#   kube-apiserver, kube-controller-manager, kubectl  (test/e2e/cluster, k8s.io/kubernetes)
#   kube-scheduler, kubelet, kube-proxy               (the same module; for the e2e node, support/node.ts)
#   etcd                                              (test/e2e/etcd)
#   keda-operator, keda-adapter                       (test/e2e/keda: the operator and its metrics adapter)
#   helm                                              (go install helm.sh/helm/v3/cmd/helm)
# into a cache directory keyed by the pinned versions, and copies KEDA's CRDs
# from the Go module cache next to it (<key>/keda-crds).
#
# Idempotent: a binary already in the cache is not rebuilt. One Go build runs
# at a time (a cold kube-apiserver build alone needs ~3 GB of memory).
#
# Usage: scripts/e2e-tools.sh [--print-bin-dir]
#   The last line of stdout is the bin dir; progress goes to stderr.
# Env:   ASYA_E2E_CACHE  cache root (default $HOME/.cache/asya-e2e)
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KEDA_VERSION=v2.20.2
HELM_VERSION=v3.22.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${ASYA_E2E_CACHE:-$HOME/.cache/asya-e2e}"
KEY_DIR="$CACHE_ROOT/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_keda-${KEDA_VERSION}_helm-${HELM_VERSION}"
BIN_DIR="$KEY_DIR/bin"
CRD_DIR="$KEY_DIR/keda-crds"

case "${1:-}" in
  --print-bin-dir) echo "$BIN_DIR"; exit 0 ;;
  "") ;;
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "e2e-tools: unknown argument: $1 (use --print-bin-dir or no argument)" >&2; exit 2 ;;
esac

log() { echo "e2e-tools: $*" >&2; }
die() { echo "e2e-tools: ERROR: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH (Go >= 1.26 is needed to build the e2e binaries)"

mkdir -p "$BIN_DIR" "$CRD_DIR"

# Serialize concurrent runs (e.g. two test workers) on the same cache.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$KEY_DIR/.lock"
  flock 9
fi

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export CGO_ENABLED="${CGO_ENABLED:-0}"

# Version stamps: without them the Kubernetes binaries report v0.0.0-master,
# which breaks charts with a kubeVersion constraint and kubectl's skew check.
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  K8S_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done
KEDA_LDFLAGS="-s -w -X github.com/kedacore/keda/v2/version.Version=$KEDA_VERSION"
HELM_LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"

# build NAME MODULE_DIR PACKAGE LDFLAGS
build() {
  local name="$1" moddir="$2" pkg="$3" ldflags="$4"
  if [[ -x "$BIN_DIR/$name" ]]; then
    log "$name: cached ($BIN_DIR/$name)"
    return 0
  fi
  log "$name: building $pkg in ${moddir#"$ROOT"/} ..."
  local start=$SECONDS tmp="$BIN_DIR/.$name.tmp.$$"
  if ! (cd "$moddir" && go build -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg") >&2; then
    rm -f "$tmp"
    die "building $name ($pkg in $moddir) FAILED, see the go output above"
  fi
  mv -f "$tmp" "$BIN_DIR/$name"
  log "$name: built in $((SECONDS - start))s ($(du -h "$BIN_DIR/$name" | cut -f1))"
}

build kube-apiserver          "$ROOT/test/e2e/cluster" k8s.io/kubernetes/cmd/kube-apiserver          "$K8S_LDFLAGS"
build kube-controller-manager "$ROOT/test/e2e/cluster" k8s.io/kubernetes/cmd/kube-controller-manager "$K8S_LDFLAGS"
build kubectl                 "$ROOT/test/e2e/cluster" k8s.io/kubernetes/cmd/kubectl                 "$K8S_LDFLAGS"
build kube-scheduler          "$ROOT/test/e2e/cluster" k8s.io/kubernetes/cmd/kube-scheduler          "$K8S_LDFLAGS"
build kubelet                 "$ROOT/test/e2e/cluster" k8s.io/kubernetes/cmd/kubelet                 "$K8S_LDFLAGS"
build kube-proxy              "$ROOT/test/e2e/cluster" k8s.io/kubernetes/cmd/kube-proxy              "$K8S_LDFLAGS"
build etcd                    "$ROOT/test/e2e/etcd"    .                                              "-s -w"
build keda-operator           "$ROOT/test/e2e/keda"    github.com/kedacore/keda/v2/cmd/operator       "$KEDA_LDFLAGS"
build keda-adapter            "$ROOT/test/e2e/keda"    github.com/kedacore/keda/v2/cmd/adapter        "$KEDA_LDFLAGS"

if [[ -x "$BIN_DIR/helm" ]]; then
  log "helm: cached ($BIN_DIR/helm)"
else
  log "helm: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION ..."
  start=$SECONDS
  gobin="$BIN_DIR/.helm.tmp.$$"
  # Outside any module, so that only helm's own go.mod applies.
  if ! (cd "$KEY_DIR" && GOBIN="$gobin" GOFLAGS=-buildvcs=false \
        go install -trimpath -ldflags="$HELM_LDFLAGS" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >&2; then
    rm -rf "$gobin"
    die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION FAILED, see the go output above"
  fi
  mv -f "$gobin/helm" "$BIN_DIR/helm"
  rm -rf "$gobin"
  log "helm: built in $((SECONDS - start))s ($(du -h "$BIN_DIR/helm" | cut -f1))"
fi

# KEDA's CRDs, copied from the module cache (never committed).
n_crds=$(find "$CRD_DIR" -maxdepth 1 -name '*.yaml' | wc -l)
if [[ "$n_crds" -lt 6 ]]; then
  keda_dir="$(cd "$ROOT/test/e2e/keda" && go list -m -f '{{.Dir}}' github.com/kedacore/keda/v2)" ||
    die "cannot locate github.com/kedacore/keda/v2 in the Go module cache"
  [[ -d "$keda_dir/config/crd/bases" ]] || die "no CRDs under $keda_dir/config/crd/bases"
  cp -f "$keda_dir"/config/crd/bases/*.yaml "$CRD_DIR"/
  chmod u+w "$CRD_DIR"/*.yaml
  log "keda CRDs: copied $(find "$CRD_DIR" -maxdepth 1 -name '*.yaml' | wc -l) into $CRD_DIR"
else
  log "keda CRDs: cached ($CRD_DIR)"
fi

for b in kube-apiserver kube-controller-manager kubectl kube-scheduler kubelet kube-proxy etcd keda-operator keda-adapter helm; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b is missing after the build"
done
echo "$BIN_DIR"
