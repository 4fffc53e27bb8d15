"""Documents for auditors over HTTP: `GET /v1/export/{kind}/{id}` beside the GraphQL URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import httpx

from provgraph.client._call import rest_url
from provgraph.client._enums import Direction, wire
from provgraph.client._errors import rest_error

KINDS = ("prov", "spdx", "cyclonedx", "dossier", "receipt")


@dataclass(frozen=True)
class ExportedDocument:
    """A document as the service made it: save `content` under `filename`."""

    filename: str
    media_type: str
    content: bytes
    completeness: float | None = None  # the AI-BOMs: the share of recommended fields filled

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")


def export_url(graphql_url: str, kind: str, subject_id: str) -> str:
    return rest_url(graphql_url, f"/v1/export/{quote(kind, safe='')}/{quote(subject_id, safe=':/')}")


def export_params(
    *,
    format: str | None,
    answer: str | None,
    as_of: datetime | None,
    known_at: datetime | None,
    direction: Direction | str | None,
    depth: int | None,
) -> dict[str, str]:
    given = {
        "format": format,
        "answer": answer,
        "asOf": as_of.isoformat() if as_of else None,
        "knownAt": known_at.isoformat() if known_at else None,
        "direction": wire(direction) if direction is not None else None,
        "depth": str(depth) if depth is not None else None,
    }
    return {k: v for k, v in given.items() if v is not None}


def read_export(response: httpx.Response) -> ExportedDocument:
    """The document, or the typed error the service answered with."""
    if response.status_code == 200:
        disposition = response.headers.get("content-disposition", "")
        filename = disposition.split('filename="', 1)[-1].rstrip('"') if "filename=" in disposition else ""
        completeness = response.headers.get("x-provgraph-completeness")
        return ExportedDocument(
            filename=filename,
            media_type=response.headers.get("content-type", "").split(";")[0],
            content=response.content,
            completeness=float(completeness) if completeness else None,
        )
    raise rest_error(response)
