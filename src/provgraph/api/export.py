"""`GET /v1/export/{kind}/{id}`: a document as a download (every format, binary ones included).

Query parameters: `format` (the kind's serialisation), `asOf` and `knownAt` (ISO-8601 with a zone),
and for PROV `answer` (provenance, lineage, trace, impact) with a lineage's `direction` and `depth`.
A READER token may export. The GraphQL field `exportDocument` answers the same for text formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from provgraph.api import jsonbody
from provgraph.api.auth import require
from provgraph.domain.auth import Role
from provgraph.domain.documents import Answer, Document, DocumentKind, ExportRequest
from provgraph.domain.errors import InvalidArgument, ProvgraphError
from provgraph.domain.lineage import Direction
from provgraph.domain.time import parse_timestamp

E = TypeVar("E", DocumentKind, Answer, Direction)

PATH = "/v1/export"
_PARAMETERS = {"format", "answer", "asOf", "knownAt", "direction", "depth"}


def request_from(kind: str, subject_id: str, query: Mapping[str, str]) -> ExportRequest:
    """An export request from a URL's parts; unknown or malformed parameters are INVALID_ARGUMENT."""
    unknown = sorted(set(query) - _PARAMETERS)
    if unknown:
        raise InvalidArgument(
            f"unknown parameter {unknown[0]!r}; known: {', '.join(sorted(_PARAMETERS))}", field=unknown[0]
        )
    depth = query.get("depth")
    if depth is not None and not depth.isdigit():
        raise InvalidArgument("depth must be a whole number", field="depth")
    return ExportRequest(
        kind=_choice(DocumentKind, kind, "kind"),
        subject_id=subject_id,
        format=query.get("format"),
        answer=_choice(Answer, query["answer"], "answer") if "answer" in query else None,
        as_of=_time(query.get("asOf"), "asOf"),
        known_at=_time(query.get("knownAt"), "knownAt"),
        direction=_choice(Direction, query.get("direction", "UPSTREAM").upper(), "direction"),
        depth=int(depth) if depth is not None else None,
    )


def url_of(request: ExportRequest) -> str:
    """The download URL (path and query) of a request, as `request_from` reads it back."""
    query: dict[str, str] = {}
    if request.format:
        query["format"] = request.format
    if request.answer:
        query["answer"] = request.answer.value
    if request.as_of:
        query["asOf"] = request.as_of.isoformat()
    if request.known_at:
        query["knownAt"] = request.known_at.isoformat()
    if request.answer is Answer.LINEAGE:
        query["direction"] = request.direction.value
        if request.depth is not None:
            query["depth"] = str(request.depth)
    path = f"{PATH}/{request.kind.value}/{quote(request.subject_id, safe=':/')}"
    return path + ("?" + urlencode(query) if query else "")


def response_of(document: Document) -> Response:
    headers = {"content-disposition": f'attachment; filename="{document.filename}"'}
    if document.completeness is not None:
        # The share of the format's recommended fields the graph could fill (the body says which are missing).
        headers["x-provgraph-completeness"] = f"{document.completeness.score:.3f}"
    return Response(document.body, media_type=document.media_type, headers=headers)


async def export_document(request: Request) -> Response:
    """Answer one export; see the module docstring."""
    request_id = str(getattr(request.state, "request_id", ""))
    services = request.app.state.services
    try:
        await require(services, request, Role.READER)
        wanted = request_from(
            request.path_params["kind"], request.path_params["subject"], dict(request.query_params)
        )
        document = await services.documents.export(wanted)
    except ProvgraphError as exc:
        return jsonbody.rest_error_response(exc, request_id)
    return response_of(document)


def _choice(enum: type[E], value: str, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(str(member.value) for member in enum)
        raise InvalidArgument(f"{field} must be one of {known}; got {value!r}", field=field) from None


def _time(value: str | None, field: str) -> datetime | None:
    return None if value is None else parse_timestamp(value, field)
