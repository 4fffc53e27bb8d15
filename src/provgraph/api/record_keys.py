"""`POST /v1/record-keys`: register the record keys a dataset version or slice holds from one source.

The body is the keys' keyed hashes, 16 bytes each, concatenated (`application/octet-stream`): the SDK's
`register_record_keys` computes them with a secret that stays on the client. Query parameters name the data
(`subject`), the source (`source`) and optionally the filter's false-positive rate (`falsePositiveRate`,
default 1e-4). The answer is the registration, with `created: false` when an identical registration was
already recorded (201 when this request recorded it).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from provgraph.api import jsonbody
from provgraph.api.auth import require
from provgraph.domain import membership as m
from provgraph.domain.auth import Role
from provgraph.domain.errors import InvalidArgument, ProvgraphError
from provgraph.domain.records import Caller
from provgraph.store.membership import Registration


def registration_json(registration: Registration, created: bool) -> dict[str, object]:
    return {
        "id": registration.id,
        "subjectId": registration.subject_id,
        "sourceId": registration.source_id,
        "digest": registration.digest,
        "keys": registration.keys,
        "exact": registration.exact,
        "falsePositiveRate": registration.false_positive_rate,
        "bytes": registration.bytes,
        "recordedAt": registration.recorded_at.isoformat(),
        "recordedBy": registration.recorded_by,
        "created": created,
    }


def _rate(request: Request) -> float:
    raw = request.query_params.get("falsePositiveRate")
    if raw is None:
        return m.DEFAULT_FALSE_POSITIVE_RATE
    try:
        return float(raw)
    except ValueError:
        raise InvalidArgument(
            f"falsePositiveRate must be a number, not {raw[:40]!r}", field="falsePositiveRate"
        ) from None


async def register_record_keys(request: Request) -> Response:
    """Register record keys; see the module docstring."""
    request_id = str(getattr(request.state, "request_id", ""))
    services = request.app.state.services
    try:
        principal = await require(services, request, Role.WRITER)
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip() != "application/octet-stream":
            raise InvalidArgument(
                "send the key hashes as application/octet-stream (16 bytes each, concatenated)", field="body"
            )
        subject, source = request.query_params.get("subject"), request.query_params.get("source")
        if not subject or not source:
            missing = "subject" if not subject else "source"
            raise InvalidArgument(f"the query parameter {missing!r} is required", field=missing)
        registration, created = await services.membership.register_keys(
            subject, source, await request.body(), _rate(request), Caller(principal.name)
        )
    except ProvgraphError as exc:
        return jsonbody.rest_error_response(exc, request_id)
    return JSONResponse(registration_json(registration, created), status_code=201 if created else 200)
