#!/usr/bin/env bash
# The e2e control plane (kube-apiserver, kube-controller-manager, kubectl, etcd, KEDA operator) and helm,
# built from pinned Go modules into a cache keyed by their versions: about 15 minutes on a cold 2-core
# machine, seconds when cached. A failed build fails CI loudly (the e2e suite never skips).
set -euo pipefail
bash "$(dirname "$0")/../e2e-tools.sh"
