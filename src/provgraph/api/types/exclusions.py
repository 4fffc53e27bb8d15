"""GraphQL: excluding a source, its case, the decisions taken in it, and receipts. A case opened by an
erasure request (api/types/erasure.py) is the same `ExclusionCase` type with `trigger: ERASURE_REQUEST`."""

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

CaseTrigger = strawberry.enum(
    exclusions.Trigger,
    name="CaseTrigger",
    description="What opened a case: a source's exclusion, or an erasure request for records.",
)
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
    description="Opened when a source is excluded (SOURCE_EXCLUSION) or records are to be erased "
    "(ERASURE_REQUEST): what the data reached at that moment, and a decision per affected model version.",
)
class CaseType:
    id: strawberry.ID
    trigger: CaseTrigger  # type: ignore[valid-type]
    source_id: strawberry.ID | None = strawberry.field(
        description="The excluded source (null for an erasure request)."
    )
    key_hash_count: int = strawberry.field(
        description="How many record key hashes an erasure request named (0 for a source's exclusion)."
    )
    reason: str = strawberry.field(
        description="Why the source was excluded, or the records are to be erased."
    )
    excluded_at: datetime | None = strawberry.field(
        description="When the exclusion took effect (null for an erasure request)."
    )
    opened_by: str
    opened_at: datetime = strawberry.field(description="When the case was recorded.")
    impact_digest: str = strawberry.field(description="sha256 of the snapshot's canonical JSON.")
    impact: JSON = strawberry.field(
        description="The snapshot taken when the case was opened. For a source: its impact report (affected "
        "dataset versions, slices, runs, model versions, inference counts). For an erasure request: the "
        "recordProvenance answer for each key hash (`records`: holders with certainty and basis, stopped "
        "derivations, runs) and the model versions that learned from any of them, with stage, live "
        "deployments and inferences then (`modelVersions`)."
    )
    affected_ids: list[strawberry.ID] = strawberry.field(description="The model versions to decide about.")
    decisions: list[DecisionType]
    undecided_ids: list[strawberry.ID] = strawberry.field(
        description="Affected versions with no decision yet."
    )

    @strawberry.field
    async def source(self, info: Info) -> SourceType | None:
        if self.source_id is None:
            return None
        found = await info.context.loaders.sources.load(self.source_id)
        return SourceType.of(found) if found else None

    @classmethod
    def of(cls, c: exclusions.AnyCase) -> CaseType:
        source = c if isinstance(c, exclusions.ExclusionCase) else None
        return cls(
            id=strawberry.ID(c.id),
            trigger=c.trigger,
            source_id=strawberry.ID(source.source_id) if source else None,
            key_hash_count=len(c.key_hashes) if isinstance(c, exclusions.ErasureCase) else 0,
            reason=c.reason,
            excluded_at=source.excluded_at if source else None,
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
    @strawberry.field(
        description="A case, by its id (exclusionCase:… or erasureCase:…) or, for an exclusion, its source's id."
    )
    async def exclusion_case(
        self, info: Info, id: strawberry.ID | None = None, source_id: strawberry.ID | None = None
    ) -> CaseType:
        service = info.context.services.exclusions
        return CaseType.of(await service.case(id if id is not None else _case_id_of(source_id)))

    @strawberry.field(
        description="Cases of both triggers ordered by id; `undecided: true` lists those with work left, "
        "`trigger` those one trigger opened."
    )
    async def exclusion_cases(
        self,
        info: Info,
        undecided: bool = False,
        first: int | None = None,
        after: str | None = None,
        trigger: CaseTrigger | None = None,  # type: ignore[valid-type]
    ) -> Connection[CaseType]:
        found = await info.context.services.exclusions.cases(undecided, first, after, trigger)
        return connection(found, CaseType.of)

    @strawberry.field(
        description="A receipt for an auditor to keep (either trigger): the case, its decisions and what is "
        "undecided, with each fact's position and hash in the exclusions ledger, signed with the audit key "
        "(JSON text)."
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
        description="Record what was decided about a model version a case affects — an exclusion's or an "
        "erasure request's (once; the same decision again records nothing: `created: false`)."
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
