"""Errors the SDK raises: one class per server error code, each carrying the code, the offending field
and the request id the server logged."""

from __future__ import annotations


class ProvgraphClientError(Exception):
    """Base of every SDK error."""

    def __init__(
        self, message: str, *, code: str = "INTERNAL", field: str | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.code}{where}: {self.message}"


class InvalidArgumentError(ProvgraphClientError):
    pass


class NotFoundError(ProvgraphClientError):
    pass


class ConflictError(ProvgraphClientError):
    pass


class FailedPreconditionError(ProvgraphClientError):
    pass


class UnauthenticatedError(ProvgraphClientError):
    pass


class PermissionDeniedError(ProvgraphClientError):
    pass


class LimitExceededError(ProvgraphClientError):
    pass


class UnavailableError(ProvgraphClientError):
    """The service or its database cannot be reached; retrying later may succeed."""


_BY_CODE: dict[str, type[ProvgraphClientError]] = {
    "INVALID_ARGUMENT": InvalidArgumentError,
    "GRAPHQL_VALIDATION_FAILED": InvalidArgumentError,
    "GRAPHQL_PARSE_FAILED": InvalidArgumentError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "FAILED_PRECONDITION": FailedPreconditionError,
    "UNAUTHENTICATED": UnauthenticatedError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "LIMIT_EXCEEDED": LimitExceededError,
    "UNAVAILABLE": UnavailableError,
    "DEADLINE_EXCEEDED": UnavailableError,
}


def error_for(
    code: str, message: str, field: str | None = None, request_id: str | None = None
) -> ProvgraphClientError:
    return _BY_CODE.get(code, ProvgraphClientError)(message, code=code, field=field, request_id=request_id)
