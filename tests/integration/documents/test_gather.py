"""What documents are drawn from: a model version's whole provenance, a trace and an impact, as of a time."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from conftest import GraphQL
from helpers import data
from provgraph.domain.lineage import Direction
from provgraph.service.documents.gather import Gatherer
from story import Story, T, load_story

StoryFixture = tuple[GraphQL, Story]


def gatherer(client: TestClient) -> Gatherer:
    gathering: Gatherer = client.app.state.services.documents.gatherer  # type: ignore[attr-defined]
    return gathering


def test_a_model_versions_whole_provenance(client: TestClient, story: StoryFixture) -> None:
    _, told = story
    found = client.portal.call(gatherer(client).model_version, "modelVersion:assistant:1", None, None)  # type: ignore[union-attr]
    assert (found.model.name, found.state.stage.value) == ("assistant", "PRODUCTION")
    assert found.trained_by is not None and found.trained_by.key == "ft"
    assert found.base_model_version is not None and found.base_model_version.id == "modelVersion:base:1"
    assert sorted(r.key for r in found.runs) == ["base-train", "ft"]
    assert sorted(s.name for s in found.sources) == ["crawl", "forum", "vendor"]
    assert {v.id for v in found.dataset_versions} >= {*told.corpus_versions, "datasetVersion:forum:v1"}
    assert [s.id for s in found.slices] == ["slice:corpus:v6:test", "slice:corpus:v6:train"]
    assert [(e.kind.value, e.to_stage.value if e.to_stage else None) for e in found.history] == [
        ("REGISTERED", None),
        ("STAGE_CHANGED", "STAGING"),
        ("STAGE_CHANGED", "PRODUCTION"),
    ]
    assert found.audit.valid and found.audit.events >= 2
    assert [(s.deployment.endpoint_id, s.inferences) for s in found.deployments] == [("endpoint:chat", 1)]
    assert found.exclusions == ()  # nothing excluded in the story
    # every edge joins two gathered nodes, and every one says when it was recorded
    assert all(
        e.from_id in found.upstream.nodes and e.to_id in found.upstream.nodes for e in found.upstream.edges
    )
    assert all(e.recorded_at is not None for e in found.upstream.edges)
    assert not found.upstream.is_partial


def test_as_of_a_time_before_a_promotion(client: TestClient, story: StoryFixture) -> None:
    before = T["T3"].replace(hour=12)
    found = client.portal.call(gatherer(client).model_version, "modelVersion:assistant:1", before, None)  # type: ignore[union-attr]
    assert found.state.stage.value == "STAGING"
    assert [e.to_stage.value for e in found.history if e.to_stage] == ["STAGING"]
    assert found.deployments == ()  # deployed at T4, after the time asked about
    assert found.as_of == before


def test_a_trace_and_an_impact_as_subgraphs(client: TestClient, story: StoryFixture) -> None:
    trace = client.portal.call(gatherer(client).trace, "inference:inf-chat")  # type: ignore[union-attr]
    assert {"inference:inf-chat", "modelVersion:assistant:1", "source:forum"} <= trace.nodes.keys()
    assert ("inference:inf-chat", "PREDICTED_WITH", "modelVersion:assistant:1") in {
        (e.from_id, e.type, e.to_id) for e in trace.edges
    }
    impact = client.portal.call(gatherer(client).impact, "source:forum", None, None)  # type: ignore[union-attr]
    assert {
        "source:forum",
        "datasetVersion:forum:v1",
        "run:ft",
        "modelVersion:assistant:1",
    } <= impact.nodes.keys()
    assert ("datasetVersion:forum:v1", "FROM_SOURCE", "source:forum") in {
        (e.from_id, e.type, e.to_id) for e in impact.edges
    }
    lineage = client.portal.call(  # type: ignore[union-attr]
        gatherer(client).lineage, "datasetVersion:forum:v1", Direction.DOWNSTREAM, 1, None, None
    )
    assert lineage.subject_id in lineage.nodes and "run:ft" in lineage.nodes


def test_an_excluded_source_comes_with_its_impact(client: TestClient, gql: GraphQL) -> None:
    load_story(gql)
    data(
        gql(
            'mutation { excludeSource(input: {sourceId: "source:forum", reason: "terms changed", at: "2026-06-20T00:00:00Z"}) { created } }'
        )
    )
    found = client.portal.call(gatherer(client).model_version, "modelVersion:assistant:1", None, None)  # type: ignore[union-attr]
    assert [x.source.id for x in found.exclusions] == ["source:forum"]
    assert "modelVersion:assistant:1" in found.exclusions[0].impact.model_version_ids
    before = datetime(2026, 6, 1, tzinfo=UTC)  # before the exclusion took effect
    earlier = client.portal.call(gatherer(client).model_version, "modelVersion:assistant:1", before, None)  # type: ignore[union-attr]
    assert earlier.exclusions == ()
