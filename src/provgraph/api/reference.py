"""The GraphQL reference page (docs/graphql-reference.md), generated from the committed SDL.

    python -m provgraph.api.reference [schema.graphql] > docs/graphql-reference.md

`make schema` runs it after exporting `schema.graphql`, and a unit test fails when the committed page differs
from what this module makes of the committed schema, so the page cannot fall behind the API.

The page lists the root fields first (queries, then mutations, in schema order, with their arguments), then
every named type by kind, alphabetically. Each type has an explicit anchor (`type-<name>`, root fields
`query-<name>` / `mutation-<name>`), every type reference links to it, and each type lists where it is used.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    print_ast,
)

# Sections for the named types, in page order: (heading, the kinds it holds, the word before a type's text).
KINDS: tuple[tuple[str, type[GraphQLNamedType], str], ...] = (
    ("Objects", GraphQLObjectType, "Object"),
    ("Interfaces", GraphQLInterfaceType, "Interface"),
    ("Inputs", GraphQLInputObjectType, "Input"),
    ("Enums", GraphQLEnumType, "Enum"),
    ("Unions", GraphQLUnionType, "Union"),
    ("Scalars", GraphQLScalarType, "Scalar"),
)

HEADER = """# GraphQL reference

<!-- Generated from schema.graphql by `python -m provgraph.api.reference`: do not edit by hand.
     After a change to the API, `make schema` regenerates schema.graphql and this page. -->

