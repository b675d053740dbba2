#!/usr/bin/env bash
# The e2e node (test/e2e/support/node.ts): Debian's containerd, runc and CNI plugins, debootstrap (for the
# Python image's root file system), iproute2 (the node's bridge) and iptables (kube-proxy's rules), then scripts/e2e-node-tools.sh (the pause program, the upstream sidecar, the
# Python root file system; cached by their inputs). kubelet and kube-scheduler come from 05-e2e-tools.sh.
# Nothing is started here: each e2e run starts its own containerd on a private socket. Idempotent: a second run
# only checks.
set -euo pipefail
log() { echo "07-node: $*" >&2; }

PACKAGES=(containerd runc containernetworking-plugins debootstrap iproute2 iptables)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "ERROR: need root or sudo to install ${missing[*]}"; exit 1; }
    SUDO="sudo"
  fi
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Where a service manager started the system containerd, leave it alone: the suite never uses it.
fi
for f in /usr/sbin/ip /usr/sbin/iptables /usr/bin/flock /usr/bin/unshare /usr/bin/nsenter /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback; do
  [[ -x "$f" ]] || { log "ERROR: $f missing after installing ${PACKAGES[*]}"; exit 1; }
done
log "containerd $(dpkg-query -W -f '${Version}' containerd), runc $(dpkg-query -W -f '${Version}' runc), CNI plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins): installed"

bash "$(dirname "$0")/../e2e-node-tools.sh" >/dev/null
