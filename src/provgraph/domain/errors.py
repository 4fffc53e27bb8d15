"""The error hierarchy. Every error a user can cause carries a machine-readable code and, where one
field is to blame, the name of that field. The API translates these at the edge; nothing else does."""

from __future__ import annotations

from typing import ClassVar


class ProvgraphError(Exception):
    """Base of every error provgraph reports to its users on purpose."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(ProvgraphError):
    """The request is malformed: a bad id, a naive timestamp, a value out of range."""

    code = "INVALID_ARGUMENT"


class NotFound(ProvgraphError):
    """A referenced entity does not exist."""

    code = "NOT_FOUND"


class Conflict(ProvgraphError):
    """The request contradicts an immutable fact already recorded."""

    code = "CONFLICT"


class FailedPrecondition(ProvgraphError):
    """The request is well-formed but the state of the graph forbids it (a stage rule, no live deployment)."""

    code = "FAILED_PRECONDITION"


class Unauthenticated(ProvgraphError):
    """No valid credentials were presented."""

    code = "UNAUTHENTICATED"


class PermissionDenied(ProvgraphError):
    """The caller is known but its role does not allow the operation."""

    code = "PERMISSION_DENIED"


class Unavailable(ProvgraphError):
    """The database cannot be reached; retrying later may succeed."""

    code = "UNAVAILABLE"


class LimitExceeded(ProvgraphError):
    """The request asks for more than the service allows in one go (a batch, a page, a body)."""

    code = "LIMIT_EXCEEDED"
