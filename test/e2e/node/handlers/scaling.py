"""Handler of the autoscaling e2e test (test/e2e/autoscaling.e2e.test.ts): ASYA_HANDLER=scaling.hold.

Each message is held until the test releases it: the handler polls payload["release"] (a URL on the node IP)
until it answers 200, so the queue depth KEDA sees stays what the test published while replicas come up, and
the real sidecars then drain the queue at once. Gives up after payload["max_seconds"] (default 240).
"""
import os
import time
import urllib.request


def hold(payload):
    url = payload["release"]
    deadline = time.time() + float(payload.get("max_seconds", 240))
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except Exception:  # 404 until released, or the test's server is gone
            pass
        time.sleep(0.5)
    return {**payload, "pod": os.environ.get("HOSTNAME", "")}