Every query, mutation and type of the provgraph GraphQL API at `/graphql`, as committed in
[`schema.graphql`](../schema.graphql). Every operation needs a bearer token: queries the READER role,
mutations WRITER, token management ADMIN (see the README's Security section). Errors carry a code in
`extensions.code` (the README's Errors section lists them).
"""


class Page:
    """One schema's reference page; `render()` writes it."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.roots = [t for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t]
        root_names = {t.name for t in self.roots}
        self.types = sorted(
            (
                t
                for name, t in schema.type_map.items()
                if not name.startswith("__") and name not in root_names
            ),
            key=lambda t: t.name,
        )
        self.anchors = _anchors(t.name for t in self.types)
        self.used_by = self._uses()

    def render(self) -> str:
        parts = [HEADER, self._contents()]
        for root in self.roots:
            parts.append(self._root(root))
        for heading, kind, word in KINDS:
            members = [t for t in self.types if isinstance(t, kind)]
            if members:
                parts.append(f"## {heading}\n\n{_index(members, self.anchors)}\n")
                parts.extend(self._named(t, word) for t in members)
        return "\n".join(parts).rstrip("\n") + "\n"

    def _contents(self) -> str:
        lines = ["## Contents", ""]
        for root in self.roots:
            lines.append(f"- [{_root_heading(root)}](#{_root_heading(root).lower()}) ({len(root.fields)})")
        for heading, kind, _ in KINDS:
            count = sum(isinstance(t, kind) for t in self.types)
            if count:
                lines.append(f"- [{heading}](#{heading.lower()}) ({count})")
        return "\n".join(lines) + "\n"

    # -- root fields ---------------------------------------------------------------------------------------
    def _root(self, root: GraphQLObjectType) -> str:
        prefix = _root_prefix(root)
        links = ", ".join(f"[`{name}`](#{prefix}-{name.lower()})" for name in root.fields)
        parts = [f"## {_root_heading(root)}\n\n{links}\n"]
        for name, field in root.fields.items():
            parts.append(self._root_field(prefix, name, field))
        return "\n".join(parts)

    def _root_field(self, prefix: str, name: str, field: GraphQLField) -> str:
        lines = [f'<a id="{prefix}-{name.lower()}"></a>', f"### `{name}`", ""]
        if field.description:
            lines += [_text(field.description), ""]
        lines += ["```graphql", _signature(name, field), "```", ""]
        if field.args:
            lines += ["| argument | type | default | description |", "|---|---|---|---|"]
            for arg_name, arg in field.args.items():
                lines.append(
                    f"| `{arg_name}` | {self._link(arg.type)} | {_default(arg)} | {_cell(arg.description)} |"
                )
            lines.append("")
        lines.append(f"Returns {self._link(field.type)}.{_deprecation(field.deprecation_reason)}")
        return "\n".join(lines) + "\n"

    # -- named types ---------------------------------------------------------------------------------------
    def _named(self, type_: GraphQLNamedType, word: str) -> str:
        lines = [f'<a id="{self.anchors[type_.name]}"></a>', f"### {type_.name}", ""]
        intro = f"*{word}.*" + (f" {_text(type_.description)}" if type_.description else "")
        lines += [intro, ""]
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) and type_.interfaces:
            lines += ["Implements " + ", ".join(self._link(i) for i in type_.interfaces) + ".", ""]
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            lines += self._fields(type_.fields)
        elif isinstance(type_, GraphQLInputObjectType):
            lines += self._input_fields(type_.fields)
        elif isinstance(type_, GraphQLEnumType):
            lines += ["| value | description |", "|---|---|"]
            for value_name, value in type_.values.items():
                note = _cell(value.description) + _deprecation(value.deprecation_reason)
                lines.append(f"| `{value_name}` | {note.strip()} |")
            lines.append("")
        elif isinstance(type_, GraphQLUnionType):
            lines += ["One of " + ", ".join(self._link(t) for t in type_.types) + ".", ""]
        elif isinstance(type_, GraphQLScalarType) and type_.specified_by_url:
            lines += [f"Specified by <{type_.specified_by_url}>.", ""]
        uses = self.used_by.get(type_.name)
        if uses and not isinstance(type_, GraphQLScalarType):  # scalars are used everywhere
            lines += ["Used by " + ", ".join(f"[`{label}`](#{anchor})" for label, anchor in uses) + ".", ""]
        return "\n".join(lines)

    def _fields(self, fields: Mapping[str, GraphQLField]) -> list[str]:
        lines = ["| field | type | description |", "|---|---|---|"]
        for name, field in fields.items():
            notes = [_cell(field.description)] if field.description else []
            if field.args:
                args = "; ".join(
                    f"`{arg_name}`: {self._link(arg.type)}"
                    + (f" = `{literal}`" if (literal := _default_literal(arg)) is not None else "")
                    + (f" — {_cell(arg.description).rstrip('.')}" if arg.description else "")
                    for arg_name, arg in field.args.items()
                )
                notes.append(f"Arguments: {args}.")
            description = "<br>".join(notes) + _deprecation(field.deprecation_reason)
            label = f"{name}({', '.join(field.args)})" if field.args else name
            lines.append(f"| `{label}` | {self._link(field.type)} | {description.strip()} |")
        return [*lines, ""]

    def _input_fields(self, fields: Mapping[str, GraphQLInputField]) -> list[str]:
        lines = ["| field | type | default | description |", "|---|---|---|---|"]
        for name, field in fields.items():
            note = _cell(field.description) + _deprecation(field.deprecation_reason)
            lines.append(f"| `{name}` | {self._link(field.type)} | {_default(field)} | {note.strip()} |")
        return [*lines, ""]

    def _link(self, type_: GraphQLType) -> str:
        """A type reference as written in SDL (`[Name!]!`), its named type linked to its section."""
        if isinstance(type_, GraphQLNonNull):
            return self._link(type_.of_type) + "!"
        if isinstance(type_, GraphQLList):
            return "\\[" + self._link(type_.of_type) + "\\]"
        name = get_named_type(type_).name
        return f"[`{name}`](#{self.anchors[name]})"

    def _uses(self) -> dict[str, list[tuple[str, str]]]:
        """For each named type, the fields, arguments and unions that refer to it, as (label, anchor)."""
        found: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)

        def note(type_: GraphQLType, label: str, anchor: str) -> None:
            found[get_named_type(type_).name].add((label, anchor))

        for root in self.roots:
            prefix = _root_prefix(root)
            for name, field in root.fields.items():
                anchor = f"{prefix}-{name.lower()}"
                note(field.type, f"{root.name}.{name}", anchor)
                for arg in field.args.values():
                    note(arg.type, f"{root.name}.{name}", anchor)
        for owner in self.types:
            anchor = self.anchors[owner.name]
            if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
                for name, field in owner.fields.items():
                    note(field.type, f"{owner.name}.{name}", anchor)
                    for arg in field.args.values():
                        note(arg.type, f"{owner.name}.{name}", anchor)
            elif isinstance(owner, GraphQLInputObjectType):
                for name, input_field in owner.fields.items():
                    note(input_field.type, f"{owner.name}.{name}", anchor)
            elif isinstance(owner, GraphQLUnionType):
                for member in owner.types:
                    note(member, owner.name, anchor)
        return {name: sorted(uses) for name, uses in found.items()}


