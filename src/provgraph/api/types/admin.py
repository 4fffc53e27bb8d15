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


@strawberry.type(name="ChainBreak", description="Where a model's registry event chain stops verifying.")
class ChainBreakType:
    model_id: strawberry.ID
    seq: int
    event_id: strawberry.ID | None
    problem: str


@strawberry.type(name="AuditReport")
class AuditReportType:
    valid: bool
    models: int
    events: int
    breaks: list[ChainBreakType]

    @classmethod
    def of(cls, report: AuditReport) -> AuditReportType:
        return cls(
            valid=report.valid,
            models=report.models,
            events=report.events,
            breaks=[
                ChainBreakType(
                    model_id=strawberry.ID(b.model_id),
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
        description="Recompute the registry's hash chains (all models, or one) and report where they break."
    )
    async def verify_audit_chain(self, info: Info, model: str | None = None) -> AuditReportType:
        return AuditReportType.of(await info.context.services.audit.verify(model))


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Create a bearer token (ADMIN).")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
        created = await info.context.services.tokens.create(input.name, input.role, info.context.caller)
        return CreateApiTokenPayload(token=ApiTokenType.of(created.token), secret=created.secret)

    @strawberry.mutation(description="Revoke a token (ADMIN). Takes effect within seconds on every replica.")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiTokenType:
        return ApiTokenType.of(await info.context.services.tokens.revoke(id, info.context.caller))
