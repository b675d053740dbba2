#!/usr/bin/env bash
# Builds the slow parts of the e2e node's images (test/e2e/support/node.ts), each into its own directory of the
# cache, keyed by a hash of its inputs, so a warm run only checks:
#   pause-<key>/pause          the sandbox ("pause") program, test/e2e/node/pause (static Go)
#   sidecar-<key>/sidecar      the upstream Asya sidecar, $ASYA_UPSTREAM_DIR/src/asya-sidecar (static Go),
#                              built from a writable copy (the upstream folder is read-only in CI)
#   python-<key>/rootfs.tar    the Python runtime's root file system as one image layer: a Debian bookworm
#                              `debootstrap --variant=minbase` root with the machine's pyenv CPython 3.13 copied
#                              in at the same path (python3/python in /usr/local/bin); Debian's python3 when no
#                              pyenv 3.13 is installed
#   debian-<key>/rootfs.tar    the same Debian root without Python (debootstrap --variant=minbase, which has
#                              libstdc++ and libgcc_s, all Node's official binary links to): the base of the
#                              operator's image (support/operatorImage.ts), in place of node:*-bookworm-slim
# under ${ASYA_E2E_CACHE:-$HOME/.cache/asya-e2e}/node. kubelet and kube-scheduler come from
# scripts/e2e-tools.sh, containerd/runc/CNI plugins from Debian (scripts/ci-setup.d/07-node.sh). node.ts writes
# the image archives (with the handler files) from these at node start.
#
# Usage: scripts/e2e-node-tools.sh [--print-paths]
#   Prints KEY=VALUE lines on stdout (the artifacts' paths; with --print-paths only that, building nothing);
#   progress goes to stderr.
# Env:   ASYA_E2E_CACHE      cache root (default $HOME/.cache/asya-e2e)
#        ASYA_UPSTREAM_DIR   upstream Asya copy (default /work/shared/upstream-asya)
#        ASYA_DEBIAN_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${ASYA_E2E_CACHE:-$HOME/.cache/asya-e2e}"
NODE_CACHE="$CACHE_ROOT/node"
UPSTREAM="${ASYA_UPSTREAM_DIR:-/work/shared/upstream-asya}"
MIRROR="${ASYA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# Bump when the way the root file system is made changes (the key covers the inputs, not this script).
ROOTFS_RECIPE=1

PRINT_ONLY=0
case "${1:-}" in
  --print-paths) PRINT_ONLY=1 ;;
  "") ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "e2e-node-tools: unknown argument: $1 (use --print-paths or no argument)" >&2; exit 2 ;;
esac

