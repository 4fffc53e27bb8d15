"""A cost budget per request, so one caller cannot stall the others.

Depth, token and alias limits bound the size of a document, not the work it asks for: 30 aliases of
`impactReport` over a large fan-out once returned 12.6 MB in about 6 s while other clients' cheap queries
waited up to 5.5 s. The cost of a request is estimated from its document and variables before anything
runs, and a request over the budget is refused with LIMIT_EXCEEDED:

- every object the answer can hold costs 1 (scalar fields are free: the work is in finding and building
  objects, not in reading their properties);
- a list multiplies what is selected inside it by its page size — `first` as given (variables resolved)
  or its default — and a list without `first` by a fixed estimate;
- the signature queries and other fields that traverse the graph cost more (their weights below), since
  their work is in the database rather than in the answer;
- aliases are separate selections and each is counted; fragments are counted where they are spread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from provgraph.domain.errors import LimitExceeded

DEFAULT_BUDGET = 20_000
# A list without a `first` argument (a version's aliases, a run's inputs, a path's node ids) is short by
# construction; it is counted as this many items.
UNPAGED_LIST = 10
# `first` where a paged field does not say (the listings' and reports' own defaults).
DEFAULT_PAGE = 100
MAX_PAGE = 500

# Fields whose work is mostly in the database: traversals, reports, verification.
WEIGHTS: Mapping[str, int] = {
    "Query.modelsUsingSource": 100,
    "Query.traceInference": 100,
    "Query.lineage": 100,
    "Query.impactReport": 200,
    "Query.consumers": 100,
    "Query.verifyAuditChain": 2_000,
    "Query.auditCheckpoint": 50,
    "Query.deployedAt": 10,
    "Query.search": 20,
    "Query.exportDocument": 1_000,  # a whole provenance read and rendered
    "Query.exclusionReceipt": 50,
    "Query.verifyExclusionReceipt": 50,
    "Mutation.openErasureCase": 2_000,  # a recordProvenance per key hash (up to 1000)
    "ModelVersion.compare": 100,
    "ModelVersion.stateAt": 10,
}


def request_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """The estimated cost of running `operation` with `variables`."""
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None
    return _selection_cost(schema, operation.selection_set, root, 1, None, fragments, variables, frozenset())


def _selection_cost(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType,
    multiplier: int,
    page: int | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    spread: frozenset[str],
) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(schema, selection, parent, multiplier, page, fragments, variables, spread)
        elif isinstance(selection, InlineFragmentNode):
            # Union and interface members are summed: an upper bound of what one object can cost.
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            total += _selection_cost(
                schema,
                selection.selection_set,
                target or parent,
                multiplier,
                page,
                fragments,
                variables,
                spread,
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            definition = fragments.get(name)
            if definition is None or name in spread:
                continue
            target = schema.get_type(definition.type_condition.name.value) or parent
            total += _selection_cost(
                schema,
                definition.selection_set,
                target,
                multiplier,
                page,
                fragments,
                variables,
                spread | {name},
            )
    return total


def _field_cost(
    schema: GraphQLSchema,
    node: FieldNode,
    parent: GraphQLNamedType,
    multiplier: int,
    page: int | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    spread: frozenset[str],
) -> int:
    name = node.name.value
    if name.startswith("__") or not isinstance(parent, GraphQLObjectType) or name not in parent.fields:
        return 0 if name == "__typename" else multiplier
    field = parent.fields[name]
    weight = WEIGHTS.get(f"{parent.name}.{name}")
    if node.selection_set is None:
        return (weight or 0) * multiplier
    first = _first(node, field, variables)
    if _is_list(field):
        # A list's items: as many as its page (its own `first`, else the page of the connection above it).
        count = first if first is not None else (page if page is not None else UNPAGED_LIST)
        inner_multiplier, inner_page = multiplier * count, None
        cost = (weight or 0) * multiplier + inner_multiplier
    else:
        # A paged object (a connection, a lineage page): the page size applies to the lists inside it.
        inner_multiplier, inner_page = multiplier, first
        cost = (weight or 1) * multiplier
    named = get_named_type(field.type)
    return cost + _selection_cost(
        schema, node.selection_set, named, inner_multiplier, inner_page, fragments, variables, spread
    )


def _is_list(field: GraphQLField) -> bool:
    kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(kind, GraphQLList)


def _first(node: FieldNode, field: GraphQLField, variables: Mapping[str, Any]) -> int | None:
    if "first" not in field.args:
        return None
    value: Any = None
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = (
                variables.get(argument.value.name.value)
                if isinstance(argument.value, VariableNode)
                else value_from_ast_untyped(argument.value, dict(variables))
            )
    if value is None:
        value = field.args["first"].default_value
    if not isinstance(value, int) or isinstance(value, bool):
        return DEFAULT_PAGE
    return max(1, min(value, MAX_PAGE))


class QueryCost(SchemaExtension):
    """Refuses a request whose estimated cost is over `budget` before anything runs."""

    def __init__(self, *, budget: int = DEFAULT_BUDGET, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context)
        self.budget = budget

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.result is None and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            name = context.operation_name
            chosen = next((o for o in operations if name is None or (o.name and o.name.value == name)), None)
            if chosen is not None:
                fragments = {
                    d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
                }
                cost = request_cost(context.schema._schema, chosen, fragments, context.variables or {})
                if cost > self.budget:
                    refused = LimitExceeded(
                        f"this request would cost {cost:,} and the budget is {self.budget:,}: ask for smaller "
                        "pages (first), fewer fields or fewer aliases, or split it into several requests"
                    )
                    context.result = ExecutionResult(
                        data=None, errors=[GraphQLError(refused.message, original_error=refused)]
                    )
        yield
