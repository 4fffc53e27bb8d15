"""`recordProvenance` (where one record is and which models learned from it) and
`declareKeyPreservingTransform`. Keys themselves are registered over REST (`POST /v1/record-keys`): they
are binary and can run to hundreds of megabytes."""

from __future__ import annotations

from datetime import datetime

import strawberry

from provgraph.api.context import Info
from provgraph.api.scalars import Long
from provgraph.api.types.common import KnownAt, Stage
from provgraph.api.types.registry import ModelVersionType
from provgraph.api.types.serving import DeploymentType
from provgraph.domain import membership as m

Certainty = strawberry.enum(
    m.Certainty,
    name="Certainty",
    description="DEFINITELY: an exact set of key hashes holds the record. POSSIBLY: a Bloom filter says so "
    "(false positives happen at its stated rate), or the data was derived from a holder by a key-preserving "
    "transform (which may have dropped the record).",
)
MembershipBasis = strawberry.enum(m.Basis, name="MembershipBasis")


@strawberry.type(name="RecordHolder", description="A dataset version or slice holding the record.")
class RecordHolderType:
    data_id: strawberry.ID
    certainty: Certainty  # type: ignore[valid-type]
    basis: MembershipBasis  # type: ignore[valid-type]
    source_id: strawberry.ID | None = strawberry.field(
        description="The source the registration attributes the record to (null when inherited)."
    )
    false_positive_rate: float | None = strawberry.field(
        description="For a filter: the chance it reports a record it does not hold."
    )
    via: strawberry.ID | None = strawberry.field(description="For INHERITED: the holder it was derived from.")


@strawberry.type(
    name="StoppedDerivation",
    description="Data derived from a holder by a transform not declared key-preserving and without keys of "
    "its own: whether it holds the record is unknown, and the answer does not follow it further.",
)
class StoppedDerivationType:
    data_id: strawberry.ID
    derived_from: strawberry.ID


@strawberry.type(name="RecordRun", description="A run that used data holding the record.")
class RecordRunType:
    run_id: strawberry.ID
    certainty: Certainty  # type: ignore[valid-type]
    data_ids: list[strawberry.ID]


@strawberry.type(name="RecordModelVersion", description="A model version that learned from the record.")
class RecordModelVersionType:
    model_version: ModelVersionType
    stage: Stage = strawberry.field(description="Its stage at asOf.")  # type: ignore[valid-type]
    live_deployments: list[DeploymentType] = strawberry.field(description="Where it ran at asOf.")
    certainty: Certainty  # type: ignore[valid-type]
    run_ids: list[strawberry.ID]
    inferences: int = strawberry.field(description="Inferences it served up to asOf.")


@strawberry.type(name="RecordProvenance")
class RecordProvenanceType:
    key_hash: str | None
    as_of: datetime
    holders: list[RecordHolderType]
    stopped: list[StoppedDerivationType]
    runs: list[RecordRunType]
    model_versions: list[RecordModelVersionType]
    inferences: int = strawberry.field(description="Inferences served by those model versions up to asOf.")

    @classmethod
    def of(cls, found: m.RecordProvenance) -> RecordProvenanceType:
        return cls(
            key_hash=found.key_hash,
            as_of=found.as_of,
            holders=[
                RecordHolderType(
                    data_id=strawberry.ID(h.data_id),
                    certainty=h.certainty,
                    basis=h.basis,
                    source_id=strawberry.ID(h.source_id) if h.source_id else None,
                    false_positive_rate=h.false_positive_rate,
                    via=strawberry.ID(h.via) if h.via else None,
                )
                for h in found.holders
            ],
            stopped=[
                StoppedDerivationType(
                    data_id=strawberry.ID(s.data_id), derived_from=strawberry.ID(s.derived_from)
                )
                for s in found.stopped
            ],
            runs=[
                RecordRunType(
                    run_id=strawberry.ID(r.run_id),
                    certainty=r.certainty,
                    data_ids=[strawberry.ID(d) for d in r.data_ids],
                )
                for r in found.runs
            ],
            model_versions=[
                RecordModelVersionType(
                    model_version=ModelVersionType.of(x.version.model_version),
                    stage=x.version.stage,
                    live_deployments=[DeploymentType.of(d) for d in x.version.live_deployments],
                    certainty=x.certainty,
                    run_ids=[strawberry.ID(r) for r in x.run_ids],
                    inferences=x.inferences,
                )
                for x in found.model_versions
            ],
            inferences=found.inferences,
        )


