"""`POST /v1/inferences`: the lean bulk path for inference logging.

The same use case as the `logInferences` mutation, without GraphQL's input coercion, which measured at
about a third of the request's cost for 5,000 items (bench/ has the numbers). The body is a JSON object
`{"inferences": [...]}` or NDJSON (one inference per line); each item has the fields of `InferenceInput`.
Items that are malformed or cannot land come back in `rejected`; the others land in one transaction — or,
with `PROVGRAPH_INFERENCE_SINK=columnar`, in the landing log, to be sealed into the cold tier
(service/columnar.py; the answer then says `"sealed": false`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from provgraph.api import jsonbody
from provgraph.api.auth import require
from provgraph.api.observe import note_inferences
from provgraph.domain.auth import Role
from provgraph.domain.errors import InvalidArgument, LimitExceeded, ProvgraphError
from provgraph.domain.records import Caller
from provgraph.domain.serving import BatchOutcome, InferenceSpec, Rejection
from provgraph.domain.time import parse_timestamp


def _items(raw: bytes, content_type: str) -> list[Any]:
    if "ndjson" in content_type:
        items = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(jsonbody.loads(line, "inferences"))
            except InvalidArgument as exc:
                raise InvalidArgument(f"line {number}: {exc.message}", field="inferences") from None
        return items
    body = jsonbody.loads(raw, "inferences")
    if not isinstance(body, dict) or not isinstance(body.get("inferences"), list):
        raise InvalidArgument('the body must be {"inferences": [...]} or NDJSON', field="inferences")
    found: list[Any] = body["inferences"]
    return found


def _spec(item: Any) -> InferenceSpec:
    if not isinstance(item, dict):
        raise InvalidArgument("an inference is a JSON object", field="inferences")

    def text(name: str) -> str | None:
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidArgument(f"{name} must be a string", field=name)
        return value

    key, at = text("key"), text("at")
    if key is None:
        raise InvalidArgument("key is required", field="key")
    if at is None:
        raise InvalidArgument("at is required", field="at")
    latency = item.get("latencyMs")
    if latency is not None and (
        isinstance(latency, bool) or not isinstance(latency, int | float) or not -1e18 < latency < 1e18
    ):
        raise InvalidArgument("latencyMs must be a finite number of milliseconds", field="latencyMs")
    moment: datetime = parse_timestamp(at, "at")
    return InferenceSpec(
        key=key,
        at=moment,
        model_version_id=text("modelVersionId"),
        endpoint=text("endpoint"),
        input_digest=text("inputDigest"),
        output_digest=text("outputDigest"),
        latency_ms=None if latency is None else float(latency),
    )


def outcome_json(outcome: BatchOutcome) -> dict[str, Any]:
    return {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": [
            {"index": r.index, "key": r.key, "code": r.code, "reason": r.reason, "field": r.field}
            for r in outcome.rejected
        ],
    }


def _answer(outcome: BatchOutcome, **more: object) -> JSONResponse:
    note_inferences(outcome.accepted, outcome.duplicates, len(outcome.rejected))
    return JSONResponse(outcome_json(outcome) | more)


async def log_inferences(request: Request) -> Response:
    """Log a batch; see the module docstring."""
    request_id = str(getattr(request.state, "request_id", ""))
    services = request.app.state.services
    try:
        principal = await require(services, request, Role.WRITER)
        raw, content_type = await request.body(), request.headers.get("content-type", "")
        sink = services.sink
        if sink is not None:  # the columnar path: whole columns when the body allows, else item by item
            landed = await sink.accept_body(raw, content_type, Caller(principal.name))
            if landed is not None:
                return _answer(landed, sealed=False)
        items = _items(raw, content_type)
        if len(items) > services.serving.max_batch_size:
            raise LimitExceeded(
                f"a batch may hold at most {services.serving.max_batch_size} inferences; got {len(items)} (split it)",
                field="inferences",
            )
        specs: list[tuple[int, InferenceSpec]] = []
        early: list[Rejection] = []
        for index, item in enumerate(items):
            try:
                specs.append((index, _spec(item)))
            except ProvgraphError as exc:
                key = item.get("key") if isinstance(item, dict) else None
                early.append(Rejection(index, str(key), exc.code, exc.message, exc.field))
        if sink is not None:
            landed = await sink.accept_specs(specs, early, Caller(principal.name))
            return _answer(landed, sealed=False)
        outcome = await services.serving.log_inferences([s for _, s in specs], Caller(principal.name))
    except ProvgraphError as exc:
        return jsonbody.rest_error_response(exc, request_id)
    positions = [index for index, _ in specs]
    rejected = early + [
        Rejection(positions[r.index], r.key, r.code, r.reason, r.field) for r in outcome.rejected
    ]
    merged = BatchOutcome(
        outcome.accepted, outcome.duplicates, tuple(sorted(rejected, key=lambda r: r.index))
    )
    return _answer(merged)
