#!/usr/bin/env bash
# RabbitMQ for the transport and reconciler tests: Debian's rabbitmq-server package. The tests start their own
# private node on free loopback ports (test/support/rabbitmq.ts), so the system service is neither needed nor
# started here. Idempotent: a second run only checks.
set -euo pipefail
log() { echo "20-rabbitmq: $*" >&2; }

SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server
if [[ -x "$SERVER" ]] && command -v epmd >/dev/null 2>&1; then
  log "rabbitmq-server: installed ($(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null || echo unknown))"
  exit 0
fi
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { log "ERROR: need root or sudo to install rabbitmq-server"; exit 1; }
  SUDO="sudo"
fi
log "installing rabbitmq-server"
# policy-rc.d may refuse to start the service in containers; the tests do not use it.
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
# Do not leave the system node running where a service manager started it: tests run their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
  $SUDO systemctl stop rabbitmq-server || true
fi
[[ -x "$SERVER" ]] || { log "ERROR: $SERVER missing after install"; exit 1; }
log "rabbitmq-server: installed"
