"""The request cost estimate (api/cost.py): what multiplies, what does not, and where the budget bites."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from provgraph.api.cost import DEFAULT_BUDGET, UNPAGED_LIST, WEIGHTS, request_cost
from provgraph.api.schema import build_schema

SCHEMA = build_schema(development=True)._schema


def cost(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    return request_cost(SCHEMA, operation, fragments, variables or {})


def test_an_object_costs_one_and_its_scalar_fields_nothing() -> None:
    assert cost('{ source(id: "source:a") { id name __typename } }') == 1


def test_a_page_multiplies_what_is_inside_it() -> None:
    small = cost("{ sources(first: 10) { nodes { id name } } }")
    large = cost("{ sources(first: 500) { nodes { id name } } }")
    assert (small, large) == (1 + 10, 1 + 500)


def test_first_from_a_variable_counts_like_a_literal() -> None:
    query = "query($n: Int) { sources(first: $n) { nodes { id } } }"
    assert cost(query, {"n": 300}) == cost("{ sources(first: 300) { nodes { id } } }")


def test_an_out_of_range_first_is_counted_at_the_maximum_page() -> None:
    assert cost("{ sources(first: 100000) { nodes { id } } }") == cost(
        "{ sources(first: 500) { nodes { id } } }"
    )


def test_a_list_without_first_counts_a_fixed_number_of_items() -> None:
    assert cost('{ run(id: "run:r") { inputs { id role } } }') == 1 + UNPAGED_LIST


def test_signature_queries_carry_their_database_weight() -> None:
    plain = cost('{ impactReport(sourceId: "source:x") { inferences } }')
    assert plain == WEIGHTS["Query.impactReport"]


def test_every_alias_and_every_fragment_spread_is_counted() -> None:
    one = cost('{ impactReport(sourceId: "source:x") { inferences } }')
    assert (
        cost(
            '{ a: impactReport(sourceId: "source:x") { inferences } b: impactReport(sourceId: "source:y") { inferences } }'
        )
        == 2 * one
    )
    with_fragment = """query { a: impactReport(sourceId: "source:x") { ...F } b: impactReport(sourceId: "source:y") { ...F } }
                       fragment F on ImpactReport { inferences }"""
    assert cost(with_fragment) == 2 * one


def test_a_self_referencing_fragment_is_counted_once() -> None:
    document = """{ modelVersion(id: "modelVersion:m:1") { ...F } }
                  fragment F on ModelVersion { id fineTunedFrom { ...F } }"""
    assert cost(document) > 0  # terminates


@pytest.mark.parametrize("aliases", [30])
def test_thirty_impact_reports_with_full_pages_are_over_the_budget(aliases: int) -> None:
    report = (
        'impactReport(sourceId: "source:x") { datasetVersions(first: 500) { id } runs(first: 500) { key } '
        "modelVersions(first: 500) { modelVersion { id } stage inferences } }"
    )
    document = "{ " + " ".join(f"a{i}: {report}" for i in range(aliases)) + " }"
    assert cost(document) > DEFAULT_BUDGET
    assert cost("{ " + report + " }") < DEFAULT_BUDGET  # one of them is fine
