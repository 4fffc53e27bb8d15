"""`POST /v1/inferences`, the lean bulk path the logger uses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

import builders as b
from conftest import GraphQL


@pytest.fixture
def deployed(gql: GraphQL) -> GraphQL:
    b.model(gql, "m")
    b.model_version(gql)
    b.endpoint(gql, "ep")
    b.deploy(gql, "ep", "modelVersion:m:1", "2026-03-01T00:00:00Z")
    return gql


def item(key: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "at": "2026-03-02T00:00:00Z", "endpoint": "ep", **extra}


def test_json_and_ndjson_batches_land(deployed: GraphQL, client: TestClient, clean_graph: Driver) -> None:
    response = client.post("/v1/inferences", json={"inferences": [item("a"), item("b", latencyMs=4)]})
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    ndjson = "\n".join(json.dumps(i) for i in [item("b"), item("c")]) + "\n"
    again = client.post("/v1/inferences", content=ndjson, headers={"content-type": "application/x-ndjson"})
    assert again.json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert b.count(clean_graph, "MATCH (i:Inference)-[:SERVED_BY]->(:Deployment) RETURN count(i)") == 3


def test_bad_items_are_rejected_one_by_one(
    deployed: GraphQL, client: TestClient, clean_graph: Driver
) -> None:
    items = [
        item("ok"),
        {"at": "2026-03-02T00:00:00Z", "endpoint": "ep"},
        item("naive", at="2026-03-02T00:00:00"),
        item("slow", latencyMs="fast"),
        "not an object",
        item("early", at="2026-02-01T00:00:00Z"),
    ]
    result = client.post("/v1/inferences", json={"inferences": items}).json()
    assert result["accepted"] == 1
    assert [(r["index"], r["code"], r["field"]) for r in result["rejected"]] == [
        (1, "INVALID_ARGUMENT", "key"),
        (2, "INVALID_ARGUMENT", "at"),
        (3, "INVALID_ARGUMENT", "latencyMs"),
        (4, "INVALID_ARGUMENT", "inferences"),
        (5, "FAILED_PRECONDITION", "endpoint"),
    ]
    assert b.count(clean_graph, "MATCH (i:Inference) RETURN count(i)") == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('["a list"]', "application/json"),
        ('{"items": []}', "application/json"),
    ],
)
def test_a_malformed_body_is_a_400(client: TestClient, body: str, content_type: str) -> None:
    response = client.post("/v1/inferences", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("INVALID_ARGUMENT", "inferences")
    assert error["requestId"] == response.headers["x-request-id"]


def test_an_oversized_batch_is_refused_whole(
    deployed: GraphQL, client: TestClient, clean_graph: Driver, settings: Any
) -> None:
    items = [item(f"k{n}") for n in range(settings.limits.max_batch_size + 1)]
    response = client.post("/v1/inferences", json={"inferences": items})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "LIMIT_EXCEEDED"
    assert b.count(clean_graph, "MATCH (i:Inference) RETURN count(i)") == 0
