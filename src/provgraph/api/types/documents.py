"""GraphQL: documents for auditors (`exportDocument`); binary formats are downloaded from its `url`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import strawberry
from strawberry.types import Info

from provgraph.api.export import url_of
from provgraph.api.types.common import Direction, KnownAt
from provgraph.domain import documents

DocumentKind = strawberry.enum(
    documents.DocumentKind,
    name="DocumentKind",
    description="prov: W3C PROV of an answer; spdx / cyclonedx: an AI-BOM of a model version; dossier: its "
    "technical documentation under the EU AI Act's Annex IV headings; receipt: the signed receipt of an "
    "exclusion case.",
)
ExportAnswer = strawberry.enum(
    documents.Answer,
    name="ExportAnswer",
    description="Which answer a PROV document describes (default: provenance for a model version, trace "
    "for an inference, impact for a source, exclusion for an exclusion case, lineage for anything else).",
)


@strawberry.type(description="How many of a format's recommended fields the graph could fill.")
class Completeness:
    score: float = strawberry.field(description="Present fields over all recommended fields, 0 to 1.")
    present: list[str]
    missing: list[str] = strawberry.field(description="Recommended fields the graph does not hold.")


@strawberry.type(description="A document drawn from the graph.")
class ExportedDocument:
    kind: DocumentKind  # type: ignore[valid-type]
    subject_id: strawberry.ID
    format: str
    media_type: str
    filename: str
    url: str = strawberry.field(description="Where to download it (GET, with the same token): every format.")
    text: str | None = strawberry.field(description="The document itself when it is text; null for a PDF.")
    completeness: Completeness | None = strawberry.field(
        description="For the AI-BOMs: which recommended fields are filled and which are not recorded."
    )


@strawberry.type
class DocumentQuery:
    @strawberry.field(
        description="A document about a subject as of a time: W3C PROV of an answer (PROV-JSON `json`, "
        "PROV-N `provn`, PROV-O `turtle` or `jsonld`), an SPDX 3.0 or CycloneDX 1.6 AI-BOM of a model version, "
        "or its technical-documentation dossier (`html`; `pdf` only through `url`)."
    )
    async def export_document(
        self,
        info: Info,
        kind: DocumentKind,  # type: ignore[valid-type]
        id: strawberry.ID,
        format: str | None = None,
        answer: ExportAnswer | None = None,  # type: ignore[valid-type]
        as_of: datetime | None = None,
        known_at: KnownAt = None,
        direction: Direction = Direction.UPSTREAM,  # type: ignore[valid-type]
        depth: int | None = None,
    ) -> ExportedDocument:
        service = info.context.services.documents
        request = service.check(
            documents.ExportRequest(
                kind=kind,
                subject_id=id,
                format=format,
                answer=answer,
                as_of=as_of,
                known_at=known_at,
                direction=direction,
                depth=depth,
            )
        )
        serialisation = service.serialisation(request)
        assert request.format is not None
        described = ExportedDocument(
            kind=request.kind,
            subject_id=strawberry.ID(request.subject_id),
            format=request.format,
            media_type=serialisation.media_type,
            filename=service.filename(request),
            url=url_of(request),
            text=None,
            completeness=None,
        )
        if not serialisation.is_text:  # not made here: its URL makes it
            return described
        document = await service.export(request)
        found = document.completeness
        return replace(
            described,
            text=document.body.decode("utf-8"),
            completeness=Completeness(
                score=found.score, present=list(found.present), missing=list(found.missing)
            )
            if found
            else None,
        )
