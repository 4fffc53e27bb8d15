"""Data entities: sources, datasets, their immutable versions and slices."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from provgraph.domain.records import Recorded


@dataclass(frozen=True)
class SourceSpec:
    """What a client registers about a data source."""

    name: str
    kind: str
    uri: str | None = None
    owner: str | None = None
    license: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: str
    uri: str | None
    owner: str | None
    license: str | None
    description: str | None
    recorded: Recorded
    excluded_at: datetime | None = None
    exclusion_reason: str | None = None
    exclusion_recorded_at: datetime | None = None

    def as_known(self, known_at: datetime) -> Source:
        """The source as the service knew it at `known_at`: an exclusion recorded later had not happened."""
        if self.exclusion_recorded_at is not None and self.exclusion_recorded_at > known_at:
            return replace(self, excluded_at=None, exclusion_reason=None, exclusion_recorded_at=None)
        return self


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    description: str | None
    owner: str | None
    recorded: Recorded


@dataclass(frozen=True)
class Derivation:
    """A dataset version derived from another, and how (the transform that was applied)."""

    from_id: str
    transform: str | None = None


@dataclass(frozen=True)
class DatasetVersionSpec:
    """An immutable version of a dataset: its content digest, where it lives, and where it came from."""

    dataset: str
    version: str
    digest: str | None = None
    uri: str | None = None
    row_count: int | None = None
    schema: str | None = None  # JSON text, kept as given
    created_at: datetime | None = None  # defaults to the time it is recorded
    source_ids: tuple[str, ...] = ()
    derived_from: tuple[Derivation, ...] = ()
    generated_by: str | None = None  # the run that produced it


@dataclass(frozen=True)
class DatasetVersion:
    id: str
    dataset_id: str
    version: str
    digest: str | None
    uri: str | None
    row_count: int | None
    schema: str | None
    created_at: datetime
    source_ids: tuple[str, ...]
    derived_from: tuple[Derivation, ...]
    generated_by: str | None
    recorded: Recorded


@dataclass(frozen=True)
class SliceSpec:
    """A named subset of a dataset version: a split, a partition, a filtered sample."""

    dataset_version_id: str
    name: str
    predicate: str | None = None
    row_count: int | None = None
    digest: str | None = None
    created_at: datetime | None = None
    source_ids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Slice:
    id: str
    dataset_version_id: str
    name: str
    predicate: str | None
    row_count: int | None
    digest: str | None
    created_at: datetime
    source_ids: tuple[str, ...]
    recorded: Recorded
