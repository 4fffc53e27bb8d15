"""`POST /api/v1/lineage`: OpenLineage events, at Marquez's path so existing clients need only a new URL.

The body is one event (a JSON object), a batch (a JSON array, or NDJSON with `content-type:
application/x-ndjson`), optionally gzip-compressed (`content-encoding: gzip`, as the OpenLineage client
sends when asked to compress). The same bearer tokens and roles as the rest of the API apply (a WRITER may
post), and the same body limit. An invalid event refuses the whole request with 400 and the schema's
reasons, nothing written. Otherwise the answer is 201 with each event's outcome (RECORDED or DUPLICATE);
an event a rule refuses (a run that already ended otherwise) is reported with its code — for a single
event as the response itself (409, 400), in a batch beside the others, which land.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from provgraph.api import jsonbody
from provgraph.api.auth import require
from provgraph.api.observe import note_codes, note_lineage_events
from provgraph.domain.auth import Role
from provgraph.domain.errors import InvalidArgument, LimitExceeded, ProvgraphError
from provgraph.domain.records import Caller

# A compressed body may expand to this much at most (a small gzip bomb must not exhaust memory).
MAX_INFLATED = 32 * 1024 * 1024

_STATUS = {"CONFLICT": 409, "NOT_FOUND": 404, "FAILED_PRECONDITION": 409}


def _events(raw: bytes, headers: Any) -> list[Any]:
    if "gzip" in headers.get("content-encoding", ""):
        raw = _inflate(raw)
    if "ndjson" in headers.get("content-type", ""):
        events = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    events.append(jsonbody.loads(line, "events"))
                except InvalidArgument as exc:
                    raise InvalidArgument(f"line {number}: {exc.message}", field="events") from None
        return events
    body = jsonbody.loads(raw, "events")
    jsonbody.check_depth(body)
    return body if isinstance(body, list) else [body]


def _inflate(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, MAX_INFLATED + 1)
    except (zlib.error, gzip.BadGzipFile):
        raise InvalidArgument("the body is not valid gzip", field="events") from None
    if len(out) > MAX_INFLATED or inflater.unconsumed_tail:
        raise LimitExceeded(f"the body inflates to more than {MAX_INFLATED} bytes", field="events")
    return out


async def post_lineage(request: Request) -> Response:
    """Take in OpenLineage events; see the module docstring."""
    request_id = str(getattr(request.state, "request_id", ""))
    services = request.app.state.services
    try:
        principal = await require(services, request, Role.WRITER)
        events = _events(await request.body(), request.headers)
        outcomes = await services.openlineage.ingest(events, Caller(principal.name))
        note_lineage_events(o.outcome for o in outcomes)
    except ProvgraphError as exc:
        return jsonbody.rest_error_response(exc, request_id)
    body: dict[str, Any] = {
        "recorded": sum(o.outcome == "RECORDED" for o in outcomes),
        "duplicates": sum(o.outcome == "DUPLICATE" for o in outcomes),
        "events": [
            {
                "index": o.index,
                "eventId": o.event_id,
                "outcome": o.outcome,
                "reason": o.reason,
                "runId": o.run_id,
            }
            for o in outcomes
        ],
    }
    refused = [o for o in outcomes if o.outcome not in ("RECORDED", "DUPLICATE")]
    if len(outcomes) == 1 and refused:
        only = refused[0]
        error = {"code": only.outcome, "message": only.reason, "field": None, "requestId": request_id}
        note_codes([only.outcome])
        return JSONResponse({**body, "error": error}, status_code=_STATUS.get(only.outcome, 400))
    return JSONResponse(body, status_code=201)
