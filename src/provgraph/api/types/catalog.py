"""GraphQL types for sources, datasets, dataset versions and slices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from provgraph.api.context import Info
from provgraph.api.scalars import Long, long_or_none
from provgraph.api.types.paging import After, Connection, First, connection, page_ids
from provgraph.domain import catalog as domain

if TYPE_CHECKING:
    from provgraph.api.types.runs import RunType

Lazy = strawberry.lazy


@strawberry.type(name="Source", description="Where data comes from: a vendor, a database, a bucket, a crawl.")
class SourceType:
    id: strawberry.ID
    name: str
    kind: str
    uri: str | None
    owner: str | None
    license: str | None
    description: str | None
    recorded_at: datetime
    recorded_by: str
    excluded_at: datetime | None = strawberry.field(description="When the source was excluded, if it was.")
    exclusion_reason: str | None

    @classmethod
    def of(cls, s: domain.Source) -> SourceType:
        return cls(
            id=strawberry.ID(s.id),
            name=s.name,
            kind=s.kind,
            uri=s.uri,
            owner=s.owner,
            license=s.license,
            description=s.description,
            recorded_at=s.recorded.recorded_at,
            recorded_by=s.recorded.recorded_by,
            excluded_at=s.excluded_at,
            exclusion_reason=s.exclusion_reason,
        )


@strawberry.type(name="Dataset", description="A named dataset; its content lives in immutable versions.")
class DatasetType:
    id: strawberry.ID
    name: str
    description: str | None
    owner: str | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field(description="The versions of this dataset, ordered by id, a page at a time.")
    async def versions(
        self, info: Info, first: First = None, after: After = None
    ) -> list[DatasetVersionType]:
        ids = page_ids(await info.context.loaders.version_ids_of_dataset.load(self.id), first, after)
        found = await info.context.loaders.dataset_versions.load_many(ids)
        return [DatasetVersionType.of(v) for v in found if v is not None]

    @classmethod
    def of(cls, d: domain.Dataset) -> DatasetType:
        return cls(
            id=strawberry.ID(d.id),
            name=d.name,
            description=d.description,
            owner=d.owner,
            recorded_at=d.recorded.recorded_at,
            recorded_by=d.recorded.recorded_by,
        )


@strawberry.type(name="Derivation", description="A dataset version this one was derived from, and how.")
class DerivationType:
    from_id: strawberry.ID
    transform: str | None

    @strawberry.field(name="from")
    async def from_version(self, info: Info) -> DatasetVersionType | None:
        found = await info.context.loaders.dataset_versions.load(self.from_id)
        return DatasetVersionType.of(found) if found else None


@strawberry.type(name="DatasetVersion", description="An immutable version of a dataset.")
class DatasetVersionType:
    id: strawberry.ID
    dataset_id: strawberry.ID
    version: str
    digest: str | None
    uri: str | None
    row_count: Long | None
    schema: str | None = strawberry.field(description="The version's schema as JSON text.")
    created_at: datetime
    source_ids: list[strawberry.ID]
    derived_from: list[DerivationType]
    generated_by_id: strawberry.ID | None = strawberry.field(
        description="The run that produced this version."
    )
    recorded_at: datetime
    recorded_by: str

    @strawberry.field(description="The run that produced this version.")
    async def generated_by(self, info: Info) -> Annotated[RunType, Lazy("provgraph.api.types.runs")] | None:
        from provgraph.api.types.runs import RunType

        if self.generated_by_id is None:
            return None
        found = await info.context.loaders.runs.load(self.generated_by_id)
        return RunType.of(found) if found else None

    @strawberry.field(
        description="OpenLineage facets received for this version (dataset, input and output facets, the latest "
        "of each; column lineage among them), verbatim; null when it did not come through OpenLineage."
    )
    async def open_lineage_facets(self, info: Info) -> JSON | None:
        found = await info.context.loaders.dataset_version_facets.load(self.id)
        return None if found is None else JSON(found)

    @strawberry.field
    async def dataset(self, info: Info) -> DatasetType:
        found = await info.context.loaders.datasets.load(self.dataset_id)
        assert found is not None  # a version cannot exist without its dataset
        return DatasetType.of(found)

    @strawberry.field(description="The sources this version's data came from directly.")
    async def sources(self, info: Info) -> list[SourceType]:
        found = await info.context.loaders.sources.load_many(self.source_ids)
        return [SourceType.of(s) for s in found if s is not None]

    @strawberry.field(description="The slices of this version, ordered by id, a page at a time.")
    async def slices(self, info: Info, first: First = None, after: After = None) -> list[SliceType]:
        ids = page_ids(await info.context.loaders.slice_ids_of_version.load(self.id), first, after)
        found = await info.context.loaders.slices.load_many(ids)
        return [SliceType.of(s) for s in found if s is not None]

    @classmethod
    def of(cls, v: domain.DatasetVersion) -> DatasetVersionType:
        return cls(
            id=strawberry.ID(v.id),
            dataset_id=strawberry.ID(v.dataset_id),
            version=v.version,
            digest=v.digest,
            uri=v.uri,
            row_count=long_or_none(v.row_count),
            schema=v.schema,
            created_at=v.created_at,
            source_ids=[strawberry.ID(s) for s in v.source_ids],
            derived_from=[
                DerivationType(from_id=strawberry.ID(d.from_id), transform=d.transform)
                for d in v.derived_from
            ],
            generated_by_id=strawberry.ID(v.generated_by) if v.generated_by else None,
            recorded_at=v.recorded.recorded_at,
            recorded_by=v.recorded.recorded_by,
        )


@strawberry.type(
    name="Slice", description="A named subset of a dataset version (a split, a partition, a sample)."
)
class SliceType:
    id: strawberry.ID
    dataset_version_id: strawberry.ID
    name: str
    predicate: str | None
    row_count: Long | None
    digest: str | None
    created_at: datetime
    source_ids: list[strawberry.ID]
    recorded_at: datetime
    recorded_by: str

    @strawberry.field
    async def dataset_version(self, info: Info) -> DatasetVersionType:
        found = await info.context.loaders.dataset_versions.load(self.dataset_version_id)
        assert found is not None  # a slice cannot exist without its version
        return DatasetVersionType.of(found)

    @strawberry.field
    async def sources(self, info: Info) -> list[SourceType]:
        found = await info.context.loaders.sources.load_many(self.source_ids)
        return [SourceType.of(s) for s in found if s is not None]

    @classmethod
    def of(cls, s: domain.Slice) -> SliceType:
        return cls(
            id=strawberry.ID(s.id),
            dataset_version_id=strawberry.ID(s.dataset_version_id),
            name=s.name,
            predicate=s.predicate,
            row_count=long_or_none(s.row_count),
            digest=s.digest,
            created_at=s.created_at,
            source_ids=[strawberry.ID(x) for x in s.source_ids],
            recorded_at=s.recorded.recorded_at,
            recorded_by=s.recorded.recorded_by,
        )


# -- inputs and payloads -------------------------------------------------------------------------------


@strawberry.input
class RegisterSourceInput:
    name: str
    kind: str = strawberry.field(description="vendor, database, bucket, crawl, user-upload, …")
    uri: str | None = None
    owner: str | None = None
    license: str | None = None
    description: str | None = None


@strawberry.input
class RegisterDatasetInput:
    name: str
    description: str | None = None
    owner: str | None = None


@strawberry.input
class DerivationInput:
    from_id: strawberry.ID = strawberry.field(description="The dataset version this one was derived from.")
    transform: str | None = strawberry.field(default=None, description="What was done to it.")


@strawberry.input
class RegisterDatasetVersionInput:
    dataset: str = strawberry.field(description="The dataset's name (registered before).")
    version: str
    digest: str | None = strawberry.field(default=None, description="A content hash, e.g. sha256:….")
    uri: str | None = None
    row_count: Long | None = None
    schema: str | None = strawberry.field(default=None, description="The schema as JSON text.")
    created_at: datetime | None = strawberry.field(
        default=None, description="Defaults to the time of recording."
    )
    source_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    derived_from: list[DerivationInput] = strawberry.field(default_factory=list)
    generated_by: strawberry.ID | None = strawberry.field(
        default=None, description="The run that produced it."
    )


@strawberry.input
class RegisterSliceInput:
    dataset_version_id: strawberry.ID
    name: str
    predicate: str | None = None
    row_count: Long | None = None
    digest: str | None = None
    created_at: datetime | None = None
    source_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class RegisterSourcePayload:
    source: SourceType
    created: bool = strawberry.field(description="False when the same source was already recorded.")


@strawberry.type
class RegisterDatasetPayload:
    dataset: DatasetType
    created: bool


@strawberry.type
class RegisterDatasetVersionPayload:
    dataset_version: DatasetVersionType
    created: bool


@strawberry.type
class RegisterSlicePayload:
    slice: SliceType
    created: bool


# -- root fields ---------------------------------------------------------------------------------------


@strawberry.type
class CatalogQuery:
    @strawberry.field
    async def source(self, info: Info, id: strawberry.ID) -> SourceType:
        return SourceType.of(await info.context.services.catalog.source(id))

    @strawberry.field(description="Sources ordered by id.")
    async def sources(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SourceType]:
        return connection(await info.context.services.catalog.sources(first, after), SourceType.of)

    @strawberry.field
    async def dataset(self, info: Info, id: strawberry.ID) -> DatasetType:
        return DatasetType.of(await info.context.services.catalog.dataset(id))

    @strawberry.field(description="Datasets ordered by id.")
    async def datasets(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[DatasetType]:
        return connection(await info.context.services.catalog.datasets(first, after), DatasetType.of)

    @strawberry.field
    async def dataset_version(self, info: Info, id: strawberry.ID) -> DatasetVersionType:
        return DatasetVersionType.of(await info.context.services.catalog.dataset_version(id))

    @strawberry.field
    async def slice(self, info: Info, id: strawberry.ID) -> SliceType:
        return SliceType.of(await info.context.services.catalog.slice(id))


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Record a data source. Idempotent on its name.")
    async def register_source(self, info: Info, input: RegisterSourceInput) -> RegisterSourcePayload:
        spec = domain.SourceSpec(
            name=input.name,
            kind=input.kind,
            uri=input.uri,
            owner=input.owner,
            license=input.license,
            description=input.description,
        )
        done = await info.context.services.catalog.register_source(spec, info.context.caller)
        return RegisterSourcePayload(source=SourceType.of(done.entity), created=done.created)

    @strawberry.mutation(description="Record a dataset. Idempotent on its name.")
    async def register_dataset(self, info: Info, input: RegisterDatasetInput) -> RegisterDatasetPayload:
        spec = domain.DatasetSpec(name=input.name, description=input.description, owner=input.owner)
        done = await info.context.services.catalog.register_dataset(spec, info.context.caller)
        return RegisterDatasetPayload(dataset=DatasetType.of(done.entity), created=done.created)

    @strawberry.mutation(
        description="Record an immutable dataset version with its sources and derivations. "
        "Idempotent on (dataset, version); different facts for an existing version are a CONFLICT."
    )
    async def register_dataset_version(
        self, info: Info, input: RegisterDatasetVersionInput
    ) -> RegisterDatasetVersionPayload:
        spec = domain.DatasetVersionSpec(
            dataset=input.dataset,
            version=input.version,
            digest=input.digest,
            uri=input.uri,
            row_count=input.row_count,
            schema=input.schema,
            created_at=input.created_at,
            source_ids=tuple(input.source_ids),
            derived_from=tuple(domain.Derivation(d.from_id, d.transform) for d in input.derived_from),
            generated_by=input.generated_by,
        )
        done = await info.context.services.catalog.register_dataset_version(spec, info.context.caller)
        return RegisterDatasetVersionPayload(
            dataset_version=DatasetVersionType.of(done.entity), created=done.created
        )

    @strawberry.mutation(description="Record a slice of a dataset version. Idempotent on (version, name).")
    async def register_slice(self, info: Info, input: RegisterSliceInput) -> RegisterSlicePayload:
        spec = domain.SliceSpec(
            dataset_version_id=input.dataset_version_id,
            name=input.name,
            predicate=input.predicate,
            row_count=input.row_count,
            digest=input.digest,
            created_at=input.created_at,
            source_ids=tuple(input.source_ids),
        )
        done = await info.context.services.catalog.register_slice(spec, info.context.caller)
        return RegisterSlicePayload(slice=SliceType.of(done.entity), created=done.created)
