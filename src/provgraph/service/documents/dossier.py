"""The technical-documentation dossier of a model version (kind `dossier`): HTML, or PDF from the same
HTML. Content in dossier_content (with dossier_runs and dossier_lifecycle), the picture in
dossier_picture, the page in dossier_html, the PDF in dossier_pdf."""

from __future__ import annotations

import asyncio

from provgraph.domain.documents import Completeness, ExportRequest, Rendered, Serialisation
from provgraph.service.documents.dossier_content import build
from provgraph.service.documents.dossier_html import html
from provgraph.service.documents.dossier_model import Dossier
from provgraph.service.documents.dossier_pdf import pdf
from provgraph.service.documents.dossier_picture import lineage_svg
from provgraph.service.documents.gather import Gatherer, ModelVersionProvenance
from provgraph.service.documents.service import Renderer


def dossier_of(p: ModelVersionProvenance) -> Dossier:
    """The dossier's content (its picture drawn by Graphviz)."""
    excluded = [x.source.id for x in p.exclusions]
    return build(p, lineage_svg(p.model_version.id, p.upstream.edges, excluded))


def _make(p: ModelVersionProvenance, fmt: str) -> Rendered:
    dossier = dossier_of(p)
    page = html(dossier)
    body = pdf(page) if fmt == "pdf" else page.encode()
    return Rendered(body, Completeness(dossier.present, dossier.missing))


async def render(request: ExportRequest, gatherer: Gatherer) -> Rendered:
    p = await gatherer.model_version(request.subject_id, request.as_of, request.known_at)
    assert request.format is not None
    # Graphviz and WeasyPrint take tens to hundreds of milliseconds of CPU: off the event loop.
    return await asyncio.to_thread(_make, p, request.format)


DOSSIER = Renderer(
    formats={
        "html": Serialisation("text/html", "html"),
        "pdf": Serialisation("application/pdf", "pdf"),
    },
    render=render,
)
