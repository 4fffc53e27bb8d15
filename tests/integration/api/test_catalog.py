"""Sources, datasets and versions through the whole stack: GraphQL → service → store → Neo4j."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from conftest import GraphQL
from helpers import data, error

REGISTER_SOURCE = """
mutation($input: RegisterSourceInput!) {
  registerSource(input: $input) { created source { id name kind license recordedBy } }
}"""
REGISTER_DATASET = """
mutation($name: String!) { registerDataset(input: {name: $name}) { created dataset { id } } }"""
REGISTER_VERSION = """
mutation($input: RegisterDatasetVersionInput!) {
  registerDatasetVersion(input: $input) {
    created
    datasetVersion { id version rowCount createdAt sourceIds derivedFrom { fromId transform } }
  }
}"""


def register_story(gql: GraphQL) -> None:
    data(gql(REGISTER_SOURCE, {"input": {"name": "acme", "kind": "vendor", "license": "CC-BY-4.0"}}))
    data(gql(REGISTER_DATASET, {"name": "reviews"}))
    data(
        gql(
            REGISTER_VERSION,
            {
                "input": {
                    "dataset": "reviews",
                    "version": "v1",
                    "rowCount": 10,
                    "createdAt": "2026-01-10T09:00:00Z",
                    "sourceIds": ["source:acme"],
                }
            },
        )
    )


def version_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dataset": "reviews",
        "version": "v2",
        "rowCount": 9,
        "createdAt": "2026-02-01T09:00:00+01:00",
        "derivedFrom": [{"fromId": "datasetVersion:reviews:v1", "transform": "dedupe"}],
    }
    return {**base, **overrides}


def test_register_and_query_back_through_every_layer(gql: GraphQL) -> None:
    register_story(gql)
    created = data(gql(REGISTER_VERSION, {"input": version_input()}))["registerDatasetVersion"]
    assert created["created"] is True
    assert created["datasetVersion"]["createdAt"] == "2026-02-01T08:00:00+00:00"

    answer = data(
        gql("""{ datasetVersion(id: "datasetVersion:reviews:v2") {
                 version dataset { name versions { id } }
                 derivedFrom { transform from { id sources { name license } } } } }""")
    )["datasetVersion"]
    assert answer["dataset"] == {
        "name": "reviews",
        "versions": [{"id": "datasetVersion:reviews:v1"}, {"id": "datasetVersion:reviews:v2"}],
    }
    assert answer["derivedFrom"] == [
        {
            "transform": "dedupe",
            "from": {
                "id": "datasetVersion:reviews:v1",
                "sources": [{"name": "acme", "license": "CC-BY-4.0"}],
            },
        }
    ]


def test_registering_the_same_facts_again_returns_the_same_node(gql: GraphQL, clean_graph: Driver) -> None:
    register_story(gql)
    first = data(gql(REGISTER_VERSION, {"input": version_input()}))["registerDatasetVersion"]
    again = data(gql(REGISTER_VERSION, {"input": version_input()}))["registerDatasetVersion"]
    assert again["created"] is False
    assert again["datasetVersion"] == first["datasetVersion"]
    records, _, _ = clean_graph.execute_query(
        "MATCH (v:DatasetVersion {id: 'datasetVersion:reviews:v2'})-[r]->() RETURN count(v) AS n, count(r) AS rels"
    )
    assert (records[0]["n"], records[0]["rels"]) == (2, 2)  # one node; VERSION_OF + DERIVED_FROM, not doubled


def test_a_different_immutable_fact_is_a_conflict_naming_the_field(gql: GraphQL, clean_graph: Driver) -> None:
    register_story(gql)
    data(gql(REGISTER_VERSION, {"input": version_input()}))
    failure = error(gql(REGISTER_VERSION, {"input": version_input(rowCount=10)}))
    assert failure["extensions"]["code"] == "CONFLICT"
    assert failure["extensions"]["field"] == "rowCount"
    records, _, _ = clean_graph.execute_query(
        "MATCH (v:DatasetVersion {id: 'datasetVersion:reviews:v2'}) RETURN v.rowCount AS n"
    )
    assert records[0]["n"] == 9

    source_conflict = error(
        gql(REGISTER_SOURCE, {"input": {"name": "acme", "kind": "vendor", "license": "MIT"}})
    )
    assert (source_conflict["extensions"]["code"], source_conflict["extensions"]["field"]) == (
        "CONFLICT",
        "license",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sourceIds": ["source:nobody"]}, "sourceIds"),
        ({"derivedFrom": [{"fromId": "datasetVersion:reviews:v7"}]}, "derivedFrom"),
        ({"dataset": "unregistered"}, "dataset"),
        ({"generatedBy": "run:never-ran"}, "generatedBy"),
    ],
)
def test_unknown_references_are_not_found_and_nothing_is_written(
    gql: GraphQL, clean_graph: Driver, overrides: dict[str, Any], field: str
) -> None:
    register_story(gql)
    failure = error(gql(REGISTER_VERSION, {"input": version_input(**overrides)}))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == ("NOT_FOUND", field)
    records, _, _ = clean_graph.execute_query("MATCH (v:DatasetVersion) RETURN count(v) AS n")
    assert records[0]["n"] == 1  # only v1 from the story


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"input": {"kind": "vendor"}}, "name"),  # missing required field
        ({"input": {"name": "acme", "kind": 7}}, "kind"),  # wrong type
        ({"input": {"name": "has spaces", "kind": "vendor"}}, "name"),
        ({"input": {"name": "acme", "kind": "Not A Kind"}}, "kind"),
        ({"input": {"name": "acme", "kind": "vendor", "uri": "x" * 3000}}, "uri"),
    ],
)
def test_malformed_registrations_are_invalid_arguments(
    gql: GraphQL, variables: dict[str, Any], field: str
) -> None:
    failure = error(gql(REGISTER_SOURCE, variables))
    assert failure["extensions"]["code"] == "INVALID_ARGUMENT"
    assert failure["extensions"]["field"] == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"createdAt": "2026-02-01T09:00:00"}, "createdAt"),  # no time zone
        ({"sourceIds": ["acme"]}, "sourceIds"),  # not an id
        ({"sourceIds": ["dataset:reviews"]}, "sourceIds"),  # an id of the wrong kind
        ({"rowCount": -1}, "rowCount"),
        ({"schema": "{not json"}, "schema"),
        ({"version": "v:2"}, "version"),
    ],
)
def test_malformed_versions_are_invalid_arguments(
    gql: GraphQL, clean_graph: Driver, overrides: dict[str, Any], field: str
) -> None:
    register_story(gql)
    failure = error(gql(REGISTER_VERSION, {"input": version_input(**overrides)}))
    assert failure["extensions"]["code"] == "INVALID_ARGUMENT"
    assert failure["extensions"]["field"] == field
    records, _, _ = clean_graph.execute_query("MATCH (v:DatasetVersion) RETURN count(v) AS n")
    assert records[0]["n"] == 1


def test_unknown_ids_are_not_found(gql: GraphQL) -> None:
    failure = error(gql('{ source(id: "source:nowhere") { name } }'))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == ("NOT_FOUND", "id")
    malformed = error(gql('{ source(id: "nowhere") { name } }'))
    assert malformed["extensions"]["code"] == "INVALID_ARGUMENT"


def test_sources_page_without_duplicates_or_gaps(gql: GraphQL) -> None:
    names = [f"src-{i:02d}" for i in range(7)]
    for name in names:
        data(gql(REGISTER_SOURCE, {"input": {"name": name, "kind": "bucket"}}))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = data(
            gql(
                "query($after: String) { sources(first: 3, after: $after) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
            )
        )["sources"]
        assert page["totalCount"] == 7
        seen += [edge["node"]["name"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == names
    assert pages == 3
