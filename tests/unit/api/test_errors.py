from graphql import GraphQLError

from provgraph.api.errors import error_code
from provgraph.domain.errors import Conflict, NotFound


def test_domain_errors_keep_their_code() -> None:
    assert error_code(GraphQLError("x", original_error=NotFound("x"))) == "NOT_FOUND"
    assert error_code(GraphQLError("x", original_error=Conflict("x"))) == "CONFLICT"


def test_unexpected_exceptions_are_internal() -> None:
    assert error_code(GraphQLError("boom", original_error=KeyError("k"))) == "INTERNAL"


def test_graphql_core_errors_are_classified() -> None:
    assert error_code(GraphQLError("Syntax Error: Unexpected Name 'x'.")) == "GRAPHQL_PARSE_FAILED"
    assert error_code(GraphQLError("Cannot query field 'x' on type 'Query'.")) == "GRAPHQL_VALIDATION_FAILED"
    assert error_code(GraphQLError("Value 'NOPE' does not exist in 'Stage' enum.")) == "INVALID_ARGUMENT"
    assert error_code(GraphQLError("'q' exceeds maximum operation depth of 12")) == "LIMIT_EXCEEDED"
