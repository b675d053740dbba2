#!/usr/bin/env bash
# SQS emulator for the SQS transport tests and the e2e suite (KEDA's aws-sqs-queue scaler): moto's server,
# started per test on loopback (`moto_server -H 127.0.0.1 -p PORT`, see test/support/moto.ts). Pinned;
# installed with pip only when missing or at another version. Idempotent.
set -euo pipefail
MOTO_VERSION=5.2.1
log() { echo "30-sqs-emulator: $*" >&2; }

have_version() {
  python3 - "$MOTO_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
}
if command -v moto_server >/dev/null 2>&1 && have_version; then
  log "moto_server $MOTO_VERSION: installed ($(command -v moto_server))"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { log "ERROR: python3 is needed for moto"; exit 1; }
log "installing moto[server]==$MOTO_VERSION"
python3 -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "moto[server]==$MOTO_VERSION"
command -v moto_server >/dev/null 2>&1 || { log "ERROR: moto_server not on PATH after install"; exit 1; }
log "moto_server $MOTO_VERSION: installed"
