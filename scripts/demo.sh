#!/usr/bin/env bash
# `npm run demo`: the webhook on this machine, no cluster needed. Generates a CA and serving certificate,
# starts `asya-webhook serve` over TLS with the example actors, sends it the AdmissionReview the API server
# would send for an actor pod, and prints the injected pod. DEMO_KEEP=1 leaves the server running.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=(node dist/src/cli/main.js)
port=${DEMO_PORT:-8443}
health=${DEMO_HEALTH_PORT:-8081}

"${cli[@]}" certs --host localhost 127.0.0.1 -o webhook-certs
"${cli[@]}" serve --config config/development.yaml --cert-dir webhook-certs --actors examples/actors/echo-actor.yaml \
  --host 127.0.0.1 --port "$port" --health-port "$health" --metrics-port "$health" --log-level info &
server=$!
trap '[ "${DEMO_KEEP:-0}" = 1 ] || kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$health/readyz" >/dev/null || { echo "the webhook did not become ready" >&2; exit 1; }

echo
echo "== POST https://localhost:$port/mutate/pods (a pod of actor echo-actor, examples/pods/echo-actor-pod.yaml)"
node scripts/demo-review.mjs examples/pods/echo-actor-pod.yaml \
  | curl -sS --fail-with-body --cacert webhook-certs/ca.crt -H 'content-type: application/json' --data-binary @- \
      "https://localhost:$port/mutate/pods" \
  | node scripts/demo-review.mjs --show examples/pods/echo-actor-pod.yaml

echo
echo "== the same injection offline: asya-webhook inject -f examples/pods/echo-actor-pod.yaml --actors examples/actors/echo-actor.yaml"
"${cli[@]}" inject -c config/development.yaml -f examples/pods/echo-actor-pod.yaml --actors examples/actors/echo-actor.yaml | head -20
echo "   ..."
echo
echo "== metrics: curl http://127.0.0.1:$health/metrics"
curl -s "http://127.0.0.1:$health/metrics" | grep '^asya_webhook_admission_reviews_total'
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "webhook still serving on https://localhost:$port (pid $server); CA in webhook-certs/ca.crt"
  wait $server
fi
