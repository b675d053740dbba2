"""Test handler: returns the payload with "echoed": True added (ASYA_HANDLER=echo.process)."""


def process(payload):
    return {**payload, "echoed": True}
