"""Deployments as intervals, and inferences resolved from an endpoint and a time."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

import builders as b
from conftest import GraphQL
from helpers import data, error

LOG = "mutation($i: InferenceInput!) { logInference(input: $i) { created inference { id modelVersionId deploymentId } } }"
LOG_MANY = """mutation($items: [InferenceInput!]!) {
  logInferences(inferences: $items) { accepted duplicates rejected { index key code field reason } } }"""
END = "mutation($i: EndDeploymentInput!) { endDeployment(input: $i) { created deployment { id endedAt endReason } } }"


@pytest.fixture
def canary(gql: GraphQL) -> GraphQL:
    """Endpoint ep: m:1 at 90% and m:2 at 10% from March; m:3 registered but never deployed."""
    b.model(gql, "m")
    for n in (1, 2, 3):
        data(b.model_version(gql, artifact=f"s3://a/{n}"))
    b.endpoint(gql, "ep")
    data(b.deploy(gql, "ep", "modelVersion:m:1", "2026-03-01T00:00:00Z", 0.9))
    data(b.deploy(gql, "ep", "modelVersion:m:2", "2026-03-01T00:00:00Z", 0.1))
    return gql


def test_deploying_is_idempotent_on_start_time(canary: GraphQL, clean_graph: Driver) -> None:
    again = data(b.deploy(canary, "ep", "modelVersion:m:1", "2026-03-01T00:00:00Z", 0.9))["deploy"]
    assert again == {"created": False, "deployment": {"id": "deployment:ep:1", "trafficShare": 0.9}}
    changed = error(b.deploy(canary, "ep", "modelVersion:m:1", "2026-03-01T00:00:00Z", 0.5))
    assert (changed["extensions"]["code"], changed["extensions"]["field"]) == ("CONFLICT", "trafficShare")
    assert b.count(clean_graph, "MATCH (d:Deployment) RETURN count(d)") == 2


@pytest.mark.parametrize(
    ("version", "start", "share", "code", "field"),
    [
        ("modelVersion:m:3", "2026-03-02T00:00:00Z", 0.5, "FAILED_PRECONDITION", "trafficShare"),  # 150%
        (
            "modelVersion:m:1",
            "2026-03-02T00:00:00Z",
            0.0001,
            "FAILED_PRECONDITION",
            "modelVersionId",
        ),  # already live
        (
            "modelVersion:m:3",
            "2025-12-01T00:00:00Z",
            0.1,
            "FAILED_PRECONDITION",
            "startedAt",
        ),  # before the version
        ("modelVersion:m:3", "2026-03-02T00:00:00Z", 0.0, "INVALID_ARGUMENT", "trafficShare"),
        ("modelVersion:m:3", "2026-03-02T00:00:00Z", 1.5, "INVALID_ARGUMENT", "trafficShare"),
        ("modelVersion:m:9", "2026-03-02T00:00:00Z", 0.1, "NOT_FOUND", "modelVersionId"),
    ],
)
def test_deployment_rules(
    canary: GraphQL, clean_graph: Driver, version: str, start: str, share: float, code: str, field: str
) -> None:
    failure = error(b.deploy(canary, "ep", version, start, share))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == (code, field), failure
    assert b.count(clean_graph, "MATCH (d:Deployment) RETURN count(d)") == 2


def test_ending_a_deployment(canary: GraphQL) -> None:
    ended = data(
        canary(
            END,
            {
                "i": {
                    "deploymentId": "deployment:ep:2",
                    "endedAt": "2026-03-05T00:00:00Z",
                    "reason": "canary failed",
                }
            },
        )
    )
    assert ended["endDeployment"] == {
        "created": True,
        "deployment": {
            "id": "deployment:ep:2",
            "endedAt": "2026-03-05T00:00:00+00:00",
            "endReason": "canary failed",
        },
    }
    repeat = data(canary(END, {"i": {"deploymentId": "deployment:ep:2", "endedAt": "2026-03-05T00:00:00Z"}}))
    assert repeat["endDeployment"] == {**ended["endDeployment"], "created": False}
    moved = error(canary(END, {"i": {"deploymentId": "deployment:ep:2", "endedAt": "2026-03-06T00:00:00Z"}}))
    assert (moved["extensions"]["code"], moved["extensions"]["field"]) == ("FAILED_PRECONDITION", "endedAt")
    too_early = error(
        canary(END, {"i": {"deploymentId": "deployment:ep:1", "endedAt": "2026-02-01T00:00:00Z"}})
    )
    assert (too_early["extensions"]["code"], too_early["extensions"]["field"]) == (
        "INVALID_ARGUMENT",
        "endedAt",
    )
    live = data(canary('{ deployedAt(endpoint: "ep", at: "2026-03-06T00:00:00Z") { id } }'))["deployedAt"]
    assert live == [{"id": "deployment:ep:1"}]


def test_inferences_resolve_the_live_deployment(canary: GraphQL) -> None:
    ambiguous = error(canary(LOG, {"i": {"key": "i1", "endpoint": "ep", "at": "2026-03-02T00:00:00Z"}}))
    assert (ambiguous["extensions"]["code"], ambiguous["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "endpoint",
    )
    named = data(
        canary(
            LOG,
            {
                "i": {
                    "key": "i1",
                    "endpoint": "ep",
                    "modelVersionId": "modelVersion:m:2",
                    "at": "2026-03-02T00:00:00Z",
                }
            },
        )
    )
    assert named["logInference"] == {
        "created": True,
        "inference": {
            "id": "inference:i1",
            "modelVersionId": "modelVersion:m:2",
            "deploymentId": "deployment:ep:2",
        },
    }
    data(canary(END, {"i": {"deploymentId": "deployment:ep:2", "endedAt": "2026-03-05T00:00:00Z"}}))
    resolved = data(canary(LOG, {"i": {"key": "i2", "endpoint": "ep", "at": "2026-03-06T00:00:00Z"}}))
    assert resolved["logInference"]["inference"]["modelVersionId"] == "modelVersion:m:1"
    retry = data(canary(LOG, {"i": {"key": "i2", "endpoint": "ep", "at": "2026-03-06T00:00:00Z"}}))
    assert retry["logInference"]["created"] is False


@pytest.mark.parametrize(
    ("item", "code", "field"),
    [
        (
            {"endpoint": "ep", "at": "2026-02-01T00:00:00Z"},
            "FAILED_PRECONDITION",
            "endpoint",
        ),  # nothing live yet
        ({"endpoint": "nowhere", "at": "2026-03-02T00:00:00Z"}, "NOT_FOUND", "endpoint"),
        ({"modelVersionId": "modelVersion:m:9", "at": "2026-03-02T00:00:00Z"}, "NOT_FOUND", "modelVersionId"),
        (
            {"modelVersionId": "modelVersion:m:3", "endpoint": "ep", "at": "2026-03-02T00:00:00Z"},
            "FAILED_PRECONDITION",
            "endpoint",
        ),
        ({"modelVersionId": "modelVersion:m:1", "at": "2025-06-01T00:00:00Z"}, "FAILED_PRECONDITION", "at"),
        ({"at": "2026-03-02T00:00:00Z"}, "INVALID_ARGUMENT", "modelVersionId"),
        (
            {"modelVersionId": "modelVersion:m:1", "at": "2026-03-02T00:00:00Z", "latencyMs": -1},
            "INVALID_ARGUMENT",
            "latencyMs",
        ),
        ({"modelVersionId": "modelVersion:m:1", "at": "2026-03-02T00:00:00"}, "INVALID_ARGUMENT", "at"),
    ],
)
def test_inferences_that_cannot_land(
    canary: GraphQL, clean_graph: Driver, item: dict[str, Any], code: str, field: str
) -> None:
    failure = error(canary(LOG, {"i": {"key": "bad", **item}}))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == (code, field), failure
    assert b.count(clean_graph, "MATCH (i:Inference) RETURN count(i)") == 0


def test_a_batch_lands_its_valid_items_and_explains_the_rest(canary: GraphQL, clean_graph: Driver) -> None:
    items = [
        {"key": "ok-1", "modelVersionId": "modelVersion:m:1", "at": "2026-03-02T00:00:00Z"},
        {"key": "bad-version", "modelVersionId": "modelVersion:m:9", "at": "2026-03-02T00:00:00Z"},
        {"key": "ok-2", "endpoint": "ep", "modelVersionId": "modelVersion:m:2", "at": "2026-03-02T00:00:00Z"},
        {"key": "no-target", "at": "2026-03-02T00:00:00Z"},
        {
            "key": "ok-1",
            "modelVersionId": "modelVersion:m:1",
            "at": "2026-03-02T00:00:00Z",
        },  # twice in one batch
    ]
    outcome = data(canary(LOG_MANY, {"items": items}))["logInferences"]
    assert (outcome["accepted"], outcome["duplicates"]) == (2, 0)
    assert [(r["index"], r["key"], r["code"], r["field"]) for r in outcome["rejected"]] == [
        (1, "bad-version", "NOT_FOUND", "modelVersionId"),
        (3, "no-target", "INVALID_ARGUMENT", "modelVersionId"),
        (4, "ok-1", "INVALID_ARGUMENT", "key"),
    ]
    retried = data(canary(LOG_MANY, {"items": items[:1]}))["logInferences"]
    assert (retried["accepted"], retried["duplicates"], retried["rejected"]) == (0, 1, [])
    conflicting = data(canary(LOG_MANY, {"items": [{**items[0], "modelVersionId": "modelVersion:m:2"}]}))[
        "logInferences"
    ]
    assert [(r["code"], r["field"]) for r in conflicting["rejected"]] == [("CONFLICT", "id")]
    assert b.count(clean_graph, "MATCH (i:Inference)-[:PREDICTED_WITH]->(:ModelVersion) RETURN count(i)") == 2


def test_an_oversized_batch_is_refused_whole(canary: GraphQL, clean_graph: Driver, settings: Any) -> None:
    size = settings.limits.max_batch_size + 1
    items = [
        {"key": f"k{n}", "modelVersionId": "modelVersion:m:1", "at": "2026-03-02T00:00:00Z"}
        for n in range(size)
    ]
    failure = error(canary(LOG_MANY, {"items": items}))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == ("LIMIT_EXCEEDED", "inferences")
    assert b.count(clean_graph, "MATCH (i:Inference) RETURN count(i)") == 0