@strawberry.type(name="KeyPreservingTransform")
class KeyPreservingTransformType:
    dataset_version_id: strawberry.ID
    transform: str
    declared_at: datetime
    created: bool


@strawberry.input(
    name="RowRefInput",
    description="A record by its row id in a table with stable row ids (Iceberg `_row_id`, Delta `row_id`).",
)
class RowRefInput:
    table: str
    row_id: Long


@strawberry.input(name="RowRangeInput", description="Row ids `first` to `last`, both included.")
class RowRangeInput:
    first: Long
    last: Long


@strawberry.input(name="RegisterRowRangesInput")
class RegisterRowRangesInput:
    subject_id: strawberry.ID = strawberry.field(description="The dataset version or slice.")
    source_id: strawberry.ID
    table: str = strawberry.field(description="The table the row ids belong to, e.g. an Iceberg table name.")
    ranges: list[RowRangeInput]


@strawberry.type(name="RegisterRowRangesPayload")
class RegisterRowRangesPayload:
    subject_id: strawberry.ID
    source_id: strawberry.ID
    table: str
    ranges: int = strawberry.field(description="Ranges recorded (after merging adjacent ones).")
    rows: float = strawberry.field(description="Rows the ranges cover.")
    recorded_at: datetime
    created: bool


@strawberry.type
class MembershipQuery:
    @strawberry.field(
        description="Where one record is: every dataset version and slice holding it (DEFINITELY or POSSIBLY), "
        "what the answer could not follow, the runs that used its data, and the model versions that learned "
        "from it with their stage, live deployments and inferences at `asOf`. `keyHash` is the record key's "
        "HMAC-SHA256 under the client's secret, first 16 bytes, in hex — the SDK computes it; the service "
        "never sees the key."
    )
    async def record_provenance(
        self,
        info: Info,
        key_hash: str | None = None,
        row: RowRefInput | None = None,
        as_of: datetime | None = None,
        known_at: KnownAt = None,
        max_depth: int | None = None,
    ) -> RecordProvenanceType:
        found = await info.context.services.membership.record_provenance(
            key_hash, as_of, known_at, max_depth, row=(row.table, row.row_id) if row else None
        )
        return RecordProvenanceType.of(found)


@strawberry.type
class MembershipMutation:
    @strawberry.mutation(
        description="Declare that a derived dataset version's transform keeps its parents' record keys (a "
        "filter, a dedupe, a split), so record membership follows its derivations. Idempotent; a different "
        "transform for the same version is a CONFLICT."
    )
    async def declare_key_preserving_transform(
        self, info: Info, dataset_version_id: strawberry.ID, transform: str
    ) -> KeyPreservingTransformType:
        name, at, created = await info.context.services.membership.declare_key_preserving(
            str(dataset_version_id), transform, info.context.caller
        )
        return KeyPreservingTransformType(
            dataset_version_id=dataset_version_id, transform=name, declared_at=at, created=created
        )

    @strawberry.mutation(
        description="Register the row-id ranges a dataset version or slice holds of a table, for storage "
        "layers with stable row ids (Iceberg v3 row lineage, Delta row tracking): a record named by its row "
        "in recordProvenance is then held DEFINITELY. Idempotent; other ranges are a CONFLICT."
    )
    async def register_row_ranges(
        self, info: Info, input: RegisterRowRangesInput
    ) -> RegisterRowRangesPayload:
        ranges, at, created = await info.context.services.membership.register_row_ranges(
            str(input.subject_id),
            str(input.source_id),
            input.table,
            [(r.first, r.last) for r in input.ranges],
            info.context.caller,
        )
        return RegisterRowRangesPayload(
            subject_id=input.subject_id,
            source_id=input.source_id,
            table=input.table,
            ranges=len(ranges),
            rows=float(sum(last - first + 1 for first, last in ranges)),
            recorded_at=at,
            created=created,
        )
