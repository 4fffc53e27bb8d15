"""Turning every error into a GraphQL error with a machine-readable `extensions.code`.

Domain errors keep their message and code. Errors graphql-core raises while parsing and validating the
document get a code by kind. Anything else is a bug or an outage detail: it is logged with the request id
and the client sees only "Internal error" and that id — never a stack trace or Cypher text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from provgraph.domain.errors import ProvgraphError, Unavailable

log = logging.getLogger("provgraph.api")

# graphql-core messages about argument and variable values (wrong type, missing required field, unknown
# enum value, unknown input field). They are the client's input errors, not malformed documents.
_INPUT_MESSAGES = re.compile(
    r"^(Variable '\$|Argument '|Expected value of type|Expected type|Value '|Enum '|Field '[^']+' of required type"
    r"|Field '[^']+' is not defined by type|Int cannot represent|Float cannot represent|String cannot represent"
    r"|Boolean cannot represent|ID cannot represent|Invalid value)"
)
_HTTP_STATUS = {Unavailable.code: 503, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403}
_LIMIT_MESSAGES = re.compile(
    r"(exceeds maximum operation depth|aliases found\. Allowed|more than \d+ tokens)"
)
# Where graphql-core names the offending input, most precise first.
_FIELD_IN_MESSAGE = (
    re.compile(r" at '?\.?([\w.\[\]]+)[:']"),
    re.compile(r"Field '([\w.]+)' of required type"),
    re.compile(r"required field '(\w+)'"),
    re.compile(r"Field '(\w+)' is not defined by type"),
    re.compile(r"^Variable '\$(\w+)'"),
)


def _field_named_in(message: str) -> str | None:
    for pattern in _FIELD_IN_MESSAGE:
        found = pattern.search(message)
        if found:
            return found.group(1).split(".")[-1].split("[")[0]
    return None


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    message = error.message
    if isinstance(original, ProvgraphError):
        return original.code
    if original is not None and not isinstance(original, GraphQLError):
        # graphql-core wraps what a scalar's parser raised while coercing an argument or variable (an
        # integer too large for a float, an overflowing date): the client's input, not a bug. Such errors
        # have no path; a resolver's errors always do.
        if error.path is None and _INPUT_MESSAGES.match(message):
            return "INVALID_ARGUMENT"
        return "INTERNAL"
    if _LIMIT_MESSAGES.search(message):
        return "LIMIT_EXCEEDED"
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if "introspection" in message.lower():
        return "INTROSPECTION_DISABLED"
    if _INPUT_MESSAGES.match(message):
        return "INVALID_ARGUMENT"
    return "GRAPHQL_VALIDATION_FAILED"


_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def with_code(error: GraphQLError, request_id: str | None, suggestions: bool) -> GraphQLError:
    """The error as the client sees it: unchanged if it already has a code, else formatted (and masked
    if it is unexpected)."""
    if error.extensions and "code" in error.extensions:
        return error
    return ErrorCodes.format(error, request_id, suggestions)


class ErrorCodes(SchemaExtension):
    """Gives every error a code (and the request id); masks unexpected errors. Without `suggestions`
    (production), graphql-core's "Did you mean …?" hints are removed from every message: they name
    arguments, enum values, types and input fields of the schema that introspection is off to hide."""

    def __init__(self, *, suggestions: bool = False, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context)
        self.suggestions = suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        formatted = [with_code(error, request_id, self.suggestions) for error in result.errors or []]
        result.errors = formatted
        codes = {e.extensions.get("code") for e in formatted if e.extensions}
        response = getattr(context, "response", None)
        # Outages and auth failures also show in the HTTP status, so load balancers, proxies and the SDK's
        # retry logic see them without parsing bodies.
        if len(codes) == 1 and response is not None:
            status = _HTTP_STATUS.get(str(next(iter(codes))))
            if status is not None:
                response.status_code = status

    @staticmethod
    def format(error: GraphQLError, request_id: str | None, suggestions: bool) -> GraphQLError:
        code = error_code(error)
        extensions: dict[str, Any] = {"code": code}
        if request_id:
            extensions["requestId"] = request_id
        original = error.original_error
        message = error.message if suggestions else _SUGGESTION.sub("", error.message)
        if code == "INTERNAL":
            log.error(
                "internal error in request %s at %s",
                request_id,
                ".".join(str(p) for p in error.path or []),
                exc_info=original,
                extra={"request_id": request_id, "code": code},
            )
            message = f"Internal error. Quote request id {request_id} when reporting it."
        elif code == "INVALID_ARGUMENT" or isinstance(original, ProvgraphError):
            field = original.field if isinstance(original, ProvgraphError) else None
            # Input-coercion errors come from graphql-core, which names the exact input path or variable.
            field = _field_named_in(message) or field
            if field:
                extensions["field"] = field
            if code == Unavailable.code and isinstance(original, ProvgraphError):
                log.warning(
                    "request %s: %s",
                    request_id,
                    original.message,
                    extra={"request_id": request_id, "code": code},
                )
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )
