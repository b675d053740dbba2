"""Test handler that always fails (ASYA_HANDLER=fail.process): the sidecar routes the envelope to error-end."""


class HandlerFailure(Exception):
    pass


def process(payload):
    raise HandlerFailure(f"fail.process refuses every payload: {payload!r}")
