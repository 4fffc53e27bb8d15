"""What you write is what you read: every entity kind registered with every relation it can have, read
back through the API field by field, and registered again (an SDK retry) without a conflict.

(A slice's sources once read back empty: its projection reused the slice's own variable for the source.)"""

from __future__ import annotations

from typing import Any

from conftest import GraphQL
from helpers import data

T0 = "2026-01-05T09:00:00+00:00"
T1 = "2026-01-06T09:00:00+00:00"
T2 = "2026-02-01T09:00:00+00:00"

MUTATIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "registerSource",
        "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { created } }",
        {"name": "vendor", "kind": "vendor", "uri": "s3://v", "owner": "team", "license": "CC-BY-4.0", "description": "d"},
    ),
    (
        "registerSource",
        "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { created } }",
        {"name": "crawl", "kind": "crawl"},
    ),
    (
        "registerDataset",
        "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { created } }",
        {"name": "reviews", "description": "product reviews", "owner": "data"},
    ),
    (
        "registerDatasetVersion",
        "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { created } }",
        {
            "dataset": "reviews", "version": "v1", "digest": "sha256:aa", "uri": "s3://r/v1", "rowCount": 5_000_000_000,
            "schema": '{"text": "string"}', "createdAt": T0, "sourceIds": ["source:vendor", "source:crawl"],
        },
    ),
    (
        "registerRun",
        "mutation($i: RegisterRunInput!) { registerRun(input: $i) { created } }",
        {
            "key": "clean-1", "kind": "PREPROCESS", "experiment": "prep", "status": "FINISHED", "startedAt": T0,
            "endedAt": T1, "inputs": [{"id": "datasetVersion:reviews:v1", "role": "OTHER"}],
        },
    ),
    (
        "registerDatasetVersion",
        "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { created } }",
        {
            "dataset": "reviews", "version": "v2", "createdAt": T1, "generatedBy": "run:clean-1",
            "derivedFrom": [{"fromId": "datasetVersion:reviews:v1", "transform": "dedupe"}],
        },
    ),
    (
        "registerSlice",
        "mutation($i: RegisterSliceInput!) { registerSlice(input: $i) { created } }",
        {
            "datasetVersionId": "datasetVersion:reviews:v2", "name": "train", "predicate": "split = 'train'",
            "rowCount": 4_000_000_000, "digest": "sha256:bb", "createdAt": T1, "sourceIds": ["source:vendor"],
        },
    ),
    (
        "registerRun",
        "mutation($i: RegisterRunInput!) { registerRun(input: $i) { created } }",
        {
            "key": "train-1", "kind": "TRAIN", "experiment": "sentiment", "startedAt": T1,
            "params": [{"key": "lr", "value": "3e-5"}],
            "code": {"repo": "git@x:ml.git", "commit": "abc123", "entrypoint": "train.py"},
            "environment": {
                "imageDigest": "sha256:cc", "python": "3.11", "framework": "torch", "frameworkVersion": "2.5.1",
                "packages": ["torch==2.5.1"],
            },
            "inputs": [{"id": "slice:reviews:v2:train", "role": "TRAIN"}, {"id": "datasetVersion:reviews:v2", "role": "TEST"}],
        },
    ),
    ("registerModel", "mutation($i: RegisterModelInput!) { registerModel(input: $i) { created } }", {"name": "sentiment", "owner": "ml"}),
    (
        "registerModelVersion",
        "mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { created } }",
        {
            "model": "sentiment", "artifactUri": "s3://m/1", "framework": "torch", "sizeBytes": 3_000_000_000,
            "metrics": [{"key": "f1", "value": 0.9}], "trainedBy": "run:train-1", "tags": ["nlp"], "createdAt": T2,
        },
    ),
    (
        "registerModelVersion",
        "mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { created } }",
        {"model": "sentiment", "artifactUri": "s3://m/2", "fineTunedFrom": "modelVersion:sentiment:1", "createdAt": T2},
    ),
    (
        "registerEndpoint",
        "mutation($i: RegisterEndpointInput!) { registerEndpoint(input: $i) { created } }",
        {"name": "api", "environment": "production", "description": "public"},
    ),
    (
        "deploy",
        "mutation($i: DeployInput!) { deploy(input: $i) { created } }",
        {"endpoint": "api", "modelVersionId": "modelVersion:sentiment:1", "startedAt": T2, "trafficShare": 0.5, "reason": "launch"},
    ),
    (
        "logInference",
        "mutation($i: InferenceInput!) { logInference(input: $i) { created } }",
        {
            "key": "inf-1", "at": "2026-02-02T09:00:00+00:00", "endpoint": "api", "inputDigest": "sha256:in",
            "outputDigest": "sha256:out", "latencyMs": 12.5,
        },
    ),
]  # fmt: skip