log() { echo "e2e-node-tools: $*" >&2; }
die() { echo "e2e-node-tools: ERROR: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
GO_VERSION="$(go env GOVERSION 2>/dev/null || echo nogo)"

# Hash of a directory's files (relative names and contents), for cache keys.
tree_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
str_hash() { printf '%s' "$*" | sha256sum | cut -c1-16; }

# The CPython 3.13 to copy into the image: the newest pyenv build, if any.
PYENV_ROOT_DIR="${PYENV_ROOT:-$HOME/.pyenv}"
PY_HOME=""
for d in $(ls -d "$PYENV_ROOT_DIR"/versions/3.13.* 2>/dev/null | sort -V -r); do
  if [[ -x "$d/bin/python3.13" ]]; then PY_HOME="$d"; break; fi
done

PAUSE_SRC="$ROOT/test/e2e/node/pause"
SIDECAR_SRC="$UPSTREAM/src/asya-sidecar"
[[ -d "$PAUSE_SRC" ]] || die "$PAUSE_SRC not found"
[[ -d "$SIDECAR_SRC" ]] || die "$SIDECAR_SRC not found (set ASYA_UPSTREAM_DIR to the upstream Asya copy)"

PAUSE_DIR="$NODE_CACHE/pause-$(str_hash "$(tree_hash "$PAUSE_SRC")" "$GO_VERSION")"
SIDECAR_DIR="$NODE_CACHE/sidecar-$(str_hash "$(tree_hash "$SIDECAR_SRC")" "$GO_VERSION")"
if [[ -n "$PY_HOME" ]]; then
  PY_ID="pyenv:$PY_HOME:$("$PY_HOME/bin/python3.13" -VV 2>&1 | tr -d '\n'):$(sha256sum "$PY_HOME/bin/python3.13" | cut -c1-16)"
else
  PY_ID="debian-python3"
fi
PYTHON_DIR="$NODE_CACHE/python-$(str_hash "$ROOTFS_RECIPE" "$SUITE" "$PY_ID")"
DEBIAN_DIR="$NODE_CACHE/debian-$(str_hash "$ROOTFS_RECIPE" "$SUITE" "minbase")"

print_paths() {
  echo "ASYA_NODE_PAUSE_BIN=$PAUSE_DIR/pause"
  echo "ASYA_NODE_SIDECAR_BIN=$SIDECAR_DIR/sidecar"
  echo "ASYA_NODE_PYTHON_ROOTFS=$PYTHON_DIR/rootfs.tar"
  echo "ASYA_NODE_DEBIAN_ROOTFS=$DEBIAN_DIR/rootfs.tar"
  echo "ASYA_NODE_UPSTREAM_DIR=$UPSTREAM"
}
if [[ "$PRINT_ONLY" == 1 ]]; then print_paths; exit 0; fi

[[ "$GO_VERSION" != nogo ]] || die "go is not on PATH (needed to build the pause program and the sidecar)"
mkdir -p "$NODE_CACHE"
# One build at a time on this cache (two test runs setting up at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$NODE_CACHE/.lock"
  flock 9
fi
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local

# go_build NAME OUT_DIR SRC_DIR PACKAGE: a static binary OUT_DIR/NAME, unless there already.
go_build() {
  local name="$1" out="$2" src="$3" pkg="$4"
  if [[ -x "$out/$name" ]]; then log "$name: cached ($out/$name)"; return 0; fi
  local start=$SECONDS tmp="$out.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp/src"
  # A writable copy: the upstream folder is read-only in CI, and go may want to write go.sum.
  cp -R "$src/." "$tmp/src/"
  chmod -R u+w "$tmp/src"
  log "$name: go build $pkg (from a copy of ${src#"$ROOT"/}) ..."
  if ! (cd "$tmp/src" && go build -trimpath -ldflags="-s -w" -o "$tmp/$name" "$pkg") >&2; then
    rm -rf "$tmp"; die "building $name FAILED, see the go output above"
  fi
  rm -rf "$tmp/src" "$out"
  mv "$tmp" "$out"
  log "$name: built in $((SECONDS - start))s ($(du -h "$out/$name" | cut -f1))"
}

go_build pause "$PAUSE_DIR" "$PAUSE_SRC" .
go_build sidecar "$SIDECAR_DIR" "$SIDECAR_SRC" ./cmd/sidecar

# Unmounts whatever is still mounted under $1 (debootstrap mounts proc/sys in its target), deepest first.
umount_under() {
  local dir; dir="$(readlink -f "$1")"
  awk -v d="$dir/" '{ if (index($5 "/", d) == 1) print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
}

# build_rootfs python|debian
build_rootfs() {
  local what="$1" out tmp start=$SECONDS
  if [[ "$what" == python ]]; then out="$PYTHON_DIR"; else out="$DEBIAN_DIR"; fi
  tmp="$out.tmp.$$"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (scripts/ci-setup.d/07-node.sh installs it)"
  [[ "$(id -u)" == 0 ]] || die "debootstrap needs root"
  rm -rf "$tmp"; mkdir -p "$tmp/root" "$NODE_CACHE/debs"
  trap 'umount_under "$tmp"; rm -rf "$tmp"' EXIT
  local include=""
  if [[ "$what" == debian ]]; then
    include=""
  elif [[ -n "$PY_HOME" ]]; then
    # The shared libraries CPython's own modules link against (tkinter left out), as Debian packages.
    include="$( { ldd "$PY_HOME"/lib/python3.13/lib-dynload/*.so "$PY_HOME"/lib/libpython3.13.so* 2>/dev/null || true; } |
      grep -v _tkinter | awk '/=> \// {print $3}' | sort -u | grep -v "^$PY_HOME" |
      while read -r f; do dpkg -S "$(readlink -f "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || true; done |
      cut -d: -f1 | grep -v -E '^(libc6|libtcl|libtk|libx|libfontconfig|libfreetype|libpng|libbrotli)' | sort -u | paste -sd, -)"
  else
    include="python3-minimal,libpython3-stdlib"
    log "WARNING: no pyenv CPython 3.13 under $PYENV_ROOT_DIR/versions: the image gets Debian's python3 instead"
  fi
  log "$what rootfs: debootstrap --variant=minbase $SUITE from $MIRROR (include: ${include:-nothing}) ..."
  # In a private mount namespace, so the proc/sys mounts debootstrap makes in its target never outlive it.
  if ! unshare --mount --propagation private debootstrap --variant=minbase ${include:+--include="$include"} \
       --cache-dir="$NODE_CACHE/debs" "$SUITE" "$tmp/root" "$MIRROR" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    die "debootstrap FAILED (log above)"
  fi
  log "$what rootfs: debootstrap done in $((SECONDS - start))s"
  local r="$tmp/root"
  if [[ "$what" == debian ]]; then
    :
  elif [[ -n "$PY_HOME" ]]; then
    # Same path as on this machine (its RUNPATH and prefix are absolute); without the test suite, the static
    # library, tkinter/idle, pip and optimized bytecode.
    local v; v="$(basename "$PY_HOME")"
    mkdir -p "$r$(dirname "$PY_HOME")"
    tar -C "$(dirname "$PY_HOME")" -cf - \
      --exclude="lib/python3.13/test" --exclude="lib/python3.13/idlelib" --exclude="lib/python3.13/tkinter" \
      --exclude="lib/python3.13/turtledemo" --exclude="lib/python3.13/ensurepip" \
      --exclude="lib/python3.13/site-packages/*" --exclude="lib/python3.13/config-3.13-*" \
      --exclude="lib/python3.13/lib-dynload/_tkinter*" --exclude="*.opt-1.pyc" --exclude="*.opt-2.pyc" \
      --exclude="$v/lib/pkgconfig" --exclude="$v/include" --exclude="$v/share" \
      "$v" | tar -C "$r$(dirname "$PY_HOME")" -xf -
    # /root is 0700: keep the interpreter usable by any user in the container.
    local p="$PY_HOME"; while [[ "$p" != / ]]; do chmod go+rx "$r$p"; p="$(dirname "$p")"; done
    ln -sf "$PY_HOME/bin/python3.13" "$r/usr/local/bin/python3"
    ln -sf "$PY_HOME/bin/python3.13" "$r/usr/local/bin/python"
  else
    ln -sf /usr/bin/python3 "$r/usr/local/bin/python"
  fi
  if [[ "$what" == python ]]; then
    chroot "$r" /usr/local/bin/python3 -c 'import json, ssl, sqlite3, socket, asyncio, logging, uuid' ||
      die "the Python copied into the image does not start"
  fi
  # Smaller: documentation, locales, package lists, caches, logs.
  rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
         "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old "$r"/var/lib/apt/lists/* "$r"/var/log/* "$r"/tmp/*
  : > "$r/etc/machine-id"
  umount_under "$tmp"
  # One layer; device nodes, proc and sys are left to the runtime. Sorted names, numeric root ownership.
  tar -C "$r" --sort=name --owner=0 --group=0 --numeric-owner \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tmp/rootfs.tar" .
  rm -rf "$r" "$tmp/debootstrap.log"
  rm -rf "$out"; mv "$tmp" "$out"
  trap - EXIT
  log "$what rootfs: built in $((SECONDS - start))s ($(du -h "$out/rootfs.tar" | cut -f1))"
}

if [[ -f "$PYTHON_DIR/rootfs.tar" ]]; then
  log "python rootfs: cached ($PYTHON_DIR/rootfs.tar)"
else
  build_rootfs python
fi
if [[ -f "$DEBIAN_DIR/rootfs.tar" ]]; then
  log "debian rootfs: cached ($DEBIAN_DIR/rootfs.tar)"
else
  build_rootfs debian
fi

print_paths
