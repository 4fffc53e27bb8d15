"""The GraphQL reference page: the committed page is the generator's output on the committed schema, and the
generator lays a schema out as documented (root fields, then types by kind, every reference a working link)."""

from __future__ import annotations

import re
from pathlib import Path

from provgraph.api.reference import reference_markdown

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "schema.graphql"
REFERENCE_PAGE = ROOT / "docs" / "graphql-reference.md"

SMALL_SDL = '''
"""Something a warehouse holds."""
type Widget {
  id: ID!
  """Its parts, a page at a time."""
  parts("""How many; at most 50.""" first: Int = 10, after: String): [Part!]!
  color: Color
}

type Part {
  """The part's name (e.g. `a|b`, `<bolt>`)."""
  name: String
}

"""Paint."""
enum Color {
  """The default."""
  RED
  BLUE @deprecated(reason: "out of stock")
}

input WidgetInput {
  name: String! = "unnamed"
  color: Color = RED
}

"""A moment, with its zone."""
scalar DateTime

union Thing = Widget | Part

type Query {
  """Find a widget by id."""
  widget(id: ID!): Widget
  things(at: DateTime): [Thing!]!
}

type Mutation {
  makeWidget(input: WidgetInput!): Widget!
}
'''


def section(page: str, heading: str) -> str:
    """The text under a `## heading`, up to the next one."""
    return page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def link_targets(page: str) -> set[str]:
    return set(re.findall(r"\]\(#([^)]+)\)", page))


def anchors(page: str) -> set[str]:
    """Explicit anchors, plus the ids renderers give the page's `## ` headings."""
    explicit = set(re.findall(r'<a id="([^"]+)"></a>', page))
    headings = {h.strip().lower() for h in re.findall(r"^## (.+)$", page, re.M)}
    return explicit | headings


def test_the_committed_reference_matches_the_committed_schema() -> None:
    expected = reference_markdown(SCHEMA_FILE.read_text())
    assert REFERENCE_PAGE.read_text() == expected, (
        "docs/graphql-reference.md is stale: run `make schema` and commit it"
    )


def test_every_link_of_the_committed_reference_has_its_anchor() -> None:
    page = REFERENCE_PAGE.read_text()
    assert link_targets(page) - anchors(page) == set()
    for name in ("modelsUsingSource", "traceInference", "lineage", "impactReport", "deployedAt", "consumers"):
        assert f'<a id="query-{name.lower()}"></a>\n### `{name}`' in page


def test_root_fields_come_first_then_types_by_kind_alphabetically() -> None:
    page = reference_markdown(SMALL_SDL)

    headings = re.findall(r"^## (.+)$", page, re.M)
    assert headings == ["Contents", "Queries", "Mutations", "Objects", "Inputs", "Enums", "Unions", "Scalars"]
    objects = re.findall(r"^### (\w+)$", section(page, "Objects"), re.M)
    assert objects == ["Part", "Widget"]  # alphabetical; Query and Mutation are not listed as objects
    assert re.findall(r"^### (\w+)$", section(page, "Scalars"), re.M) == [
        "Boolean",
        "DateTime",
        "ID",
        "Int",
        "String",
    ]  # only the scalars the schema uses, built-in ones included
    assert "__Schema" not in page and "__Type" not in page
    assert "- [Objects](#objects) (2)" in section(page, "Contents")


def test_a_root_field_shows_its_signature_arguments_and_what_it_returns() -> None:
    queries = section(reference_markdown(SMALL_SDL), "Queries")

    assert queries.startswith("\n[`widget`](#query-widget), [`things`](#query-things)\n")
    widget = queries.split('<a id="query-widget"></a>\n', 1)[1].split("<a id=", 1)[0]
    assert widget.startswith("### `widget`\n\nFind a widget by id.\n")
    assert "```graphql\nwidget(id: ID!): Widget\n```" in widget
    assert "| `id` | [`ID`](#type-id)! |  |  |" in widget
    assert "Returns [`Widget`](#type-widget)." in widget
    things = queries.split('<a id="query-things"></a>\n', 1)[1]
    assert "Returns \\[[`Thing`](#type-thing)!\\]!." in things
    assert "| `at` | [`DateTime`](#type-datetime) |  |  |" in things


def test_types_show_fields_defaults_values_members_and_where_they_are_used() -> None:
    page = reference_markdown(SMALL_SDL)

    assert '<a id="type-widget"></a>\n### Widget\n\n*Object.* Something a warehouse holds.' in page
    assert (
        "| `parts(first, after)` | \\[[`Part`](#type-part)!\\]! | Its parts, a page at a time.<br>Arguments: "
        "`first`: [`Int`](#type-int) = `10` — How many; at most 50; `after`: [`String`](#type-string). |"
    ) in page
    assert '| `name` | [`String`](#type-string)! | `"unnamed"` |  |' in page
    assert "| `color` | [`Color`](#type-color) | `RED` |  |" in page
    assert "| `RED` | The default. |" in page
    assert "| `BLUE` | **Deprecated:** out of stock |" in page
    assert "One of [`Widget`](#type-widget), [`Part`](#type-part)." in page
    assert "*Scalar.* A moment, with its zone." in page
    # where a type is used, linked to the using type or root field
    assert "Used by [`Mutation.makeWidget`](#mutation-makewidget), [`Query.widget`](#query-widget), " in page
    assert "Used by [`Mutation.makeWidget`](#mutation-makewidget).\n" in section(page, "Inputs")
    # descriptions cannot break a table row or open an HTML tag; code spans stay as written
    assert "The part's name (e.g. `a\\|b`, `<bolt>`)." in page


def test_every_link_points_at_an_anchor_of_the_page() -> None:
    page = reference_markdown(SMALL_SDL)
    assert link_targets(page) - anchors(page) == set()
    assert {"type-widget", "type-part", "query-widget", "mutation-makewidget"} <= link_targets(page)


def test_text_outside_code_cannot_open_an_html_tag() -> None:
    page = reference_markdown(
        'type Query {\n  """Ids look like model:<name>, e.g. `model:<name>`."""\n  a: Int\n}\n'
    )
    assert "Ids look like model:&lt;name>, e.g. `model:<name>`." in page
