"""What a GraphQL document asks for: the root fields of the operation the request runs (authorisation
decides by them; the access log and the metrics name them)."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


def root_fields(context: object) -> set[str]:
    """The names of the root fields the chosen operation selects (through fragments too)."""
    document = getattr(context, "graphql_document", None)
    if document is None:
        return set()
    name = getattr(context, "operation_name", None)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((o for o in operations if name is None or (o.name and o.name.value == name)), None)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _fields(chosen.selection_set, fragments, set()) if chosen else set()


def _fields(
    selection: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> set[str]:
    names: set[str] = set()
    for node in selection.selections:
        if isinstance(node, FieldNode):
            names.add(node.name.value)
        elif isinstance(node, InlineFragmentNode):
            names |= _fields(node.selection_set, fragments, seen)
        elif (
            isinstance(node, FragmentSpreadNode)
            and node.name.value not in seen
            and node.name.value in fragments
        ):
            seen.add(node.name.value)
            names |= _fields(fragments[node.name.value].selection_set, fragments, seen)
    return names
