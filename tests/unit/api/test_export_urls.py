"""A download URL reads back as the request it was made from; malformed parameters name themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from provgraph.api.export import request_from, url_of
from provgraph.domain.documents import Answer, DocumentKind, ExportRequest
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.lineage import Direction


@pytest.mark.parametrize(
    "request_",
    [
        ExportRequest(DocumentKind.SPDX, "modelVersion:intent:1", format="json"),
        ExportRequest(
            DocumentKind.PROV,
            "modelVersion:logged/sentiment+v2:2",  # a slash and a plus survive the path
            format="turtle",
            answer=Answer.LINEAGE,
            as_of=datetime(2026, 3, 1, tzinfo=UTC),
            known_at=datetime(2026, 4, 1, 12, 30, tzinfo=UTC),
            direction=Direction.DOWNSTREAM,
            depth=3,
        ),
    ],
)
def test_a_url_reads_back_as_its_request(request_: ExportRequest) -> None:
    url = urlsplit(url_of(request_))
    _, _, _, kind, subject = url.path.split("/", 4)
    assert request_from(kind, unquote(subject), dict(parse_qsl(url.query))) == request_


@pytest.mark.parametrize(
    ("kind", "query", "field"),
    [
        ("pdf", {}, "kind"),
        ("prov", {"answer": "everything"}, "answer"),
        ("prov", {"asOf": "yesterday"}, "asOf"),
        ("prov", {"depth": "-1"}, "depth"),
        ("prov", {"direction": "SIDEWAYS"}, "direction"),
        ("prov", {"fromat": "json"}, "fromat"),
    ],
)
def test_bad_parameters_name_the_field(kind: str, query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        request_from(kind, "modelVersion:intent:1", query)
    assert refused.value.field == field
