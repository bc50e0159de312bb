"""Schemathesis hooks for tests/integration/faults/schemathesis.rs (loaded through
SCHEMATHESIS_HOOKS with this folder on PYTHONPATH).

- `error_shape`: every 4xx answer is JSON `{"error": str, "message": str}` (docs/api.md).
- Path parameters: half the generated cases use the real flotilla and channel ids of the node
  under test (env FLOTILLA_ST_FLOTILLA, FLOTILLA_ST_CHANNEL), so operations get past the
  lookup and their bodies and queries are exercised, not only the 404.
- `before_call`: the run keeps its own identity. Schemathesis reuses ids it read in answers
  (`GET /api/v1/tokens`, `/users`, `/members`), so it would revoke the very token it calls
  with, demote or remove its own user, or remove its own node, and every later call would be
  a 401 or 403 that tests nothing. A write whose path names one of those (env
  FLOTILLA_ST_KEEP: comma-separated token ids, username, user key, node id) names an
  unknown one instead.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

KEEP = {v.lower() for v in os.environ.get("FLOTILLA_ST_KEEP", "").split(",") if v}
UNKNOWN = "0000000000000000"

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


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if case.method.upper() in ("GET", "HEAD") or not case.path_parameters:
        return
    for key, value in list(case.path_parameters.items()):
        if isinstance(value, str) and value.lower() in KEEP:
            case.path_parameters[key] = UNKNOWN