READ = """{
  vendor: source(id: "source:vendor") { id name kind uri owner license description }
  dataset(id: "dataset:reviews") { id name description owner versions { id } }
  v1: datasetVersion(id: "datasetVersion:reviews:v1") { id datasetId version digest uri rowCount schema createdAt sourceIds }
  v2: datasetVersion(id: "datasetVersion:reviews:v2") {
    sourceIds derivedFrom { fromId transform } generatedById generatedBy { key } slices { id } }
  slice(id: "slice:reviews:v2:train") {
    id datasetVersionId name predicate rowCount digest createdAt sourceIds sources { name } }
  run(id: "run:train-1") {
    key kind experimentId status startedAt params { key value }
    code { repo commit entrypoint } environment { imageDigest python framework frameworkVersion packages }
    inputs { id role } outputIds }
  clean: run(id: "run:clean-1") { status endedAt outputIds }
  model(id: "model:sentiment") { owner versions { id } }
  base: modelVersion(id: "modelVersion:sentiment:1") {
    artifactUri framework sizeBytes metrics { key value } trainedById tags createdAt deployments { id } }
  tuned: modelVersion(id: "modelVersion:sentiment:2") { fineTunedFromId fineTunedFrom { id } }
  endpoint(id: "endpoint:api") { environment description deployments { id } }
  deployment(id: "deployment:api:1") { endpointId modelVersionId startedAt trafficShare reason }
  inference(id: "inference:inf-1") { modelVersionId deploymentId inputDigest outputDigest latencyMs at }
}"""

EXPECTED = {
    "vendor": {
        "id": "source:vendor", "name": "vendor", "kind": "vendor", "uri": "s3://v", "owner": "team",
        "license": "CC-BY-4.0", "description": "d",
    },
    "dataset": {
        "id": "dataset:reviews", "name": "reviews", "description": "product reviews", "owner": "data",
        "versions": [{"id": "datasetVersion:reviews:v1"}, {"id": "datasetVersion:reviews:v2"}],
    },
    "v1": {
        "id": "datasetVersion:reviews:v1", "datasetId": "dataset:reviews", "version": "v1", "digest": "sha256:aa",
        "uri": "s3://r/v1", "rowCount": 5_000_000_000, "schema": '{"text": "string"}', "createdAt": T0,
        "sourceIds": ["source:crawl", "source:vendor"],
    },
    "v2": {
        "sourceIds": [], "derivedFrom": [{"fromId": "datasetVersion:reviews:v1", "transform": "dedupe"}],
        "generatedById": "run:clean-1", "generatedBy": {"key": "clean-1"}, "slices": [{"id": "slice:reviews:v2:train"}],
    },
    "slice": {
        "id": "slice:reviews:v2:train", "datasetVersionId": "datasetVersion:reviews:v2", "name": "train",
        "predicate": "split = 'train'", "rowCount": 4_000_000_000, "digest": "sha256:bb", "createdAt": T1,
        "sourceIds": ["source:vendor"], "sources": [{"name": "vendor"}],
    },
    "run": {
        "key": "train-1", "kind": "TRAIN", "experimentId": "experiment:sentiment", "status": "RUNNING",
        "startedAt": T1, "params": [{"key": "lr", "value": "3e-5"}],
        "code": {"repo": "git@x:ml.git", "commit": "abc123", "entrypoint": "train.py"},
        "environment": {
            "imageDigest": "sha256:cc", "python": "3.11", "framework": "torch", "frameworkVersion": "2.5.1",
            "packages": ["torch==2.5.1"],
        },
        "inputs": [{"id": "datasetVersion:reviews:v2", "role": "TEST"}, {"id": "slice:reviews:v2:train", "role": "TRAIN"}],
        "outputIds": ["modelVersion:sentiment:1"],
    },
    "clean": {"status": "FINISHED", "endedAt": T1, "outputIds": ["datasetVersion:reviews:v2"]},
    "model": {"owner": "ml", "versions": [{"id": "modelVersion:sentiment:1"}, {"id": "modelVersion:sentiment:2"}]},
    "base": {
        "artifactUri": "s3://m/1", "framework": "torch", "sizeBytes": 3_000_000_000, "metrics": [{"key": "f1", "value": 0.9}],
        "trainedById": "run:train-1", "tags": ["nlp"], "createdAt": T2, "deployments": [{"id": "deployment:api:1"}],
    },
    "tuned": {"fineTunedFromId": "modelVersion:sentiment:1", "fineTunedFrom": {"id": "modelVersion:sentiment:1"}},
    "endpoint": {"environment": "production", "description": "public", "deployments": [{"id": "deployment:api:1"}]},
    "deployment": {
        "endpointId": "endpoint:api", "modelVersionId": "modelVersion:sentiment:1", "startedAt": T2,
        "trafficShare": 0.5, "reason": "launch",
    },
    "inference": {
        "modelVersionId": "modelVersion:sentiment:1", "deploymentId": "deployment:api:1", "inputDigest": "sha256:in",
        "outputDigest": "sha256:out", "latencyMs": 12.5, "at": "2026-02-02T09:00:00+00:00",
    },
}  # fmt: skip


def test_every_relation_written_is_read_back(gql: GraphQL) -> None:
    for name, document, variables in MUTATIONS:
        assert data(gql(document, {"i": variables}))[name]["created"] is True, name
    assert data(gql(READ)) == EXPECTED


def test_registering_everything_again_is_a_no_op(gql: GraphQL, clean_graph: Any) -> None:
    for _, document, variables in MUTATIONS:
        data(gql(document, {"i": variables}))
    counts = _counts(clean_graph)
    for name, document, variables in MUTATIONS:
        assert data(gql(document, {"i": variables}))[name]["created"] is False, name
    assert _counts(clean_graph) == counts
    assert data(gql(READ)) == EXPECTED


def _counts(driver: Any) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "RETURN COUNT { MATCH (n) } AS nodes, COUNT { MATCH ()-[r]->() } AS edges", database_="neo4j"
    )
    return int(records[0]["nodes"]), int(records[0]["edges"])
