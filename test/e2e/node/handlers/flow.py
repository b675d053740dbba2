"""Handlers of the message-flow e2e test (test/e2e/flow.e2e.test.ts), run by upstream's asya_runtime.py.

Each stage appends its name to payload["seen"], so the end of the pipeline shows which actors ran, in order.
"""
import os
import tempfile
import time


def _stage(payload, name):
    # The runtime containers of the test run with a read-only root file system: this works only because the
    # injection mounts an emptyDir at /tmp, as upstream does.
    with tempfile.NamedTemporaryFile(prefix=f"{name}-") as f:
        f.write(b"scratch")
        f.flush()
    return {**payload, "seen": [*payload.get("seen", []), name]}


def stage_a(payload):
    return _stage(payload, "a")


def stage_b(payload):
    return _stage(payload, "b")


def boom(payload):
    raise ValueError(f"boom: cannot handle {payload.get('n')}")


def slow(payload):
    """Takes payload["seconds"]; prints when it starts and ends so that the test can stop the pod meanwhile."""
    print(f"slow: started {payload.get('n')}", flush=True)
    time.sleep(float(payload.get("seconds", 8)))
    print(f"slow: finished {payload.get('n')}", flush=True)
    return {**payload, "slow": "finished", "pod": os.environ.get("HOSTNAME", "")}
