"""Authentication (bearer tokens) and authorisation (roles) for every GraphQL operation.

One extension decides from the operation's root fields, so a new query or mutation is protected the day
it is added: queries need READER, mutations WRITER, token management ADMIN. It runs after validation and
before any resolver, and answers with a coded error instead of executing."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import HTTPConnection
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from provgraph.api.observe import note_principal
from provgraph.api.operation import root_fields
from provgraph.domain.auth import Principal, Role
from provgraph.domain.errors import PermissionDenied, ProvgraphError, Unauthenticated
from provgraph.service.services import Services

ADMIN_FIELDS = frozenset({"apiTokens", "createApiToken", "revokeApiToken", "compactInferences"})


def bearer(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(
    services: Services, connection: HTTPConnection
) -> tuple[Principal | None, ProvgraphError | None]:
    """The caller's principal, or why it could not be established (e.g. the database is unreachable,
    which must answer UNAVAILABLE, not UNAUTHENTICATED)."""
    try:
        principal = await services.tokens.authenticate(bearer(connection))
    except ProvgraphError as exc:
        return None, exc
    note_principal(principal.name if principal else None)
    return principal, None


async def require(services: Services, connection: HTTPConnection, role: Role) -> Principal:
    """The caller of a REST route, who must hold `role`; raises the coded error that answers otherwise
    (UNAVAILABLE when the token cannot be checked, UNAUTHENTICATED, PERMISSION_DENIED)."""
    principal, failure = await authenticate(services, connection)
    if failure is not None:
        raise failure
    check(principal, role)
    assert principal is not None  # check() refuses a missing principal
    return principal


def required_role(operation: OperationType, root_fields: set[str]) -> Role:
    if root_fields & ADMIN_FIELDS:
        return Role.ADMIN
    if operation is OperationType.MUTATION:
        return Role.WRITER
    return Role.READER


def check(principal: Principal | None, needed: Role) -> None:
    if principal is None:
        raise Unauthenticated("a valid bearer token is required (Authorization: Bearer <token>)")
    if not principal.role.allows(needed):
        raise PermissionDenied(f"{principal.name} has role {principal.role.value}; this needs {needed.value}")


class Authorization(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        try:
            _require_operation_name(context)
            failure = getattr(context.context, "auth_failure", None)
            if failure is not None:
                raise failure
            check(
                getattr(context.context, "principal", None),
                required_role(context.operation_type, root_fields(context)),
            )
            if context.operation_type is OperationType.MUTATION and hasattr(context.context, "is_mutation"):
                context.context.is_mutation = True
        except ProvgraphError as exc:
            context.result = ExecutionResult(
                data=None, errors=[GraphQLError(exc.message, original_error=exc)]
            )
        yield


class _AmbiguousOperation(ProvgraphError):
    code = "GRAPHQL_VALIDATION_FAILED"


def _require_operation_name(context: object) -> None:
    """A document with several operations must say which to run (the GraphQL spec; strawberry would quietly
    run the first — a mutation, perhaps — when the client named none)."""
    document = getattr(context, "graphql_document", None)
    # strawberry's `operation_name` falls back to the first operation's name; what the client sent is here.
    if document is None or getattr(context, "_provided_operation_name", None) is not None:
        return
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1:
        raise _AmbiguousOperation(
            "the document holds several operations: name the one to run (operationName)"
        )
