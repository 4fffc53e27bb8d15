"""Reading request bodies: strict JSON, and the one error shape every HTTP-level failure answers with.

Python's `json` module accepts what no other JSON parser does (`NaN`, `Infinity`, `1e999` as infinity),
raises `RecursionError` on deeply nested input, and yields strings holding unpaired surrogates, which
Neo4j cannot store. Each of those once reached the service as a bare 500 or as a stored value that
failed on every later read; here each is a coded client error before anything else runs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.responses import JSONResponse

from provgraph.api.observe import note_codes
from provgraph.domain.errors import InvalidArgument, ProvgraphError

MAX_DEPTH = 64  # nesting of objects and lists in a request body
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")

# HTTP statuses of error codes at the HTTP edge; any other client error is 400.
_STATUS = {
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 503,
    "INTERNAL": 500,
}


def status_of(code: str) -> int:
    return _STATUS.get(code, 400)


def _reject_constant(name: str) -> float:
    raise InvalidArgument(f"the body holds {name}, which is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidArgument(f"the number {text[:40]} is out of range")
    return value


def loads(raw: bytes | str, field: str = "body") -> Any:
    """Parse one JSON document strictly; raise InvalidArgument (naming `field`) saying what is wrong."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgument(f"the body is not valid UTF-8 (byte {exc.start})", field=field) from None
    else:
        text = raw
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except RecursionError:
        raise InvalidArgument("the body is nested too deeply", field=field) from None
    except ProvgraphError as exc:
        raise InvalidArgument(exc.message, field=field) from None
    except ValueError as exc:
        raise InvalidArgument(f"the body is not valid JSON: {str(exc)[:120]}", field=field) from None
    # Only a `\uD8xx`-style escape can produce a surrogate (UTF-8 cannot encode one), so the walk runs only
    # when the text holds such an escape.
    if _SURROGATE_ESCAPE.search(text):
        reject_lone_surrogates(value, field)
    return value


def reject_lone_surrogates(value: Any, field: str = "body") -> None:
    """Walk a decoded body (iteratively) and refuse any string holding an unpaired surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise InvalidArgument("the body holds a string with an unpaired surrogate", field=field)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse bodies nested deeper than `max_depth`: later recursive processing (GraphQL input coercion)
    must never meet a structure deep enough to exhaust the interpreter's stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise InvalidArgument(f"the body is nested deeper than {max_depth} levels", field="body")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def graphql_error_response(
    exc: ProvgraphError | tuple[str, str], request_id: str | None, status: int | None = None
) -> JSONResponse:
    """A failure before GraphQL execution (unreadable body, no token) in the GraphQL response shape:
    from a domain error, or from a (code, message) pair chosen at the edge."""
    code, message, field = (
        (exc.code, exc.message, exc.field) if isinstance(exc, ProvgraphError) else (*exc, None)
    )
    extensions: dict[str, Any] = {"code": code}
    if request_id:
        extensions["requestId"] = request_id
    if field:
        extensions["field"] = field
    body = {"errors": [{"message": message, "extensions": extensions}]}
    note_codes([code])
    return JSONResponse(body, status_code=status or status_of(code))


def rest_error_response(exc: ProvgraphError, request_id: str | None) -> JSONResponse:
    """A failure of a REST route (`/v1/…`): `{"error": {code, message, field, requestId}}`."""
    body = {"error": {"code": exc.code, "message": exc.message, "field": exc.field, "requestId": request_id}}
    note_codes([exc.code])
    return JSONResponse(body, status_code=status_of(exc.code))
