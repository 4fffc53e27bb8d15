"""Every signature query against the scripted story, with its known answer."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import GraphQL
from helpers import data, error
from story import Story, T, between, iso

StoryFixture = tuple[GraphQL, Story]

MODELS_USING_SOURCE = """
query($source: ID!, $stage: Stage, $asOf: DateTime, $depth: Int) {
  modelsUsingSource(sourceId: $source, stage: $stage, asOf: $asOf, maxDepth: $depth) {
    totalCount
    items { modelVersion { id } stage deployments { id endpointId } paths { nodeIds edgeTypes } }
  }
}"""


def using(send: GraphQL, source: str, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(send(MODELS_USING_SOURCE, {"source": source, **variables}))[
        "modelsUsingSource"
    ]
    return result


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["modelVersion"]["id"] for item in items]


def test_the_story_resolved_inferences_from_endpoint_and_time(story: StoryFixture) -> None:
    _, told = story
    assert told.inferences == {
        "inf-chat": "modelVersion:assistant:1",
        "inf-v2": "modelVersion:base:2",
        "inf-rollback": "modelVersion:base:1",
    }


def test_models_using_a_source_through_a_derivation_chain_deeper_than_five(story: StoryFixture) -> None:
    send, _ = story
    answer = using(send, "source:crawl")
    assert ids(answer["items"]) == ["modelVersion:assistant:1", "modelVersion:base:1"]
    assert answer["totalCount"] == 2
    base = answer["items"][1]
    path = base["paths"][0]
    assert path["nodeIds"][0] == "modelVersion:base:1" and path["nodeIds"][-1] == "source:crawl"
    assert path["edgeTypes"].count("DERIVED_FROM") == 5  # corpus v6 → v1
    assert path["edgeTypes"][:3] == ["GENERATED_BY", "USED", "SUBSET_OF"]


def test_a_fine_tuned_model_inherits_its_base_models_sources(story: StoryFixture) -> None:
    send, _ = story
    assistant = using(send, "source:crawl")["items"][0]
    assert assistant["modelVersion"]["id"] == "modelVersion:assistant:1"
    assert assistant["paths"][0]["edgeTypes"][0] == "FINE_TUNED_FROM"
    assert ids(using(send, "source:vendor")["items"]) == [
        "modelVersion:assistant:1",
        "modelVersion:base:1",
        "modelVersion:base:2",
    ]
    assert ids(using(send, "source:forum")["items"]) == ["modelVersion:assistant:1"]
    assert using(send, "source:unused") == {"totalCount": 0, "items": []}


def test_max_depth_bounds_the_traversal(story: StoryFixture) -> None:
    send, _ = story
    # base:1 is 9 hops from the crawl (run, slice, v6, five derivations, source); assistant:1 one more.
    assert ids(using(send, "source:crawl", depth=9)["items"]) == ["modelVersion:base:1"]
    assert ids(using(send, "source:crawl", depth=10)["items"]) == [
        "modelVersion:assistant:1",
        "modelVersion:base:1",
    ]
    assert using(send, "source:crawl", depth=5)["items"] == []


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (between("T1", "T2"), []),  # base:1 only in staging
        (between("T2", "T3"), ["modelVersion:base:1"]),
        (between("T4", "T5"), ["modelVersion:assistant:1", "modelVersion:base:1"]),
        (between("T6", "T7"), ["modelVersion:assistant:1"]),  # base:1 archived when base:2 was promoted
    ],
)
def test_production_models_as_of_a_time(story: StoryFixture, as_of: str, expected: list[str]) -> None:
    send, _ = story
    assert ids(using(send, "source:crawl", stage="PRODUCTION", asOf=as_of)["items"]) == expected


def test_as_of_shows_the_deployments_live_then(story: StoryFixture) -> None:
    send, told = story
    before = using(send, "source:vendor", asOf=between("T6", "T7"))["items"]
    assert {i["modelVersion"]["id"]: [d["id"] for d in i["deployments"]] for i in before} == {
        "modelVersion:assistant:1": [told.deployments["chat-1"]],
        "modelVersion:base:1": [],
        "modelVersion:base:2": [told.deployments["scoring-2"]],
    }
    after = using(send, "source:vendor", asOf=between("T7", "T8"))["items"]
    assert {i["modelVersion"]["id"]: [d["id"] for d in i["deployments"]] for i in after}[
        "modelVersion:base:1"
    ] == [told.deployments["scoring-3"]]
    before_data = using(send, "source:crawl", asOf=iso(T["T0"]))
    assert before_data["items"] == []  # nothing derived from the crawl existed yet


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (between("T2", "T3"), ["modelVersion:base:1"]),
        (between("T6", "T7"), ["modelVersion:base:2"]),
        (between("T7", "T8"), ["modelVersion:base:1"]),  # after the rollback
        (between("T1", "T2"), []),
    ],
)
def test_deployed_at_across_a_rollback(story: StoryFixture, when: str, expected: list[str]) -> None:
    send, _ = story
    answer = data(
        send(
            'query($at: DateTime) { deployedAt(endpoint: "scoring", at: $at) { modelVersionId } }',
            {"at": when},
        )
    )
    assert [d["modelVersionId"] for d in answer["deployedAt"]] == expected


def test_trace_inference_back_to_data_sources_code_and_environment(story: StoryFixture) -> None:
    send, told = story
    trace = data(
        send(
            """{ traceInference(inferenceId: "inference:inf-chat") {
                 deployment { id endpoint { name } }
                 modelVersion { id }
                 fineTuneChain { id trainedBy { key code { commit } environment { framework frameworkVersion } } }
                 runs { key } datasetVersions { id } slices { id } sources { name }
                 edges { type fromId toId role validFrom recordedAt } } }"""
        )
    )["traceInference"]
    # Every relation carries when it took effect and when it was recorded (PROV exports need both).
    assert all(e.pop("validFrom") and e.pop("recordedAt") for e in trace["edges"])
    assert trace["deployment"] == {"id": told.deployments["chat-1"], "endpoint": {"name": "chat"}}
    assert trace["modelVersion"] == {"id": "modelVersion:assistant:1"}
    assert trace["fineTuneChain"] == [
        {
            "id": "modelVersion:base:1",
            "trainedBy": {
                "key": "base-train",
                "code": {"commit": "a1b2c3"},
                "environment": {"framework": "torch", "frameworkVersion": "2.5.1"},
            },
        }
    ]
    assert sorted(r["key"] for r in trace["runs"]) == ["base-train", "ft"]
    assert sorted(v["id"] for v in trace["datasetVersions"]) == sorted(
        [*told.corpus_versions, "datasetVersion:forum:v1", "datasetVersion:labels:v1"]
    )
    assert sorted(s["id"] for s in trace["slices"]) == ["slice:corpus:v6:test", "slice:corpus:v6:train"]
    assert sorted(s["name"] for s in trace["sources"]) == ["crawl", "forum", "vendor"]
    assert {
        "type": "USED",
        "fromId": "run:base-train",
        "toId": "slice:corpus:v6:test",
        "role": "TEST",
    } in trace["edges"]


def test_lineage_pages_without_duplicates_or_gaps(story: StoryFixture) -> None:
    send, _ = story
    query = """query($after: String) {
      lineage(nodeId: "modelVersion:assistant:1", direction: UPSTREAM, first: 4, after: $after) {
        totalCount isPartial pageInfo { hasNextPage endCursor }
        nodes { __typename ... on Source { id } ... on DatasetVersion { id } ... on Slice { id } ... on Run { id }
                ... on ModelVersion { id } ... on Model { id } ... on Dataset { id } ... on Experiment { id } }
        edges { type fromId toId } } }"""
    seen: list[str] = []
    edges: list[tuple[str, str, str]] = []
    after = None
    while True:
        page = data(send(query, {"after": after}))["lineage"]
        seen += [n["id"] for n in page["nodes"]]
        edges += [(e["fromId"], e["type"], e["toId"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert seen == sorted(seen)
    assert page["isPartial"] is False
    expected = {
        "modelVersion:base:1", "model:assistant", "model:base", "run:ft", "run:base-train", "experiment:assistant",
        "experiment:base", "datasetVersion:forum:v1", "dataset:forum", "source:forum", "datasetVersion:labels:v1",
        "dataset:labels", "source:vendor", "slice:corpus:v6:train", "slice:corpus:v6:test", "dataset:corpus",
        "source:crawl", *story[1].corpus_versions,
    }  # fmt: skip
    assert set(seen) == expected
    assert len(edges) == len(set(edges))
    assert ("modelVersion:assistant:1", "FINE_TUNED_FROM", "modelVersion:base:1") in edges


def test_lineage_reports_a_cut_and_filters_types(story: StoryFixture) -> None:
    send, _ = story
    shallow = data(
        send(
            '{ lineage(nodeId: "modelVersion:assistant:1", maxDepth: 2, types: ["Source"]) { totalCount isPartial } }'
        )
    )["lineage"]
    assert shallow == {"totalCount": 0, "isPartial": True}
    sources = data(
        send(
            '{ lineage(nodeId: "modelVersion:assistant:1", types: ["Source"]) { nodes { ... on Source { id } } } }'
        )
    )["lineage"]["nodes"]
    assert [s["id"] for s in sources] == ["source:crawl", "source:forum", "source:vendor"]
    downstream = data(
        send(
            '{ lineage(nodeId: "source:forum", direction: DOWNSTREAM, types: ["Inference", "Deployment"]) { nodes { ... on Inference { id } ... on Deployment { id } } } }'
        )
    )["lineage"]["nodes"]
    # Downstream follows edges backwards: the deployment serving the fine-tuned model, and what it served.
    assert [n["id"] for n in downstream] == ["deployment:chat:1", "inference:inf-chat"]


def test_impact_report_of_a_source(story: StoryFixture) -> None:
    send, told = story
    report = data(
        send(
            """query($asOf: DateTime) { impactReport(sourceId: "source:crawl", asOf: $asOf) {
                 datasetVersions { id } slices { id } runs { key } firstUsedAt inferences isPartial
                 modelVersions { modelVersion { id } stage liveDeployments { id } inferences } } }""",
            {"asOf": iso(T["T8"])},
        )
    )["impactReport"]
    assert sorted(v["id"] for v in report["datasetVersions"]) == sorted(told.corpus_versions)
    assert [s["id"] for s in report["slices"]] == ["slice:corpus:v6:test", "slice:corpus:v6:train"]
    assert [r["key"] for r in report["runs"]] == ["base-train"]
    assert report["firstUsedAt"] == "2026-01-07T09:00:00+00:00"
    assert report["modelVersions"] == [
        {
            "modelVersion": {"id": "modelVersion:assistant:1"},
            "stage": "PRODUCTION",
            "liveDeployments": [{"id": told.deployments["chat-1"]}],
            "inferences": 1,
        },
        {
            "modelVersion": {"id": "modelVersion:base:1"},
            "stage": "ARCHIVED",
            "liveDeployments": [{"id": told.deployments["scoring-3"]}],
            "inferences": 1,
        },
    ]
    assert (report["inferences"], report["isPartial"]) == (2, False)
    earlier = data(
        send(
            """query($asOf: DateTime) { impactReport(sourceId: "source:crawl", asOf: $asOf) {
                 inferences modelVersions { modelVersion { id } stage } } }""",
            {"asOf": between("T4", "T5")},
        )
    )["impactReport"]
    assert earlier["inferences"] == 1  # only inf-chat had been served by then
    assert {m["modelVersion"]["id"]: m["stage"] for m in earlier["modelVersions"]} == {
        "modelVersion:assistant:1": "PRODUCTION",
        "modelVersion:base:1": "PRODUCTION",
    }


def test_consumers_of_a_dataset_version(story: StoryFixture) -> None:
    send, told = story
    found = data(
        send(
            f"""{{ consumers(datasetVersionId: "{told.corpus_versions[2]}") {{
                 runs {{ run {{ key }} direct }} modelVersions {{ id }} deployments {{ id }} endpoints {{ name }} }} }}"""
        )
    )["consumers"]
    assert found["runs"] == [{"run": {"key": "base-train"}, "direct": False}]
    assert [m["id"] for m in found["modelVersions"]] == ["modelVersion:assistant:1", "modelVersion:base:1"]
    assert sorted(d["id"] for d in found["deployments"]) == sorted(
        [told.deployments["chat-1"], told.deployments["scoring-1"], told.deployments["scoring-3"]]
    )
    assert [e["name"] for e in found["endpoints"]] == ["chat", "scoring"]
    direct = data(
        send('{ consumers(datasetVersionId: "slice:corpus:v6:test") { runs { run { key } direct } } }')
    )
    assert direct["consumers"]["runs"] == [{"run": {"key": "base-train"}, "direct": True}]


def test_model_version_history_state_at_and_compare(story: StoryFixture) -> None:
    send, _ = story
    version = data(
        send(
            """query($a: DateTime!, $b: DateTime!, $c: DateTime!) { modelVersion(id: "modelVersion:base:1") {
                 stage aliases
                 history { kind fromStage toStage alias actor reason }
                 staging: stateAt(at: $a) { stage aliases existed }
                 production: stateAt(at: $b) { stage aliases }
                 archived: stateAt(at: $c) { stage aliases }
                 compare(other: "modelVersion:base:2") {
                   dataOnlyHere dataOnlyThere dataInBoth params { key this other } code { key this other }
                   environment { key this other } } } }""",
            {"a": between("T1", "T2"), "b": between("T2", "T3"), "c": between("T6", "T7")},
        )
    )["modelVersion"]
    assert (version["stage"], version["aliases"]) == ("ARCHIVED", [])
    assert [(e["kind"], e["fromStage"], e["toStage"], e["alias"]) for e in version["history"]] == [
        ("REGISTERED", None, None, None),
        ("STAGE_CHANGED", "NONE", "STAGING", None),
        ("STAGE_CHANGED", "STAGING", "PRODUCTION", None),
        ("ALIAS_SET", None, None, "champion"),
        ("STAGE_CHANGED", "PRODUCTION", "ARCHIVED", None),
    ]
    assert version["history"][2]["reason"] == "approved by risk"
    assert version["history"][4]["reason"] == "archived when modelVersion:base:2 was promoted to PRODUCTION"
    assert version["staging"] == {"stage": "STAGING", "aliases": [], "existed": True}
    assert version["production"] == {"stage": "PRODUCTION", "aliases": ["champion"]}
    assert version["archived"] == {"stage": "ARCHIVED", "aliases": []}
    comparison = version["compare"]
    assert (
        "source:crawl" in comparison["dataOnlyHere"] and "slice:corpus:v6:train" in comparison["dataOnlyHere"]
    )
    assert comparison["dataOnlyThere"] == []
    assert comparison["dataInBoth"] == ["datasetVersion:labels:v1", "source:vendor"]
    assert comparison["params"] == [{"key": "lr", "this": "0.001", "other": "0.0005"}]
    assert comparison["code"] == [{"key": "commit", "this": "a1b2c3", "other": "d4e5f6"}]
    assert {c["key"] for c in comparison["environment"]} == {"frameworkVersion", "packages"}


def test_dashboard_listing_of_model_versions(story: StoryFixture) -> None:
    send, _ = story
    listing = data(
        send('{ modelVersions(where: {model: "base"}) { totalCount nodes { id stage aliases } } }')
    )["modelVersions"]
    assert listing == {
        "totalCount": 2,
        "nodes": [
            {"id": "modelVersion:base:1", "stage": "ARCHIVED", "aliases": []},
            {"id": "modelVersion:base:2", "stage": "PRODUCTION", "aliases": ["champion"]},
        ],
    }
    champion = data(send('{ modelVersions(where: {alias: "champion"}) { nodes { id } } }'))["modelVersions"][
        "nodes"
    ]
    assert champion == [{"id": "modelVersion:base:2"}]
    production = data(
        send(
            "{ modelVersions(where: {stage: PRODUCTION}, first: 1) { nodes { id } pageInfo { hasNextPage } } }"
        )
    )
    assert production["modelVersions"] == {
        "nodes": [{"id": "modelVersion:assistant:1"}],
        "pageInfo": {"hasNextPage": True},
    }


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ('{ modelsUsingSource(sourceId: "source:nowhere") { totalCount } }', "NOT_FOUND", "sourceId"),
        ('{ modelsUsingSource(sourceId: "dataset:corpus") { totalCount } }', "INVALID_ARGUMENT", "sourceId"),
        (
            '{ modelsUsingSource(sourceId: "source:crawl", maxDepth: 0) { totalCount } }',
            "INVALID_ARGUMENT",
            "maxDepth",
        ),
        (
            '{ modelsUsingSource(sourceId: "source:crawl", maxDepth: 99) { totalCount } }',
            "INVALID_ARGUMENT",
            "maxDepth",
        ),
        (
            '{ modelsUsingSource(sourceId: "source:crawl", stage: LIVE) { totalCount } }',
            "INVALID_ARGUMENT",
            None,
        ),
        (
            '{ modelsUsingSource(sourceId: "source:crawl", asOf: "2026-03-01T00:00:00") { totalCount } }',
            "INVALID_ARGUMENT",
            None,
        ),
        (
            '{ lineage(nodeId: "modelVersion:base:1", first: 100000) { totalCount } }',
            "INVALID_ARGUMENT",
            "first",
        ),
        (
            '{ lineage(nodeId: "modelVersion:base:1", types: ["Planet"]) { totalCount } }',
            "INVALID_ARGUMENT",
            "types",
        ),
        ('{ lineage(nodeId: "modelVersion:base:9") { totalCount } }', "NOT_FOUND", "nodeId"),
        (
            '{ lineage(nodeId: "modelVersion:base:1", after: "garbage!") { totalCount } }',
            "INVALID_ARGUMENT",
            "after",
        ),
        (
            '{ traceInference(inferenceId: "inference:never") { modelVersion { id } } }',
            "NOT_FOUND",
            "inferenceId",
        ),
        ('{ impactReport(sourceId: "source:nowhere") { inferences } }', "NOT_FOUND", "sourceId"),
        ('{ deployedAt(endpoint: "nowhere") { id } }', "NOT_FOUND", "endpoint"),
        (
            '{ consumers(datasetVersionId: "run:ft") { endpoints { id } } }',
            "INVALID_ARGUMENT",
            "datasetVersionId",
        ),
        (
            '{ modelVersion(id: "modelVersion:base:1") { compare(other: "modelVersion:base:7") { dataInBoth } } }',
            "NOT_FOUND",
            "other",
        ),
    ],
)
def test_bad_signature_query_arguments(story: StoryFixture, query: str, code: str, field: str | None) -> None:
    send, _ = story
    failure = error(send(query))
    assert failure["extensions"]["code"] == code, failure
    if field is not None:
        assert failure["extensions"]["field"] == field
