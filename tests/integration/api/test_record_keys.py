"""Record keys end to end against the real app and Neo4j: registration over REST, `recordProvenance` over
GraphQL, exact and filter membership, propagation through a derivation chain, and the bad inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

import builders as b
from conftest import GraphQL
from helpers import data
from provgraph.domain import membership as m
from provgraph.store.membership import KeyFiles
from record_story import SECRET, build_chain, keys, mutate, register

QUESTION = """query($h: String!, $asOf: DateTime) { recordProvenance(keyHash: $h, asOf: $asOf) {
  holders { dataId certainty basis sourceId falsePositiveRate via }
  stopped { dataId derivedFrom }
  runs { runId certainty dataIds }
  modelVersions { modelVersion { id } stage certainty runIds inferences liveDeployments { id } }
  inferences } }"""


@pytest.fixture
def chain(gql: GraphQL) -> GraphQL:
    return build_chain(gql)


def test_an_exact_registration_answers_definitely_and_the_answer_follows_the_chain(
    chain: GraphQL, client: TestClient
) -> None:
    people = keys("person", 1000)
    first = register(client, "datasetVersion:people:v1", "source:crm", people)
    assert first.status_code == 201, first.text
    recorded = first.json()
    assert (recorded["keys"], recorded["exact"], recorded["created"]) == (1000, True, True)
    declared = mutate(
        chain,
        'mutation { declareKeyPreservingTransform(datasetVersionId: "datasetVersion:people:v2", '
        'transform: "dedupe") { created transform } }',
    )
    assert declared["declareKeyPreservingTransform"] == {"created": True, "transform": "dedupe"}

    answer = mutate(chain, QUESTION, h=people[17])["recordProvenance"]
    holders = {h["dataId"]: h for h in answer["holders"]}
    assert holders["datasetVersion:people:v1"]["certainty"] == "DEFINITELY"
    assert holders["datasetVersion:people:v1"]["basis"] == "EXACT_SET"
    assert holders["datasetVersion:people:v1"]["sourceId"] == "source:crm"
    # Inherited through the declared dedupe and the slice: possibly (a dedupe or a split may drop it).
    assert holders["datasetVersion:people:v2"] | {} == {
        "dataId": "datasetVersion:people:v2",
        "certainty": "POSSIBLY",
        "basis": "INHERITED",
        "sourceId": None,
        "falsePositiveRate": None,
        "via": "datasetVersion:people:v1",
    }
    assert holders["slice:people:v2:train"]["basis"] == "INHERITED"
    # The aggregation is where membership stops, and the answer says so.
    assert answer["stopped"] == [
        {"dataId": "datasetVersion:people:summary", "derivedFrom": "datasetVersion:people:v1"}
    ]
    assert [r["runId"] for r in answer["runs"]] == ["run:train-1"]
    assert answer["runs"][0]["dataIds"] == ["slice:people:v2:train"]
    models = {x["modelVersion"]["id"]: x for x in answer["modelVersions"]}
    assert set(models) == {"modelVersion:m:1", "modelVersion:m:2"}
    assert models["modelVersion:m:2"]["liveDeployments"] and not models["modelVersion:m:1"]["liveDeployments"]
    assert models["modelVersion:m:2"]["runIds"] == ["run:train-1"]

    # A key nobody registered is held by nothing.
    stranger = mutate(chain, QUESTION, h=m.key_hash(SECRET, "nobody"))["recordProvenance"]
    assert stranger["holders"] == [] and stranger["modelVersions"] == []
    # Before the data existed, nothing held it.
    early = mutate(chain, QUESTION, h=people[17], asOf="2025-12-31T00:00:00Z")["recordProvenance"]
    assert early["holders"] == [] and early["modelVersions"] == []


def test_a_repeat_is_a_no_op_and_other_keys_for_the_same_data_conflict(
    chain: GraphQL, client: TestClient, clean_graph: Any
) -> None:
    people = keys("person", 50)
    assert register(client, "datasetVersion:people:v1", "source:crm", people).status_code == 201
    nodes_before = b.count(clean_graph, "MATCH (n) RETURN count(n)")
    again = register(client, "datasetVersion:people:v1", "source:crm", list(reversed(people)) + people[:3])
    assert again.status_code == 200 and again.json()["created"] is False
    assert b.count(clean_graph, "MATCH (n) RETURN count(n)") == nodes_before
    other = register(client, "datasetVersion:people:v1", "source:crm", keys("other", 50))
    assert other.status_code == 400 and other.json()["error"]["code"] == "CONFLICT"
    assert b.count(clean_graph, "MATCH (n) RETURN count(n)") == nodes_before
    redeclare = chain(
        'mutation { declareKeyPreservingTransform(datasetVersionId: "datasetVersion:people:v2", transform: "dedupe") { created } }'
    )
    assert data(redeclare)["declareKeyPreservingTransform"]["created"] is True
    repeat = chain(
        'mutation { declareKeyPreservingTransform(datasetVersionId: "datasetVersion:people:v2", transform: "dedupe") { created } }'
    )
    assert data(repeat)["declareKeyPreservingTransform"]["created"] is False
    different = chain(
        'mutation { declareKeyPreservingTransform(datasetVersionId: "datasetVersion:people:v2", transform: "sample") { created } }'
    )
    assert different["errors"][0]["extensions"]["code"] == "CONFLICT"


def test_a_filter_answers_possibly_at_close_to_its_false_positive_rate(
    chain: GraphQL, client: TestClient, settings: Any
) -> None:
    many = keys("visitor", m.EXACT_LIMIT + 20_000)
    response = register(client, "datasetVersion:people:v1", "source:web", many, falsePositiveRate="0.01")
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["exact"] is False and recorded["falsePositiveRate"] <= 0.01
    # Under 3% of a dataset of 100-byte records: the filter is a few bytes per key.
    assert recorded["bytes"] / len(many) < 3.0

    answer = mutate(chain, QUESTION, h=many[5])["recordProvenance"]
    holder = next(h for h in answer["holders"] if h["dataId"] == "datasetVersion:people:v1")
    assert (holder["certainty"], holder["basis"], holder["sourceId"]) == ("POSSIBLY", "FILTER", "source:web")
    assert holder["falsePositiveRate"] == pytest.approx(recorded["falsePositiveRate"])

    # The false-positive rate, measured with 20,000 hashes nobody registered, against the filter's files.
    files = KeyFiles(Path(settings.records_dir))
    rng = np.random.default_rng(7)
    strangers = rng.integers(0, 2**64, size=(20_000, 2), dtype=np.uint64)
    hits = sum(bool(files.candidates(strangers[i : i + 1])) for i in range(len(strangers)))
    measured = hits / len(strangers)
    assert 0.4 * recorded["falsePositiveRate"] < measured < 1.6 * recorded["falsePositiveRate"], measured


@pytest.mark.parametrize(
    ("params", "content", "content_type", "code"),
    [
        (
            {"subject": "datasetVersion:people:v1", "source": "source:crm"},
            b"\x01" * 15,
            "application/octet-stream",
            "INVALID_ARGUMENT",
        ),
        (
            {"subject": "datasetVersion:people:v1", "source": "source:crm"},
            b"",
            "application/octet-stream",
            "INVALID_ARGUMENT",
        ),
        (
            {"subject": "datasetVersion:people:v1"},
            b"\x01" * 16,
            "application/octet-stream",
            "INVALID_ARGUMENT",
        ),
        (
            {"subject": "datasetVersion:people:v1", "source": "source:crm"},
            b"\x01" * 16,
            "application/json",
            "INVALID_ARGUMENT",
        ),
        (
            {"subject": "run:x", "source": "source:crm"},
            b"\x01" * 16,
            "application/octet-stream",
            "INVALID_ARGUMENT",
        ),
        (
            {"subject": "datasetVersion:people:v9", "source": "source:crm"},
            b"\x01" * 16,
            "application/octet-stream",
            "NOT_FOUND",
        ),
        (
            {"subject": "datasetVersion:people:v1", "source": "source:crm", "falsePositiveRate": "2"},
            b"\x01" * 16,
            "application/octet-stream",
            "INVALID_ARGUMENT",
        ),
        (
            {"subject": "datasetVersion:people:v1", "source": "source:crm", "falsePositiveRate": "often"},
            b"\x01" * 16,
            "application/octet-stream",
            "INVALID_ARGUMENT",
        ),
    ],
)
def test_bad_registrations_are_refused_with_a_code_and_write_nothing(
    chain: GraphQL,
    client: TestClient,
    clean_graph: Any,
    params: dict[str, str],
    content: bytes,
    content_type: str,
    code: str,
) -> None:
    before = b.count(clean_graph, "MATCH (n) RETURN count(n)")
    response = client.post(
        "/v1/record-keys", params=params, content=content, headers={"content-type": content_type}
    )
    assert response.json()["error"]["code"] == code, response.text
    assert b.count(clean_graph, "MATCH (n) RETURN count(n)") == before


def test_a_malformed_key_hash_is_an_input_error(gql: GraphQL) -> None:
    for bad in ("not-hex", "ab" * 8, "AB" * 16):
        errors = gql(QUESTION, {"h": bad})["errors"]
        assert errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_a_reader_cannot_register_keys(chain: GraphQL, client: TestClient, tokens: Any) -> None:
    response = client.post(
        "/v1/record-keys",
        params={"subject": "datasetVersion:people:v1", "source": "source:crm"},
        content=b"\x01" * 16,
        headers={"content-type": "application/octet-stream", **tokens.header("reader")},
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"


ROWS = """mutation($i: RegisterRowRangesInput!) { registerRowRanges(input: $i) { ranges rows created } }"""
BY_ROW = """query($t: String!, $r: Long!) { recordProvenance(row: {table: $t, rowId: $r}) {
  holders { dataId certainty basis sourceId } modelVersions { modelVersion { id } certainty } } }"""


def test_row_ranges_answer_definitely_for_a_row_and_repeat_without_writing(
    chain: GraphQL, clean_graph: Any
) -> None:
    ranges = {"subjectId": "slice:people:v2:train", "sourceId": "source:crm", "table": "lake.people"}
    spans = [{"first": 100, "last": 199}, {"first": 0, "last": 99}, {"first": 500, "last": 549}]
    first = mutate(chain, ROWS, i={**ranges, "ranges": spans})["registerRowRanges"]
    assert first == {"ranges": 2, "rows": 250, "created": True}  # [0, 199] merged, [500, 549]
    nodes = b.count(clean_graph, "MATCH (n) RETURN count(n)")
    assert mutate(chain, ROWS, i={**ranges, "ranges": spans[::-1]})["registerRowRanges"]["created"] is False
    assert b.count(clean_graph, "MATCH (n) RETURN count(n)") == nodes
    other = chain(ROWS, {"i": {**ranges, "ranges": [{"first": 0, "last": 10}]}})
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"

    held = mutate(chain, BY_ROW, t="lake.people", r=520)["recordProvenance"]
    assert held["holders"] == [
        {
            "dataId": "slice:people:v2:train",
            "certainty": "DEFINITELY",
            "basis": "ROW_RANGE",
            "sourceId": "source:crm",
        }
    ]
    assert {x["modelVersion"]["id"]: x["certainty"] for x in held["modelVersions"]} == {
        "modelVersion:m:1": "DEFINITELY",
        "modelVersion:m:2": "DEFINITELY",
    }
    for table, row in (("lake.people", 300), ("lake.other", 520)):
        assert mutate(chain, BY_ROW, t=table, r=row)["recordProvenance"]["holders"] == []


@pytest.mark.parametrize(
    "ranges",
    [[], [{"first": 5, "last": 4}], [{"first": -1, "last": 4}]],
)
def test_bad_row_ranges_are_refused_and_write_nothing(
    chain: GraphQL, clean_graph: Any, ranges: list[Any]
) -> None:
    nodes = b.count(clean_graph, "MATCH (n) RETURN count(n)")
    answer = chain(
        ROWS,
        {
            "i": {
                "subjectId": "datasetVersion:people:v1",
                "sourceId": "source:crm",
                "table": "t",
                "ranges": ranges,
            }
        },
    )
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert b.count(clean_graph, "MATCH (n) RETURN count(n)") == nodes
    neither = chain("query { recordProvenance { holders { dataId } } }")
    assert neither["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
