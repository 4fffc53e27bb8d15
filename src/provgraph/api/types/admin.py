"""GraphQL types for tokens (admin), the caller's identity, and audit-chain verification."""

from __future__ import annotations

from datetime import datetime

import strawberry

from provgraph.api.context import Info
from provgraph.domain import auth
from provgraph.service.audit import AuditReport

Role = strawberry.enum(
    auth.Role, name="Role", description="READER: queries; WRITER: and writes; ADMIN: and tokens."
)


@strawberry.type(name="ApiToken", description="A bearer token (its secret is shown once, when created).")
class ApiTokenType:
    id: strawberry.ID
    name: str
    role: Role  # type: ignore[valid-type]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, t: auth.ApiToken) -> ApiTokenType:
        return cls(
            id=strawberry.ID(t.id),
            name=t.name,
            role=t.role,
            created_at=t.recorded.recorded_at,
            created_by=t.recorded.recorded_by,
            revoked_at=t.revoked_at,
            revoked_by=t.revoked_by,
        )


@strawberry.type(name="Principal", description="Who the current token belongs to.")
class PrincipalType:
    name: str
    role: Role  # type: ignore[valid-type]
    token_id: strawberry.ID


@strawberry.type
class CreateApiTokenPayload:
    token: ApiTokenType
    secret: str = strawberry.field(
        description="The bearer secret. It is not stored and cannot be shown again."
    )


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="Who or what uses it; recorded as the actor of its writes.")
    role: Role  # type: ignore[valid-type]


@strawberry.type(
    name="ChainBreak",
    description="Where verification failed: a registry chain, a ledger, a fact that differs from its entry, "
    "or the checkpoint.",
)
class ChainBreakType:
    chain: str = strawberry.field(description="`model:<name>`, `ledger:<scope>` or `checkpoint`.")
    model_id: strawberry.ID | None = strawberry.field(description="For a model's chain, the model.")
    seq: int
    event_id: strawberry.ID | None = strawberry.field(description="The record or entity concerned, if one.")
    problem: str


@strawberry.type(name="AuditReport")
class AuditReportType:
    valid: bool
    models: int
    events: int = strawberry.field(description="Registry events verified.")
    entries: int = strawberry.field(description="Ledger entries verified (registrations, deployments, …).")
    facts: int = strawberry.field(description="Entities and inference batches compared with the ledgers.")
    sealed: bool = strawberry.field(description="Whether seals (HMACs under the audit key) were checked.")
    checkpoint_taken_at: datetime | None = strawberry.field(description="The checkpoint verified against.")
    breaks: list[ChainBreakType]

    @classmethod
    def of(cls, report: AuditReport) -> AuditReportType:
        return cls(
            valid=report.valid,
            models=report.models,
            events=report.events,
            entries=report.entries,
            facts=report.facts,
            sealed=report.sealed,
            checkpoint_taken_at=report.checkpoint.taken_at if report.checkpoint else None,
            breaks=[
                ChainBreakType(
                    chain=b.chain,
                    model_id=strawberry.ID(b.model_id) if b.model_id else None,
                    seq=b.seq,
                    event_id=strawberry.ID(b.event_id) if b.event_id else None,
                    problem=b.problem,
                )
                for b in report.breaks
            ],
        )


@strawberry.type
class AdminQuery:
    @strawberry.field(description="The caller's identity and role.")
    def whoami(self, info: Info) -> PrincipalType:
        principal = info.context.principal
        assert principal is not None  # the Authorization extension let the operation through
        return PrincipalType(
            name=principal.name, role=principal.role, token_id=strawberry.ID(principal.token_id)
        )

    @strawberry.field(description="Every token, revoked ones included (ADMIN).")
    async def api_tokens(self, info: Info) -> list[ApiTokenType]:
        return [ApiTokenType.of(t) for t in await info.context.services.tokens.list()]

    @strawberry.field(
        description="Verify tamper evidence: one model's registry chain, or (without `model`) every chain, every "
        "seal, and the served graph against the ledgers; with `against` (a checkpoint's JSON, from auditCheckpoint) "
        "also that no chain was truncated, rewritten or deleted since the checkpoint."
    )
    async def verify_audit_chain(
        self, info: Info, model: str | None = None, against: str | None = None
    ) -> AuditReportType:
        return AuditReportType.of(await info.context.services.audit.verify(model, against))

    @strawberry.field(
        description="A checkpoint: the head of every chain now, signed with the audit key, as JSON. Keep it "
        "outside the database and pass it to verifyAuditChain(against:) later."
    )
    async def audit_checkpoint(self, info: Info) -> str:
        return (await info.context.services.audit.checkpoint()).to_json()


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Create a bearer token (ADMIN).")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
        created = await info.context.services.tokens.create(input.name, input.role, info.context.caller)
        return CreateApiTokenPayload(token=ApiTokenType.of(created.token), secret=created.secret)

    @strawberry.mutation(description="Revoke a token (ADMIN). Takes effect within seconds on every replica.")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiTokenType:
        return ApiTokenType.of(await info.context.services.tokens.revoke(id, info.context.caller))