def reference_markdown(sdl: str) -> str:
    """The reference page (Markdown) of the schema `sdl` describes."""
    return Page(build_schema(sdl)).render()


def _anchors(names: Iterable[str]) -> dict[str, str]:
    """`type-<name in lower case>`, made unique should two names differ only in case."""
    anchors: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        anchor = base = f"type-{name.lower()}"
        n = 1
        while anchor in taken:
            n += 1
            anchor = f"{base}-{n}"
        taken.add(anchor)
        anchors[name] = anchor
    return anchors


def _index(types: list[GraphQLNamedType], anchors: Mapping[str, str]) -> str:
    return ", ".join(f"[{t.name}](#{anchors[t.name]})" for t in types)


def _root_prefix(root: GraphQLObjectType) -> str:
    return {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}.get(
        root.name, root.name.lower()
    )


def _root_heading(root: GraphQLObjectType) -> str:
    return {"query": "Queries", "mutation": "Mutations", "subscription": "Subscriptions"}.get(
        _root_prefix(root), root.name
    )


def _signature(name: str, field: GraphQLField) -> str:
    """The field as SDL writes it, arguments one per line when they do not fit on one."""
    args = [f"{arg_name}: {arg.type}{_sdl_default(arg)}" for arg_name, arg in field.args.items()]
    one_line = f"{name}({', '.join(args)}): {field.type}" if args else f"{name}: {field.type}"
    if len(one_line) <= 100:
        return one_line
    return f"{name}(\n" + "".join(f"  {arg}\n" for arg in args) + f"): {field.type}"


def _default_literal(value: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as the SDL writes it (the schema is always built from SDL, so the literal is kept)."""
    node = value.ast_node.default_value if value.ast_node is not None else None
    return print_ast(node) if node is not None else None


def _sdl_default(value: GraphQLArgument) -> str:
    literal = _default_literal(value)
    return "" if literal is None else f" = {literal}"


def _default(value: GraphQLArgument | GraphQLInputField) -> str:
    literal = _default_literal(value)
    return "" if literal is None else f"`{literal}`"


def _deprecation(reason: str | None) -> str:
    return f" **Deprecated:** {_cell(reason)}" if reason else ""


def _text(description: str) -> str:
    """A description as Markdown text: outside code spans, `<` cannot open an HTML tag."""
    spans = description.split("`")
    return "`".join(part if i % 2 else part.replace("<", "&lt;") for i, part in enumerate(spans))


def _cell(description: str | None) -> str:
    """A description inside a table cell: one line, pipes escaped."""
    if not description:
        return ""
    return re.sub(r"\s*\n\s*", " ", _text(description)).replace("|", "\\|")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "schema.graphql")
    sys.stdout.write(reference_markdown(path.read_text()))


if __name__ == "__main__":
    main()
