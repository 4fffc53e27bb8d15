"""`retention` (what is kept where, and for how long) and `compactInferences` (move old inferences now)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from provgraph.domain.retention import RetentionReport, TierReach


@strawberry.type(name="TierReach", description="What one tier holds now.")
class TierReachType:
    inferences: int
    oldest: datetime | None = strawberry.field(description="The earliest inference time held.")
    newest: datetime | None = strawberry.field(description="The latest inference time held (cold tier).")
    bytes: float | None = strawberry.field(description="Bytes of its files (cold tier).")

    @classmethod
    def of(cls, reach: TierReach) -> TierReachType:
        return cls(
            inferences=reach.inferences,
            oldest=reach.oldest,
            newest=reach.newest,
            bytes=None if reach.bytes is None else float(reach.bytes),
        )


@strawberry.type(
    name="Retention",
    description="The retention policy the service enforces, and how far back each tier reaches now. Inferences "
    "stay graph nodes for `hotDays`, then a compaction moves them to the cold tier (Apache Iceberg); cold ones "
    "are deleted after `coldDays` (null: never), never before `minColdDays`.",
)
class RetentionType:
    now: datetime
    hot_days: int
    cold_days: int | None
    min_cold_days: int
    hot: TierReachType
    cold: TierReachType
    compacted_before: datetime | None = strawberry.field(
        description="Every inference before this time has left the graph for the cold tier."
    )
    deleted_before: datetime | None = strawberry.field(
        description="Cold inferences before this time were deleted under the policy (null: none ever were)."
    )
    cold_location: str = strawberry.field(description="The cold tier's Iceberg warehouse.")
    cold_snapshot: str | None = strawberry.field(description="The Iceberg snapshot readers see now.")

    @classmethod
    def of(cls, report: RetentionReport) -> RetentionType:
        return cls(
            now=report.now,
            hot_days=report.policy.hot_days,
            cold_days=report.policy.cold_days,
            min_cold_days=report.policy.min_cold_days,
            hot=TierReachType.of(report.hot),
            cold=TierReachType.of(report.cold),
            compacted_before=report.compacted_before,
            deleted_before=report.deleted_before,
            cold_location=report.cold_location,
            cold_snapshot=None if report.cold_snapshot is None else str(report.cold_snapshot),
        )


@strawberry.type(name="CompactionResult")
class CompactionResultType:
    moved: int = strawberry.field(description="Inferences moved from the graph to the cold tier.")
    rounds: int
    recovered: list[str] = strawberry.field(description="Unfinished compactions this run completed.")
    deleted_before: datetime | None


@strawberry.type
class RetentionQuery:
    @strawberry.field(
        description="The inference retention policy and what each tier holds (a citable answer)."
    )
    async def retention(self, info: Info) -> RetentionType:
        return RetentionType.of(await info.context.services.compaction.retention())


@strawberry.type
class RetentionMutation:
    @strawberry.mutation(
        description="Move inferences older than the hot window to the cold tier now and apply the cold "
        "retention (ADMIN; the server also does this on a schedule). Running it again moves nothing."
    )
    async def compact_inferences(self, info: Info) -> CompactionResultType:
        outcome = await info.context.services.compaction.compact()
        return CompactionResultType(
            moved=outcome.moved,
            rounds=outcome.rounds,
            recovered=outcome.recovered,
            deleted_before=outcome.deleted_before,
        )
