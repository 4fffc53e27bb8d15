"""Exporting documents: which subjects each kind takes, which serialisations it has, and the dispatch to
the renderer of each kind (`prov`, `bom`, `dossier` modules beside this one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from provgraph.domain.documents import (
    Answer,
    Document,
    DocumentKind,
    ExportRequest,
    Rendered,
    Serialisation,
)
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import CASE_KINDS, Kind, parse_id
from provgraph.service.documents.gather import Gatherer

Render = Callable[[ExportRequest, Gatherer], Awaitable[Rendered]]


@dataclass(frozen=True)
class Renderer:
    """How one kind of document is made. `formats` maps each serialisation's name (`json`, `turtle`, `pdf`)
    to its media type and suffix; the first is the default. `render` gets a checked request (its format
    filled in) and returns the bytes."""

    formats: Mapping[str, Serialisation]
    render: Render
    subjects: tuple[Kind, ...] = (Kind.MODEL_VERSION,)


# The answer a PROV export describes by default for each kind of subject; any node has a lineage.
_DEFAULT_ANSWER = {
    Kind.MODEL_VERSION: Answer.PROVENANCE,
    Kind.INFERENCE: Answer.TRACE,
    Kind.SOURCE: Answer.IMPACT,
    Kind.EXCLUSION_CASE: Answer.EXCLUSION,
}
_ANSWER_SUBJECTS = {
    Answer.PROVENANCE: (Kind.MODEL_VERSION,),
    Answer.TRACE: (Kind.INFERENCE,),
    Answer.IMPACT: (Kind.SOURCE,),
    Answer.EXCLUSION: (Kind.EXCLUSION_CASE,),
    # A case is a record of decisions, not a node of the provenance graph: it has no lineage.
    Answer.LINEAGE: tuple(k for k in Kind if k not in CASE_KINDS),
}


class DocumentService:
    def __init__(self, gatherer: Gatherer, renderers: Mapping[DocumentKind, Renderer]) -> None:
        self.gatherer = gatherer
        self.renderers = dict(renderers)

    def formats(self, kind: DocumentKind) -> list[str]:
        renderer = self.renderers.get(kind)
        return list(renderer.formats) if renderer else []

    async def export(self, request: ExportRequest) -> Document:
        """The document a request asks for, after checking that its kind, format and subject go together."""
        checked = self.check(request)
        rendered = await self.renderers[checked.kind].render(checked, self.gatherer)
        serialisation = self.serialisation(checked)
        return Document(
            serialisation.media_type, self.filename(checked), rendered.body, rendered.completeness
        )

    def serialisation(self, checked: ExportRequest) -> Serialisation:
        assert checked.format is not None
        return self.renderers[checked.kind].formats[checked.format]

    def filename(self, checked: ExportRequest) -> str:
        """`modelVersion-sentiment-2.spdx.json`: the subject, the kind (and answer), the suffix."""
        safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in checked.subject_id)
        what = checked.kind.value
        if checked.answer is not None and checked.answer is not _DEFAULT_ANSWER.get(
            parse_id(checked.subject_id, "id").kind
        ):
            what = f"{checked.answer.value}.{what}"
        return f"{safe}.{what}.{self.serialisation(checked).suffix}"

    def check(self, request: ExportRequest) -> ExportRequest:
        """The request with its defaults filled in (format, answer), or INVALID_ARGUMENT naming the field."""
        renderer = self.renderers.get(request.kind)
        if renderer is None:
            raise InvalidArgument(f"{request.kind.value} documents are not available here", field="kind")
        subject = parse_id(request.subject_id, "id")
        fmt = request.format or next(iter(renderer.formats))
        if fmt not in renderer.formats:
            raise InvalidArgument(
                f"{request.kind.value} comes as {', '.join(renderer.formats)}; not {fmt!r}", field="format"
            )
        answer = request.answer
        if request.kind is DocumentKind.PROV:
            answer = answer or _DEFAULT_ANSWER.get(subject.kind, Answer.LINEAGE)
            allowed = _ANSWER_SUBJECTS[answer]
        else:
            if answer is not None:
                raise InvalidArgument("answer is only for prov documents", field="answer")
            allowed = renderer.subjects
        if subject.kind not in allowed:
            what = answer.value if answer else request.kind.value
            raise InvalidArgument(
                f"a {what} document is about a {' or '.join(k.value for k in allowed)}; "
                f"{subject.id!r} is a {subject.kind.value}",
                field="id",
            )
        return replace(request, subject_id=subject.id, format=fmt, answer=answer)
