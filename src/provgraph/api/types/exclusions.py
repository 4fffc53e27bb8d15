"""GraphQL: excluding a source, its case, the decisions taken in it, and receipts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from provgraph.api.context import Info
from provgraph.api.types.catalog import SourceType
from provgraph.api.types.paging import Connection, connection
from provgraph.api.types.registry import ModelVersionType
from provgraph.domain import exclusions
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind, make_id, parse_id

DecisionKind = strawberry.enum(
    exclusions.Decision,
    name="ExclusionDecisionKind",
    description="RETRAIN without the source, RETIRE the version, or ACCEPT it as it is (with a justification).",
)


@strawberry.type(name="ExclusionDecision", description="What was decided about one affected model version.")
class DecisionType:
    model_version_id: strawberry.ID
    decision: DecisionKind  # type: ignore[valid-type]
    reason: str
    at: datetime = strawberry.field(description="When it was decided.")
    actor: str
    recorded_at: datetime

    @strawberry.field
    async def model_version(self, info: Info) -> ModelVersionType | None:
        found = await info.context.loaders.model_versions.load(self.model_version_id)
        return ModelVersionType.of(found) if found else None

    @classmethod
    def of(cls, d: exclusions.CaseDecision) -> DecisionType:
        return cls(
            model_version_id=strawberry.ID(d.model_version_id),
            decision=d.decision,
            reason=d.reason,
            at=d.at,
            actor=d.actor,
            recorded_at=d.recorded_at,
        )


@strawberry.type(
    name="ExclusionCase",
    description="Opened when a source is excluded: the impact at that moment, and a decision per affected "
    "model version.",
)
class CaseType:
    id: strawberry.ID
    source_id: strawberry.ID
    reason: str = strawberry.field(description="Why the source was excluded.")
    excluded_at: datetime
    opened_by: str
    opened_at: datetime = strawberry.field(description="When the exclusion and its case were recorded.")
    impact_digest: str = strawberry.field(description="sha256 of the impact snapshot's canonical JSON.")
    impact: JSON = strawberry.field(
        description="The impact report when the case was opened: affected dataset versions, slices, runs, "
        "model versions and inference counts."
    )
    affected_ids: list[strawberry.ID] = strawberry.field(description="The model versions to decide about.")
    decisions: list[DecisionType]
    undecided_ids: list[strawberry.ID] = strawberry.field(
        description="Affected versions with no decision yet."
    )

    @strawberry.field
    async def source(self, info: Info) -> SourceType | None:
        found = await info.context.loaders.sources.load(self.source_id)
        return SourceType.of(found) if found else None

    @classmethod
    def of(cls, c: exclusions.ExclusionCase) -> CaseType:
        return cls(
            id=strawberry.ID(c.id),
            source_id=strawberry.ID(c.source_id),
            reason=c.reason,
            excluded_at=c.excluded_at,
            opened_by=c.opened_by,
            opened_at=c.opened_at,
            impact_digest=c.snapshot_digest,
            impact=JSON(c.snapshot),
            affected_ids=[strawberry.ID(v) for v in c.affected],
            decisions=[DecisionType.of(d) for d in c.decisions],
            undecided_ids=[strawberry.ID(v) for v in c.undecided],
        )


@strawberry.type
class ExcludeSourcePayload:
    source: SourceType
    case: CaseType | None = strawberry.field(
        description="The case the exclusion opened (null only for an exclusion recorded before cases existed)."
    )
    created: bool = strawberry.field(description="False when the same exclusion was already recorded.")


@strawberry.input
class ExcludeSourceInput:
    source_id: strawberry.ID
    reason: str
    at: datetime | None = None


@strawberry.input
class DecideExclusionInput:
    case_id: strawberry.ID
    model_version_id: strawberry.ID
    decision: DecisionKind  # type: ignore[valid-type]
    reason: str = strawberry.field(description="Why; for ACCEPT, the justification.")
    at: datetime | None = strawberry.field(default=None, description="When it was decided (default: now).")


@strawberry.type
class DecideExclusionPayload:
    case: CaseType
    decision: DecisionType
    created: bool = strawberry.field(description="False when this decision was already recorded.")


@strawberry.type
class ReceiptCheck:
    valid: bool
    case_id: strawberry.ID | None
    problems: list[str]


@strawberry.type
class ExclusionQuery:
    @strawberry.field(description="An exclusion case, by its id or by its source's id.")
    async def exclusion_case(
        self, info: Info, id: strawberry.ID | None = None, source_id: strawberry.ID | None = None
    ) -> CaseType:
        service = info.context.services.exclusions
        return CaseType.of(await service.case(id if id is not None else _case_id_of(source_id)))

    @strawberry.field(
        description="Exclusion cases ordered by id; `undecided: true` lists those with work left."
    )
    async def exclusion_cases(
        self, info: Info, undecided: bool = False, first: int | None = None, after: str | None = None
    ) -> Connection[CaseType]:
        return connection(await info.context.services.exclusions.cases(undecided, first, after), CaseType.of)

    @strawberry.field(
        description="A receipt for an auditor to keep: the case, its decisions and what is undecided, with "
        "each fact's position and hash in the exclusions ledger, signed with the audit key (JSON text)."
    )
    async def exclusion_receipt(self, info: Info, case_id: strawberry.ID) -> JSON:
        return JSON(await info.context.services.exclusions.receipt(case_id))

    @strawberry.field(
        description="Check a receipt: its signature, and that the ledger still holds its facts."
    )
    async def verify_exclusion_receipt(self, info: Info, receipt: str) -> ReceiptCheck:
        check = await info.context.services.exclusions.verify_receipt(receipt)
        return ReceiptCheck(
            valid=check.valid,
            case_id=strawberry.ID(check.case_id) if check.case_id else None,
            problems=check.problems,
        )


@strawberry.type
class ExclusionMutation:
    @strawberry.mutation(
        description="Record that a source must no longer be used, and open its case with a snapshot of the "
        "impact. Nothing is deleted; impactReport keeps listing what it affects."
    )
    async def exclude_source(self, info: Info, input: ExcludeSourceInput) -> ExcludeSourcePayload:
        done = await info.context.services.exclusions.exclude_source(
            input.source_id, input.reason, input.at, info.context.caller
        )
        return ExcludeSourcePayload(
            source=SourceType.of(done.source),
            case=CaseType.of(done.case) if done.case else None,
            created=done.created,
        )

    @strawberry.mutation(
        description="Record what was decided about a model version an exclusion affects (once; the same "
        "decision again records nothing: `created: false`)."
    )
    async def decide_exclusion(self, info: Info, input: DecideExclusionInput) -> DecideExclusionPayload:
        done = await info.context.services.exclusions.decide(
            input.case_id,
            input.model_version_id,
            input.decision.value,  # type: ignore[attr-defined]
            input.reason,
            input.at,
            info.context.caller,
        )
        return DecideExclusionPayload(
            case=CaseType.of(done.case), decision=DecisionType.of(done.decision), created=done.created
        )


def _case_id_of(source_id: str | None) -> str:
    if source_id is None:
        raise InvalidArgument("give the case's id or its source's id", field="id")
    source = parse_id(source_id, "sourceId", Kind.SOURCE)
    return make_id(Kind.EXCLUSION_CASE, *source.parts)
