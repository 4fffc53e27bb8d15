"""Registering and reading the data catalog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from provgraph.domain.catalog import (
    Dataset,
    DatasetSpec,
    DatasetVersion,
    DatasetVersionSpec,
    Derivation,
    Slice,
    SliceSpec,
    Source,
    SourceSpec,
)
from provgraph.domain.errors import Conflict, NotFound
from provgraph.domain.ids import Kind
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Caller, first_difference
from provgraph.service import validate as v
from provgraph.store.catalog import CatalogStore

T = TypeVar("T")


@dataclass(frozen=True)
class Registered(Generic[T]):
    """The result of an idempotent registration: the stored entity, and whether this call created it."""

    entity: T
    created: bool


def check_unchanged(kind: str, entity_id: str, pairs: dict[str, tuple[object, object]]) -> None:
    """Registering an existing key again is fine only when every immutable fact matches."""
    field = first_difference(pairs)
    if field is not None:
        requested, stored = pairs[field]
        raise Conflict(
            f"{kind} {entity_id} is already recorded with {field}={stored!r}; it cannot be changed to "
            f"{requested!r} (register a new version instead)",
            field=field,
        )


def pick(found: Mapping[str, T], entity_id: str, what: str, field: str = "id") -> T:
    """The entity a by-id read found, or NOT_FOUND naming the field."""
    if entity_id not in found:
        raise NotFound(f"{what} {entity_id!r} does not exist", field=field)
    return found[entity_id]


class CatalogService:
    """Sources, datasets, versions and slices."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store

    async def register_source(self, spec: SourceSpec, caller: Caller) -> Registered[Source]:
        spec = SourceSpec(
            name=v.name(spec.name, "name"),
            kind=v.token(spec.kind, "kind"),
            uri=v.line(spec.uri, "uri", 2048),
            owner=v.line(spec.owner, "owner", 256),
            license=v.line(spec.license, "license", 256),
            description=v.text(spec.description, "description", 4096),
        )
        source, created = await self.store.merge_source(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "source",
                source.id,
                {
                    "kind": (spec.kind, source.kind),
                    "uri": (spec.uri, source.uri),
                    "owner": (spec.owner, source.owner),
                    "license": (spec.license, source.license),
                    "description": (spec.description, source.description),
                },
            )
        return Registered(source, created)

    async def register_dataset(self, spec: DatasetSpec, caller: Caller) -> Registered[Dataset]:
        spec = DatasetSpec(
            name=v.name(spec.name, "name"),
            description=v.text(spec.description, "description", 4096),
            owner=v.line(spec.owner, "owner", 256),
        )
        dataset, created = await self.store.merge_dataset(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "dataset",
                dataset.id,
                {
                    "description": (spec.description, dataset.description),
                    "owner": (spec.owner, dataset.owner),
                },
            )
        return Registered(dataset, created)

    async def register_dataset_version(
        self, spec: DatasetVersionSpec, caller: Caller
    ) -> Registered[DatasetVersion]:
        spec = replace(
            spec,
            dataset=v.name(spec.dataset, "dataset"),
            version=v.name(spec.version, "version"),
            digest=v.line(spec.digest, "digest", 256),
            uri=v.line(spec.uri, "uri", 2048),
            row_count=v.non_negative(spec.row_count, "rowCount"),
            schema=v.json_text(spec.schema, "schema"),
            created_at=v.aware(spec.created_at, "createdAt"),
            source_ids=v.ids(spec.source_ids, "sourceIds", Kind.SOURCE),
            derived_from=tuple(
                Derivation(
                    v.one_id(d.from_id, "derivedFrom", Kind.DATASET_VERSION),
                    v.text(d.transform, "transform", 2048),
                )
                for d in spec.derived_from
            ),
            generated_by=v.opt_id(spec.generated_by, "generatedBy", Kind.RUN),
        )
        v.ids([d.from_id for d in spec.derived_from], "derivedFrom", Kind.DATASET_VERSION)
        version, created = await self.store.merge_dataset_version(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "dataset version",
                version.id,
                {
                    "digest": (spec.digest, version.digest),
                    "uri": (spec.uri, version.uri),
                    "rowCount": (spec.row_count, version.row_count),
                    "schema": (spec.schema, version.schema),
                    "createdAt": (spec.created_at, version.created_at),
                    "sourceIds": (list(spec.source_ids), list(version.source_ids)),
                    "derivedFrom": (
                        [(d.from_id, d.transform) for d in spec.derived_from],
                        [(d.from_id, d.transform) for d in version.derived_from],
                    ),
                    "generatedBy": (spec.generated_by, version.generated_by),
                },
            )
        return Registered(version, created)

    async def register_slice(self, spec: SliceSpec, caller: Caller) -> Registered[Slice]:
        spec = replace(
            spec,
            dataset_version_id=v.one_id(spec.dataset_version_id, "datasetVersionId", Kind.DATASET_VERSION),
            name=v.name(spec.name, "name"),
            predicate=v.text(spec.predicate, "predicate", 4096),
            row_count=v.non_negative(spec.row_count, "rowCount"),
            digest=v.line(spec.digest, "digest", 256),
            created_at=v.aware(spec.created_at, "createdAt"),
            source_ids=v.ids(spec.source_ids, "sourceIds", Kind.SOURCE),
        )
        slice_, created = await self.store.merge_slice(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "slice",
                slice_.id,
                {
                    "predicate": (spec.predicate, slice_.predicate),
                    "rowCount": (spec.row_count, slice_.row_count),
                    "digest": (spec.digest, slice_.digest),
                    "createdAt": (spec.created_at, slice_.created_at),
                    "sourceIds": (list(spec.source_ids), list(slice_.source_ids)),
                },
            )
        return Registered(slice_, created)

    async def source(self, source_id: str) -> Source:
        checked = v.one_id(source_id, "id", Kind.SOURCE)
        return pick(await self.store.sources_by_ids([checked]), checked, "source")

    async def dataset(self, dataset_id: str) -> Dataset:
        checked = v.one_id(dataset_id, "id", Kind.DATASET)
        return pick(await self.store.datasets_by_ids([checked]), checked, "dataset")

    async def dataset_version(self, version_id: str) -> DatasetVersion:
        checked = v.one_id(version_id, "id", Kind.DATASET_VERSION)
        return pick(await self.store.dataset_versions_by_ids([checked]), checked, "dataset version")

    async def slice(self, slice_id: str) -> Slice:
        checked = v.one_id(slice_id, "id", Kind.SLICE)
        return pick(await self.store.slices_by_ids([checked]), checked, "slice")

    async def sources(self, first: int | None, after: str | None) -> Page[Source]:
        return await self.store.list_sources(PageRequest.of(first, after))

    async def datasets(self, first: int | None, after: str | None) -> Page[Dataset]:
        return await self.store.list_datasets(PageRequest.of(first, after))

    # Batch reads used by the API's DataLoaders.
    async def sources_by_ids(self, ids: Sequence[str]) -> dict[str, Source]:
        return await self.store.sources_by_ids(ids)

    async def datasets_by_ids(self, ids: Sequence[str]) -> dict[str, Dataset]:
        return await self.store.datasets_by_ids(ids)

    async def dataset_versions_by_ids(self, ids: Sequence[str]) -> dict[str, DatasetVersion]:
        return await self.store.dataset_versions_by_ids(ids)

    async def slices_by_ids(self, ids: Sequence[str]) -> dict[str, Slice]:
        return await self.store.slices_by_ids(ids)

    async def version_ids_of_datasets(self, ids: Sequence[str]) -> dict[str, list[str]]:
        return await self.store.version_ids_of_datasets(ids)

    async def slice_ids_of_versions(self, ids: Sequence[str]) -> dict[str, list[str]]:
        return await self.store.slice_ids_of_versions(ids)
