"""Schemathesis hooks for tests/integration/faults/schemathesis.rs (loaded through
SCHEMATHESIS_HOOKS with this folder on PYTHONPATH).

- `error_shape`: every 4xx answer is JSON `{"error": str, "message": str}` (docs/api.md).
- Path parameters: half the generated cases use the real flotilla and channel ids of the node
  under test (env FLOTILLA_ST_FLOTILLA, FLOTILLA_ST_CHANNEL), so operations get past the
  lookup and their bodies and queries are exercised, not only the 404.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

REAL = {
    "f": os.environ.get("FLOTILLA_ST_FLOTILLA"),
    "c": os.environ.get("FLOTILLA_ST_CHANNEL"),
}


@schemathesis.check
def error_shape(ctx, response, case):
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        raise AssertionError(
            f"{response.status_code} without a JSON body: {response.content[:200]!r}"
        )
    if not (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
    ):
        raise AssertionError(
            f'{response.status_code} body is not {{"error","message"}}: {body!r}'
        )
    return None


@schemathesis.hook
def flatmap_path_parameters(ctx, params):
    if not params:
        return st.just(params)
    real = dict(params)
    for key, value in REAL.items():
        if key in real and value:
            real[key] = value
    if real == params:
        return st.just(params)
    return st.sampled_from([params, real])
