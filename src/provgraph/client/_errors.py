"""Errors the SDK raises: one class per server error code, each carrying the code, the offending field
and the request id the server logged."""

from __future__ import annotations

import httpx


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
    """A malformed request: a bad id, a time without a zone, a value out of range."""


class NotFoundError(ProvgraphClientError):
    """An id that refers to nothing."""


class ConflictError(ProvgraphClientError):
    """A registration that contradicts an immutable fact already recorded."""


class FailedPreconditionError(ProvgraphClientError):
    """A well-formed request the state of the graph forbids (a stage rule, no live deployment)."""


class UnauthenticatedError(ProvgraphClientError):
    """No valid token was sent."""


class PermissionDeniedError(ProvgraphClientError):
    """The token's role may not do this."""


class LimitExceededError(ProvgraphClientError):
    """A batch, page, document, response or request cost larger than allowed."""


class UnavailableError(ProvgraphClientError):
    """The service or its database cannot be reached; retrying later may succeed."""


class RunStateError(FailedPreconditionError):
    """A run context was asked for something its state no longer allows: a param logged after the run
    was registered (params are part of the registration and immutable), a metric after it ended."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code="FAILED_PRECONDITION", field=field)


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


def rest_error(response: httpx.Response) -> ProvgraphClientError:
    """The typed error of a REST route's failure (`/v1/…` answers `{"error": {code, message, field}}`)."""
    request_id = response.headers.get("x-request-id")
    try:
        error = response.json()["error"]
        code, message = error.get("code", "INTERNAL"), error.get("message", "error")
    except (ValueError, KeyError, TypeError, AttributeError):
        if response.status_code >= 500:
            return UnavailableError(f"HTTP {response.status_code} from {response.url}", code="UNAVAILABLE")
        return ProvgraphClientError(f"HTTP {response.status_code} from {response.url}", request_id=request_id)
    return error_for(code, message, error.get("field"), error.get("requestId", request_id))
