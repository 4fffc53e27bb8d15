"""The document kinds this build can make, each with its serialisations (see service.Renderer).

Each kind's module defines its `Renderer`; this table is the one place that lists them.
"""

from __future__ import annotations

from provgraph.domain.documents import DocumentKind
from provgraph.service.documents import prov
from provgraph.service.documents.cyclonedx import CYCLONEDX
from provgraph.service.documents.dossier import DOSSIER
from provgraph.service.documents.receipt import RECEIPT
from provgraph.service.documents.service import Renderer
from provgraph.service.documents.spdx import SPDX

RENDERERS: dict[DocumentKind, Renderer] = {
    DocumentKind.PROV: prov.RENDERER,
    DocumentKind.SPDX: SPDX,
    DocumentKind.CYCLONEDX: CYCLONEDX,
    DocumentKind.DOSSIER: DOSSIER,
    DocumentKind.RECEIPT: RECEIPT,
}
