"""A derivation chain with record keys, shared by the record-key and erasure tests: the data, its sources,
a training run, a model with a fine-tuned version deployed, and the helpers that register keys over REST."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

import builders as b
from conftest import GraphQL
from helpers import data
from provgraph.domain import membership as m

SECRET = b"the-client-keeps-this-secret"


def keys(prefix: str, n: int) -> list[str]:
    return [m.key_hash(SECRET, f"{prefix}-{i}") for i in range(n)]


def body(hashes: list[str]) -> bytes:
    return b"".join(bytes.fromhex(h) for h in hashes)


def register(client: TestClient, subject: str, source: str, hashes: list[str], **params: Any) -> Any:
    return client.post(
        "/v1/record-keys",
        params={"subject": subject, "source": source, **params},
        content=body(hashes),
        headers={"content-type": "application/octet-stream"},
    )


def mutate(gql: GraphQL, query: str, **variables: Any) -> dict[str, Any]:
    return data(gql(query, variables))


def build_chain(gql: GraphQL) -> GraphQL:
    """people v1 (from crm) → v2 (dedupe, declared key-preserving) → slice train → run → model m v1 →
    fine-tuned m v2, deployed; and v1 → summary (an aggregation, not key-preserving)."""
    for name in ("crm", "web"):
        mutate(
            gql,
            'mutation($n: String!) { registerSource(input: {name: $n, kind: "database"}) { created } }',
            n=name,
        )
    mutate(gql, 'mutation { registerDataset(input: {name: "people"}) { created } }')
    version = "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { created } }"
    at = "2026-01-01T00:00:00Z"
    mutate(
        gql, version, i={"dataset": "people", "version": "v1", "sourceIds": ["source:crm"], "createdAt": at}
    )
    mutate(
        gql,
        version,
        i={
            "dataset": "people",
            "version": "v2",
            "createdAt": "2026-01-02T00:00:00Z",
            "derivedFrom": [{"fromId": "datasetVersion:people:v1", "transform": "dedupe"}],
        },
    )
    mutate(
        gql,
        version,
        i={
            "dataset": "people",
            "version": "summary",
            "createdAt": "2026-01-02T00:00:00Z",
            "derivedFrom": [{"fromId": "datasetVersion:people:v1", "transform": "count by city"}],
        },
    )
    mutate(
        gql,
        'mutation { registerSlice(input: {datasetVersionId: "datasetVersion:people:v2", name: "train", '
        'createdAt: "2026-01-03T00:00:00Z"}) { created } }',
    )
    run = "mutation($i: RegisterRunInput!) { registerRun(input: $i) { run { id } } }"
    run_id = mutate(
        gql,
        run,
        i={
            "key": "train-1",
            "kind": "TRAIN",
            "status": "FINISHED",
            "startedAt": "2026-01-04T00:00:00Z",
            "endedAt": "2026-01-04T01:00:00Z",
            "inputs": [{"id": "slice:people:v2:train", "role": "TRAIN"}],
        },
    )["registerRun"]["run"]["id"]
    b.model(gql, "m")
    base = data(b.model_version(gql, "m", "s3://m/1", trainedBy=run_id))["registerModelVersion"][
        "modelVersion"
    ]["id"]
    tuned = data(b.model_version(gql, "m", "s3://m/2", fineTunedFrom=base))["registerModelVersion"][
        "modelVersion"
    ]["id"]
    b.endpoint(gql, "api")
    data(b.deploy(gql, "api", tuned, "2026-02-01T00:00:00Z"))
    return gql
