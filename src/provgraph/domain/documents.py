"""Documents for auditors: what is asked for, and what comes back.

A document is drawn from the graph as of a time (`as_of`: which facts held then) and as the service knew
it (`known_at`: transaction time), so an export made today of the state on 1 March is the same document
next year. A document never invents: what the graph does not hold is reported as not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from provgraph.domain.lineage import Direction


class DocumentKind(Enum):
    PROV = "prov"  # W3C PROV of an answer (PROV-JSON, PROV-N, PROV-O as Turtle or JSON-LD)
    SPDX = "spdx"  # SPDX 3.0 AI-BOM of a model version (JSON-LD)
    CYCLONEDX = "cyclonedx"  # CycloneDX 1.6 ML-BOM of a model version (JSON)
    DOSSIER = "dossier"  # technical documentation of a model version, Annex IV's headings (HTML, PDF)
    RECEIPT = "receipt"  # the signed receipt of an exclusion case (JSON)


class Answer(Enum):
    """Which answer a PROV export describes; the subject's kind gives the default."""

    PROVENANCE = "provenance"  # a model version's whole provenance (the default for a model version)
    LINEAGE = "lineage"  # a lineage page around any node
    TRACE = "trace"  # an inference back to its sources (the default for an inference)
    IMPACT = "impact"  # everything derived from a source (the default for a source)
    EXCLUSION = "exclusion"  # an exclusion case: the source's impact and the decisions taken (its default)


@dataclass(frozen=True)
class ExportRequest:
    kind: DocumentKind
    subject_id: str
    format: str | None = None  # the kind's serialisation; None: the kind's default
    answer: Answer | None = None  # PROV only
    as_of: datetime | None = None  # None: now
    known_at: datetime | None = None  # None: everything recorded so far
    direction: Direction = Direction.UPSTREAM  # a lineage answer's direction
    depth: int | None = None  # a lineage answer's depth; None: the service's maximum


@dataclass(frozen=True)
class Completeness:
    """How many of a document format's recommended fields the graph could fill, and which it could not."""

    present: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def score(self) -> float:
        total = len(self.present) + len(self.missing)
        return 1.0 if total == 0 else len(self.present) / total


@dataclass(frozen=True)
class Serialisation:
    """One way a kind of document is written: its media type and its file name's suffix."""

    media_type: str
    suffix: str

    @property
    def is_text(self) -> bool:
        return self.media_type.startswith("text/") or "json" in self.media_type or "xml" in self.media_type


@dataclass(frozen=True)
class Rendered:
    """What a renderer makes: the bytes, and for formats with recommended fields, how complete they are."""

    body: bytes
    completeness: Completeness | None = None


@dataclass(frozen=True)
class Document:
    media_type: str
    filename: str
    body: bytes
    completeness: Completeness | None = None
