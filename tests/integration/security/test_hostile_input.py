"""Hostile input against the real app and a real Neo4j: every request below is answered with a coded
client error (never a 5xx, plain text, INTERNAL or an error without the request id) and writes nothing.

For `/graphql`, a failure before execution (an unreadable body, a bad header) is a 4xx; a failure while
coercing or validating the document, or in a resolver, follows the GraphQL-over-HTTP contract the rest
of the suite relies on (200 with a coded error; 401/403/503 for auth and outages). `POST /v1/inferences`
answers `{"error": {code, message, field, requestId}}` with a 4xx for a body it cannot read, or a 200 that
lists the offending items in `rejected` while the good ones land.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from httpx2 import Response
from neo4j import Driver
from starlette.testclient import TestClient

import builders as b
from conftest import GraphQL, Tokens
from helpers import data
from provgraph.api.app import create_app
from provgraph.config import Settings

LEAKS = (
    "Traceback",
    'File "',
    "neo4j.exceptions",
    "Neo.ClientError",
    "Neo.TransientError",
    "MATCH (",
    "MERGE (",
    "UNWIND $",
)
INVALID = "INVALID_ARGUMENT"
DOCUMENT_ERRORS = (INVALID, "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "LIMIT_EXCEEDED")
ANY = object()  # "the field is not checked"

# A small graph every refusal must leave exactly as it was: a source, a dataset version, a model version
# deployed on an endpoint, a run.
WORLD = """mutation {
  s: registerSource(input: {name: "s", kind: "bucket"}) { created }
  d: registerDataset(input: {name: "d"}) { created }
  dv: registerDatasetVersion(input: {dataset: "d", version: "v1", sourceIds: ["source:s"],
                                     createdAt: "2026-01-01T00:00:00Z"}) { created }
  m: registerModel(input: {name: "m"}) { created }
  mv: registerModelVersion(input: {model: "m", artifactUri: "s3://m/1", createdAt: "2026-01-01T00:00:00Z"}) { created }
  e: registerEndpoint(input: {name: "ep", environment: "production"}) { created }
  dep: deploy(input: {endpoint: "ep", modelVersionId: "modelVersion:m:1", startedAt: "2026-03-01T00:00:00Z"}) { created }
  r: registerRun(input: {key: "r", kind: TRAIN, startedAt: "2026-01-01T00:00:00Z"}) { created }
}"""


# ---------------------------------------------------------------------------------------------- helpers


def post_graphql(client: TestClient, body: str | bytes, **headers: str) -> Response:
    """POST a body exactly as given (so it can hold what `json=` would refuse to encode)."""
    content = body.encode() if isinstance(body, str) else body
    return client.post("/graphql", content=content, headers={"content-type": "application/json", **headers})


def request(query: str, variables: dict[str, Any] | None = None) -> str:
    """A GraphQL request body. `json.dumps` escapes lone surrogates as `\\udxxx` and writes NaN and
    infinities as bare words, as a hostile client would."""
    return json.dumps({"query": query, "variables": variables or {}})


def with_raw_variables(query: str, variables: str) -> str:
    """A request body whose variables are given as raw JSON text (`NaN`, `1e999`, deep nesting)."""
    return '{"query": ' + json.dumps(query) + ', "variables": ' + variables + "}"


def send(client: TestClient, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Response:
    return post_graphql(client, request(query, variables), **headers)


def refused(
    response: Response,
    codes: str | tuple[str, ...] = INVALID,
    *,
    field: object = ANY,
    edge: bool = False,
) -> dict[str, Any]:
    """Assert a coded GraphQL refusal and return its first error.

    edge: refused before execution (the body or a header): a 4xx. Otherwise the document was refused
    while being parsed, validated, coerced or resolved: 200 (or a 4xx), never a 5xx.
    """
    text = response.text
    assert response.status_code < 500, f"{response.status_code}: {text[:400]}"
    if edge:
        assert 400 <= response.status_code < 500, f"{response.status_code}: {text[:400]}"
    else:
        assert response.status_code == 200 or 400 <= response.status_code < 500, text[:400]
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.headers.get("content-type"),
        text[:400],
    )
    body = response.json()
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    request_id = response.headers["x-request-id"]
    for failure in errors:
        extensions = failure.get("extensions") or {}
        assert extensions.get("code"), failure
        assert extensions["code"] != "INTERNAL", failure
        assert extensions.get("requestId") == request_id, (failure, request_id)
    first: dict[str, Any] = errors[0]
    wanted = (codes,) if isinstance(codes, str) else codes
    assert first["extensions"]["code"] in wanted, body
    if field is not ANY:
        assert first["extensions"].get("field") == field, body
    for leak in LEAKS:
        assert leak not in text, (leak, text[:400])
    return first


def rest_refused(
    response: Response, code: str = INVALID, field: str | None = "inferences", status: int = 400
) -> dict[str, Any]:
    """Assert the REST error shape of `/v1/inferences` and return the error."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:400]}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.text[:400]
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "field", "requestId"}, error
    assert (error["code"], error["field"]) == (code, field), error
    assert error["requestId"] == response.headers["x-request-id"], error
    assert error["message"], error
    for leak in LEAKS:
        assert leak not in response.text, (leak, response.text[:400])
    return error


def snapshot(driver: Driver) -> list[str]:
    """Every node (but tokens) and relationship with all its properties: equal snapshots mean nothing was
    written, not even a property on an existing node."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:ApiToken RETURN labels(n) AS l, properties(n) AS p", database_="neo4j"
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(z) RETURN a.id AS a, type(r) AS t, properties(r) AS p, z.id AS z", database_="neo4j"
    )
    found = [repr((sorted(r["l"]), sorted(r["p"].items()))) for r in nodes]
    found += [repr((r["a"], r["t"], sorted(r["p"].items()), r["z"])) for r in rels]
    return sorted(found)


@pytest.fixture
def world(gql: GraphQL, clean_graph: Driver) -> Driver:
    """The small graph above, in a clean database; returns the driver to check it with."""
    assert all(v["created"] for v in data(gql(WORLD)).values())
    return clean_graph


def b64(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def nested_list(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def nested_object(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


# ------------------------------------------------------------------------------------ bodies (/graphql)

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
REGISTER_SOURCE = "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { created } }"
LOG_INFERENCE = "mutation($i: InferenceInput!) { logInference(input: $i) { created } }"
REGISTER_VERSION = "mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { created } }"
REGISTER_DATA_VERSION = (
    "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { created } }"
)
INFERENCE_ITEM = '{"key": "k1", "at": "2026-03-02T00:00:00Z", "endpoint": "ep", "latencyMs": %s}'

BODIES: dict[str, tuple[bytes | str, str]] = {
    # name: (body, content type)
    "json nested 100,000 deep as the whole body": (DEEP, "application/json"),
    "objects nested 100,000 deep as the whole body": (DEEP_OBJECT, "application/json"),
    "json nested 100,000 deep as the variables": (
        with_raw_variables(REGISTER_SOURCE, '{"i": ' + DEEP + "}"),
        "application/json",
    ),
    "objects nested 100,000 deep in the variables": (
        with_raw_variables(REGISTER_SOURCE, '{"i": ' + DEEP_OBJECT + "}"),
        "application/json",
    ),
    "lists nested 100 deep inside the variables": (
        request(REGISTER_SOURCE, {"i": {"name": "n", "kind": "bucket", "description": nested_list(100)}}),
        "application/json",
    ),
    "objects nested 100 deep inside the variables": (
        request(REGISTER_SOURCE, {"i": nested_object(100)}),
        "application/json",
    ),
    "invalid UTF-8 inside a variable string": (
        b'{"query": "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { created } }",'
        b' "variables": {"i": {"name": "n\xff\xfe", "kind": "bucket"}}}',
        "application/json",
    ),
    "invalid UTF-8 inside the document": (
        b'{"query": "mutation { registerSource(input: {name: \\"n\xff\xfe\\", kind: \\"bucket\\"}) { created } }"}',
        "application/json",
    ),
    "a body that is not JSON": ("{not json", "application/json"),
    "a GraphQL document sent as JSON": ("{ __typename }", "application/json"),
    "an empty body": ("", "application/json"),
    "JSON with trailing garbage": ('{"query": "{ __typename }"} trailing', "application/json"),
    "an unsupported content type": (request("{ __typename }"), "text/plain"),
    "a form body": ("query=%7B__typename%7D", "application/x-www-form-urlencoded"),
    "an XML body": ("<query>{ __typename }</query>", "application/xml"),
    "a query that is not a string": ('{"query": 5}', "application/json"),
    "no query at all": ('{"variables": {}}', "application/json"),
    "variables that are a list": ('{"query": "{ __typename }", "variables": []}', "application/json"),
    "extensions that are a string": ('{"query": "{ __typename }", "extensions": "x"}', "application/json"),
    "a batch (a list of requests)": ('[{"query": "{ __typename }"}]', "application/json"),
    "NaN in the variables": (
        with_raw_variables(LOG_INFERENCE, '{"i": %s}' % (INFERENCE_ITEM % "NaN")),
        "application/json",
    ),
    "Infinity in the variables": (
        with_raw_variables(LOG_INFERENCE, '{"i": %s}' % (INFERENCE_ITEM % "Infinity")),
        "application/json",
    ),
    "-Infinity in the variables": (
        with_raw_variables(LOG_INFERENCE, '{"i": %s}' % (INFERENCE_ITEM % "-Infinity")),
        "application/json",
    ),
    "1e999 in the variables": (
        with_raw_variables(LOG_INFERENCE, '{"i": %s}' % (INFERENCE_ITEM % "1e999")),
        "application/json",
    ),
    "-1e999 as a metric value in the variables": (
        with_raw_variables(
            REGISTER_VERSION,
            '{"i": {"model": "m", "artifactUri": "s3://m/2", "metrics": [{"key": "f1", "value": -1e999}]}}',
        ),
        "application/json",
    ),
    "NaN as a trafficShare in the variables": (
        with_raw_variables(
            'mutation($s: Float!) { deploy(input: {endpoint: "ep", modelVersionId: "modelVersion:m:1",'
            ' startedAt: "2026-04-01T00:00:00Z", trafficShare: $s}) { created } }',
            '{"s": NaN}',
        ),
        "application/json",
    ),
    "a lone surrogate in a variable string": (
        request(REGISTER_SOURCE, {"i": {"name": "n", "kind": "bucket", "description": "a\ud800b"}}),
        "application/json",
    ),
    "a lone low surrogate in a source name": (
        request(REGISTER_SOURCE, {"i": {"name": "n\udc00", "kind": "bucket"}}),
        "application/json",
    ),
    "a lone surrogate in an inference key": (
        request(LOG_INFERENCE, {"i": {"key": "k\ud800", "at": "2026-03-02T00:00:00Z", "endpoint": "ep"}}),
        "application/json",
    ),
    "a lone surrogate in a digest": (
        request(REGISTER_DATA_VERSION, {"i": {"dataset": "d", "version": "v2", "digest": "sha256:\ud800"}}),
        "application/json",
    ),
    "a lone surrogate in a variable's name": (
        request(REGISTER_SOURCE, {"i": {"name": "n", "kind": "bucket"}, "\ud800": 1}),
        "application/json",
    ),
    "a lone surrogate (JSON escape) in the document": (
        json.dumps(
            {"query": 'mutation { registerSource(input: {name: "n\ud800", kind: "bucket"}) { created } }'}
        ),
        "application/json",
    ),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_hostile_bodies_on_graphql(client: TestClient, world: Driver, case: str) -> None:
    body, content_type = BODIES[case]
    before = snapshot(world)
    response = post_graphql(client, body, **{"content-type": content_type})
    refused(response, INVALID, edge=True)
    assert snapshot(world) == before


# Documents that are themselves hostile (parsed, not decoded): refused as documents.
DOCUMENTS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "a lone surrogate (GraphQL escape) in a string literal": (
        'mutation { registerSource(input: {name: "n\\ud800", kind: "bucket"}) { created } }',
        {},
        ("GRAPHQL_PARSE_FAILED",),
    ),
    "selections nested 1,000 deep": (
        "{ "
        + 'modelVersion(id: "modelVersion:m:1") { fineTunedFrom { '
        + "fineTunedFrom { " * 998
        + "id"
        + " }" * 1000
        + " }",
        {},
        ("GRAPHQL_PARSE_FAILED", "LIMIT_EXCEEDED"),
    ),
    "selections nested 150 deep (parsable, over the depth limit)": (
        '{ modelVersion(id: "modelVersion:m:1") { ' + "fineTunedFrom { " * 149 + "id" + " }" * 150 + " }",
        {},
        ("LIMIT_EXCEEDED",),
    ),
    "a list literal nested 1,000 deep": (
        '{ lineage(nodeId: "modelVersion:m:1", types: '
        + "[" * 1000
        + '"Source"'
        + "]" * 1000
        + ") { totalCount } }",
        {},
        ("GRAPHQL_PARSE_FAILED", "LIMIT_EXCEEDED"),
    ),
    "a list literal nested 150 deep": (
        '{ lineage(nodeId: "modelVersion:m:1", types: '
        + "[" * 150
        + '"Source"'
        + "]" * 150
        + ") { totalCount } }",
        {},
        (INVALID, "GRAPHQL_VALIDATION_FAILED"),
    ),
    "an object literal nested 1,000 deep": (
        "mutation { registerSource(input: " + "{name: " * 1000 + '"x"' + "}" * 1000 + ") { created } }",
        {},
        ("GRAPHQL_PARSE_FAILED", "LIMIT_EXCEEDED"),
    ),
    "a default value nested 1,000 deep": (
        "query($t: [String!] = "
        + "[" * 1000
        + '"x"'
        + "]" * 1000
        + ') { lineage(nodeId: "modelVersion:m:1", types: $t) { totalCount } }',
        {},
        ("GRAPHQL_PARSE_FAILED", "LIMIT_EXCEEDED"),
    ),
    "a lone surrogate in a document that is otherwise fine": (
        '{ source(id: "source:s\\udfff") { id } }',
        {},
        ("GRAPHQL_PARSE_FAILED",),
    ),
}


@pytest.mark.parametrize("case", sorted(DOCUMENTS))
def test_hostile_documents(client: TestClient, world: Driver, case: str) -> None:
    query, variables, codes = DOCUMENTS[case]
    before = snapshot(world)
    refused(send(client, query, variables), codes)
    assert snapshot(world) == before


# Well-formed JSON asking for something odd: refused as a request (at the edge or as a document).
SOURCE_X = 'mutation A { registerSource(input: {name: "x", kind: "bucket"}) { created } }'
REQUESTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "an operationName that is a number": (
        json.dumps({"query": SOURCE_X, "operationName": 5}),
        (INVALID, "GRAPHQL_VALIDATION_FAILED"),
    ),
    "an operationName that is a list": (
        json.dumps({"query": SOURCE_X, "operationName": ["A"]}),
        (INVALID, "GRAPHQL_VALIDATION_FAILED"),
    ),
    "an operationName naming no operation": (
        json.dumps({"query": SOURCE_X, "operationName": "B"}),
        (INVALID, "GRAPHQL_VALIDATION_FAILED"),
    ),
    "two operations and no operationName": (
        json.dumps({"query": SOURCE_X + " query B { __typename }"}),
        (INVALID, "GRAPHQL_VALIDATION_FAILED"),
    ),
    "a 1,000,000-character name": (
        request(REGISTER_SOURCE, {"i": {"name": "a" * 1_000_000, "kind": "bucket"}}),
        (INVALID, "LIMIT_EXCEEDED"),
    ),
    "a 1,000,000-character description": (
        request(REGISTER_SOURCE, {"i": {"name": "x", "kind": "bucket", "description": "a" * 1_000_000}}),
        (INVALID, "LIMIT_EXCEEDED"),
    ),
    "a 1,000,000-character string literal in the document": (
        json.dumps({"query": SOURCE_X.replace('"x"', '"' + "a" * 1_000_000 + '"')}),
        (INVALID, "LIMIT_EXCEEDED"),
    ),
    "10,000 tags": (
        request(REGISTER_VERSION, {"i": {"model": "m", "artifactUri": "s3://m/2", "tags": ["t"] * 10_000}}),
        (INVALID, "LIMIT_EXCEEDED"),
    ),
}


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_odd_requests(client: TestClient, world: Driver, case: str) -> None:
    body, codes = REQUESTS[case]
    before = snapshot(world)
    refused(post_graphql(client, body), codes)
    assert snapshot(world) == before


@pytest.mark.parametrize("request_id", ["has spaces", "x" * 65, "semi;colon", "<script>", ""])
def test_a_hostile_request_id_is_replaced(client: TestClient, request_id: str) -> None:
    response = post_graphql(client, "{not json", **{"x-request-id": request_id})
    issued = response.headers["x-request-id"]
    assert issued != request_id and len(issued) == 16, issued
    refused(response, INVALID, edge=True)  # and the error quotes the id the response carries
    bulk = client.post("/v1/inferences", content=b"{not json", headers={"x-request-id": request_id})
    assert bulk.headers["x-request-id"] != request_id
    rest_refused(bulk)


# ---------------------------------------------------------------------------- bodies (/v1/inferences)

GOOD_ITEM = {"key": "good", "at": "2026-03-02T00:00:00Z", "endpoint": "ep"}
BULK_BODIES: dict[str, tuple[bytes | str, str]] = {
    "json nested 100,000 deep as the whole body": (DEEP, "application/json"),
    "json nested 100,000 deep as an item": ('{"inferences": [' + DEEP + "]}", "application/json"),
    "json nested 100,000 deep on an NDJSON line": (DEEP + "\n", "application/x-ndjson"),
    "invalid UTF-8 in a key": (
        b'{"inferences": [{"key": "k\xff\xfe", "at": "2026-03-02T00:00:00Z", "endpoint": "ep"}]}',
        "application/json",
    ),
    "invalid UTF-8 on an NDJSON line": (
        json.dumps(GOOD_ITEM).encode()
        + b'\n{"key": "k\xff", "at": "2026-03-02T00:00:00Z", "endpoint": "ep"}\n',
        "application/x-ndjson",
    ),
    "a body that is not JSON": ("{not json", "application/json"),
    "an XML body": ("<inferences/>", "application/xml"),
    "an empty body": ("", "application/json"),
    "NaN as a latency": ('{"inferences": [%s]}' % (INFERENCE_ITEM % "NaN"), "application/json"),
    "Infinity as a latency": (
        '{"inferences": [%s]}' % (INFERENCE_ITEM % "Infinity"),
        "application/json",
    ),
    "-Infinity as a latency": (
        '{"inferences": [%s]}' % (INFERENCE_ITEM % "-Infinity"),
        "application/json",
    ),
    "1e999 as a latency": ('{"inferences": [%s]}' % (INFERENCE_ITEM % "1e999"), "application/json"),
    "NaN on an NDJSON line": (
        json.dumps(GOOD_ITEM) + "\n" + INFERENCE_ITEM % "NaN" + "\n",
        "application/x-ndjson",
    ),
    "1e999 on an NDJSON line": (
        json.dumps(GOOD_ITEM) + "\n" + INFERENCE_ITEM % "1e999" + "\n",
        "application/x-ndjson",
    ),
    "a lone surrogate in a key": (
        json.dumps({"inferences": [GOOD_ITEM, {**GOOD_ITEM, "key": "k\ud800"}]}),
        "application/json",
    ),
    "a lone surrogate in a digest": (
        json.dumps({"inferences": [{**GOOD_ITEM, "inputDigest": "sha256:\udbff"}]}),
        "application/json",
    ),
    "a lone surrogate on an NDJSON line": (
        json.dumps(GOOD_ITEM)
        + "\n"
        + json.dumps({**GOOD_ITEM, "key": "k2", "outputDigest": "\ud800"})
        + "\n",
        "application/x-ndjson",
    ),
    "a lone surrogate as an object key": (
        json.dumps({"inferences": [{**GOOD_ITEM, "\ud800": 1}]}),
        "application/json",
    ),
}


@pytest.mark.parametrize("case", sorted(BULK_BODIES))
def test_hostile_bodies_on_the_bulk_path(client: TestClient, world: Driver, case: str) -> None:
    body, content_type = BULK_BODIES[case]
    before = snapshot(world)
    content = body.encode() if isinstance(body, str) else body
    response = client.post("/v1/inferences", content=content, headers={"content-type": content_type})
    rest_refused(response)
    assert snapshot(world) == before


# ------------------------------------------------------------------------------------------ date-times

BAD_TIMES = {
    "year 1 at +01:00": "0001-01-01T00:00:00+01:00",
    "year 9999 at -01:00": "9999-12-31T23:59:59-01:00",
    "year 1 in UTC": "0001-01-01T00:00:00+00:00",
    "naive": "2026-03-01T12:00:00",
    "200 characters": "2026-03-01T12:00:00+00:00" + "0" * 175,
}
# name: (variable type, document using $t)
TIME_FIELDS: dict[str, tuple[str, str]] = {
    "registerModelVersion.createdAt": (
        "DateTime",
        'mutation($t: DateTime) { registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", createdAt: $t}) { created } }',
    ),
    "registerDatasetVersion.createdAt": (
        "DateTime",
        'mutation($t: DateTime) { registerDatasetVersion(input: {dataset: "d", version: "v2", createdAt: $t}) { created } }',
    ),
    "registerSlice.createdAt": (
        "DateTime",
        'mutation($t: DateTime) { registerSlice(input: {datasetVersionId: "datasetVersion:d:v1", name: "train", createdAt: $t}) { created } }',
    ),
    "registerRun.startedAt": (
        "DateTime",
        'mutation($t: DateTime) { registerRun(input: {key: "r2", kind: TRAIN, startedAt: $t}) { created } }',
    ),
    "completeRun.endedAt": (
        "DateTime",
        'mutation($t: DateTime) { completeRun(input: {runId: "run:r", status: FINISHED, endedAt: $t}) { created } }',
    ),
    "deploy.startedAt": (
        "DateTime",
        'mutation($t: DateTime) { deploy(input: {endpoint: "ep", modelVersionId: "modelVersion:m:1", startedAt: $t, trafficShare: 0.5}) { created } }',
    ),
    "endDeployment.endedAt": (
        "DateTime",
        'mutation($t: DateTime) { endDeployment(input: {deploymentId: "deployment:ep:1", endedAt: $t}) { created } }',
    ),
    "transitionStage.at": (
        "DateTime",
        'mutation($t: DateTime) { transitionStage(input: {modelVersionId: "modelVersion:m:1", stage: STAGING, at: $t}) { created } }',
    ),
    "setAlias.at": (
        "DateTime",
        'mutation($t: DateTime) { setAlias(input: {model: "m", alias: "champion", modelVersionId: "modelVersion:m:1", at: $t}) { created } }',
    ),
    "excludeSource.at": (
        "DateTime",
        'mutation($t: DateTime) { excludeSource(input: {sourceId: "source:s", reason: "terms changed", at: $t}) { created } }',
    ),
    "logInference.at": (
        "DateTime!",
        'mutation($t: DateTime!) { logInference(input: {key: "k1", at: $t, endpoint: "ep"}) { created } }',
    ),
    "logInferences.at": (
        "DateTime!",
        'mutation($t: DateTime!) { logInferences(inferences: [{key: "k1", at: $t, endpoint: "ep"}]) { accepted rejected { code } } }',
    ),
    "deployedAt.at": ("DateTime", 'query($t: DateTime) { deployedAt(endpoint: "ep", at: $t) { id } }'),
    "stateAt.at": (
        "DateTime!",
        'query($t: DateTime!) { modelVersion(id: "modelVersion:m:1") { stateAt(at: $t) { stage } } }',
    ),
    "lineage.asOf": (
        "DateTime",
        'query($t: DateTime) { lineage(nodeId: "modelVersion:m:1", asOf: $t) { totalCount } }',
    ),
    "impactReport.asOf": (
        "DateTime",
        'query($t: DateTime) { impactReport(sourceId: "source:s", asOf: $t) { inferences } }',
    ),
    "modelsUsingSource.asOf": (
        "DateTime",
        'query($t: DateTime) { modelsUsingSource(sourceId: "source:s", asOf: $t) { totalCount } }',
    ),
}


@pytest.mark.parametrize("mode", ["variable", "literal"])
@pytest.mark.parametrize("value", sorted(BAD_TIMES))
@pytest.mark.parametrize("target", sorted(TIME_FIELDS))
def test_hostile_datetimes_in_graphql(
    client: TestClient, world: Driver, target: str, value: str, mode: str
) -> None:
    kind, document = TIME_FIELDS[target]
    when = BAD_TIMES[value]
    before = snapshot(world)
    if mode == "variable":
        response = send(client, document, {"t": when})
    else:
        literal = document.replace(f"($t: {kind})", "").replace("$t", json.dumps(when))
        response = send(client, literal)
    failure = refused(response, INVALID)
    assert failure["extensions"].get("field"), failure  # the offending input is named
    assert snapshot(world) == before


def test_hostile_datetimes_on_the_bulk_path(client: TestClient, world: Driver) -> None:
    bad = sorted(BAD_TIMES)
    items = [GOOD_ITEM] + [
        {**GOOD_ITEM, "key": f"bad{n}", "at": BAD_TIMES[name]} for n, name in enumerate(bad)
    ]
    items.append({**GOOD_ITEM, "key": "not-a-string", "at": 1_700_000_000})
    response = client.post("/v1/inferences", json={"inferences": items})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 1 and result["duplicates"] == 0, result
    assert [(r["index"], r["code"], r["field"]) for r in result["rejected"]] == [
        (n, INVALID, "at") for n in range(1, len(items))
    ], result
    stored, _, _ = world.execute_query("MATCH (i:Inference) RETURN collect(i.id) AS ids", database_="neo4j")
    assert stored[0]["ids"] == ["inference:good"]


# --------------------------------------------------------------------------------------------- cursors

CURSORS = {
    "a huge integer": b64(json.dumps([10**30])),
    "a huge negative integer": b64(json.dumps([-(10**30)])),
    "JSON nested 100 levels": b64("[" * 100 + '"x"' + "]" * 100),
    "a 10,000-character string": b64(json.dumps(["x" * 10_000])),
    "a 600-character string": b64(json.dumps(["x" * 600])),
    "an over-long cursor (5,000 chars)": "A" * 5_000,
    "not base64": "!!!not base64***",
    "base64 of bytes that are not UTF-8": b64(b"\xff\xfe\xfd\xfc"),
    "base64 of text that is not JSON": b64("not json"),
    "an empty list": b64("[]"),
    "an object": b64('{"id": "source:s"}'),
    "a float": b64("[1.5]"),
    "NaN": b64("[NaN]"),
    "1e999": b64("[1e999]"),
    "a boolean": b64("[true]"),
    "null": b64("[null]"),
    "five parts": b64('["a", "b", "c", "d", "e"]'),
    "a lone surrogate": b64('["source:s\\ud800"]'),
}
LISTINGS = {
    "sources": "query($c: String) { sources(after: $c) { totalCount nodes { id } } }",
    "datasets": "query($c: String) { datasets(after: $c) { totalCount nodes { id } } }",
    "models": "query($c: String) { models(after: $c) { totalCount nodes { id } } }",
    "runs": "query($c: String) { runs(after: $c) { totalCount nodes { id } } }",
    "modelVersions": "query($c: String) { modelVersions(after: $c) { totalCount nodes { id } } }",
    "lineage": 'query($c: String) { lineage(nodeId: "modelVersion:m:1", after: $c) { totalCount nodes { __typename } } }',
    "modelsUsingSource": 'query($c: String) { modelsUsingSource(sourceId: "source:s", after: $c) { totalCount } }',
}


@pytest.mark.parametrize("cursor", sorted(CURSORS))
@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_forged_cursors(client: TestClient, world: Driver, listing: str, cursor: str) -> None:
    before = snapshot(world)
    refused(send(client, LISTINGS[listing], {"c": CURSORS[cursor]}), INVALID, field="after")
    assert snapshot(world) == before


def test_an_issued_cursor_still_pages(client: TestClient, world: Driver) -> None:
    """The refusals above are of forged cursors only: a cursor the API issued works."""
    for name in ("t1", "t2"):
        response = send(
            client,
            'mutation($n: String!) { registerSource(input: {name: $n, kind: "bucket"}) { created } }',
            {"n": name},
        )
        assert data(response.json())
    first = data(send(client, "{ sources(first: 1) { pageInfo { endCursor } nodes { id } } }").json())
    cursor = first["sources"]["pageInfo"]["endCursor"]
    after = data(send(client, LISTINGS["sources"], {"c": cursor}).json())
    assert [n["id"] for n in after["sources"]["nodes"]] == ["source:t1", "source:t2"]


# --------------------------------------------------------------------------------------------- numbers

BIG = "1" + "0" * 399  # 400 digits
DEPLOY_SHARE = (
    'mutation { deploy(input: {endpoint: "ep", modelVersionId: "modelVersion:m:1", '
    'startedAt: "2026-04-01T00:00:00Z", trafficShare: %s}) { created } }'
)
MV_INPUT = {"model": "m", "artifactUri": "s3://m/2"}
# name: (document, variables, field or ANY)
NUMBERS: dict[str, tuple[str, dict[str, Any], object]] = {
    "a 400-digit latencyMs literal": (
        'mutation { logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: "ep", latencyMs: '
        + BIG
        + "}) { created } }",
        {},
        ANY,
    ),
    "a 400-digit latencyMs variable": (
        LOG_INFERENCE,
        {"i": {"key": "k1", "at": "2026-03-02T00:00:00Z", "endpoint": "ep", "latencyMs": 10**399}},
        ANY,
    ),
    "a 400-digit latencyMs in logInferences": (
        "mutation($l: [InferenceInput!]!) { logInferences(inferences: $l) { accepted } }",
        {"l": [{"key": "k1", "at": "2026-03-02T00:00:00Z", "endpoint": "ep", "latencyMs": 10**399}]},
        ANY,
    ),
    "a 400-digit float latencyMs literal": (
        'mutation { logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: "ep", latencyMs: '
        + BIG
        + ".5}) { created } }",
        {},
        ANY,
    ),
    "latencyMs -1 (literal)": (
        'mutation { logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: "ep", latencyMs: -1}) { created } }',
        {},
        "latencyMs",
    ),
    "latencyMs -1 (variable)": (
        LOG_INFERENCE,
        {"i": {"key": "k1", "at": "2026-03-02T00:00:00Z", "endpoint": "ep", "latencyMs": -1}},
        "latencyMs",
    ),
    "latencyMs 1e999 literal": (
        'mutation { logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: "ep", latencyMs: 1e999}) { created } }',
        {},
        ANY,
    ),
    "trafficShare NaN (an enum-like word)": (DEPLOY_SHARE % "NaN", {}, ANY),
    "trafficShare Infinity (an enum-like word)": (DEPLOY_SHARE % "Infinity", {}, ANY),
    "trafficShare 1e999 literal": (DEPLOY_SHARE % "1e999", {}, ANY),
    "trafficShare -1e999 literal": (DEPLOY_SHARE % "-1e999", {}, ANY),
    "trafficShare a 400-digit literal": (DEPLOY_SHARE % BIG, {}, ANY),
    "trafficShare 0": (DEPLOY_SHARE % "0", {}, "trafficShare"),
    "trafficShare a string": (DEPLOY_SHARE % '"1"', {}, ANY),
    "a metric value 1e999 literal": (
        'mutation { registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", metrics: [{key: "f1", value: 1e999}]}) { created } }',
        {},
        ANY,
    ),
    "a metric value -1e999 literal in registerRun": (
        'mutation { registerRun(input: {key: "r2", kind: TRAIN, status: FINISHED, startedAt: "2026-01-01T00:00:00Z", endedAt: "2026-01-02T00:00:00Z", metrics: [{key: "f1", value: -1e999}]}) { created } }',
        {},
        ANY,
    ),
    "a metric value 1e999 literal in completeRun": (
        'mutation { completeRun(input: {runId: "run:r", status: FINISHED, endedAt: "2026-01-02T00:00:00Z", metrics: [{key: "f1", value: 1e999}]}) { created } }',
        {},
        ANY,
    ),
    "a metric value of 400 digits in the variables": (
        REGISTER_VERSION,
        {"i": {**MV_INPUT, "metrics": [{"key": "f1", "value": 10**399}]}},
        ANY,
    ),
    "sizeBytes 2**63 (variable)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": 2**63}}, ANY),
    "sizeBytes 2**63 (literal)": (
        'mutation { registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", sizeBytes: '
        + str(2**63)
        + "}) { created } }",
        {},
        ANY,
    ),
    "sizeBytes 2**63 (decimal string)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": str(2**63)}}, ANY),
    "sizeBytes -2**63-1 (variable)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": -(2**63) - 1}}, ANY),
    "sizeBytes of 400 digits (variable)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": 10**399}}, ANY),
    "sizeBytes of 400 digits (string)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": BIG}}, ANY),
    "sizeBytes 'abc' (variable)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": "abc"}}, ANY),
    "sizeBytes 'abc' (literal)": (
        'mutation { registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", sizeBytes: "abc"}) { created } }',
        {},
        ANY,
    ),
    "sizeBytes 1.5": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": 1.5}}, ANY),
    "sizeBytes true": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": True}}, ANY),
    "sizeBytes ' 12' (padded string)": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": " 12"}}, ANY),
    "sizeBytes -1": (REGISTER_VERSION, {"i": {**MV_INPUT, "sizeBytes": -1}}, "sizeBytes"),
    "rowCount 2**63": (
        REGISTER_DATA_VERSION,
        {"i": {"dataset": "d", "version": "v2", "rowCount": 2**63}},
        ANY,
    ),
    "rowCount 'abc'": (
        REGISTER_DATA_VERSION,
        {"i": {"dataset": "d", "version": "v2", "rowCount": "abc"}},
        ANY,
    ),
    "first beyond 32 bits": ("{ sources(first: 99999999999) { totalCount } }", {}, ANY),
    "first of 400 digits (variable)": (
        "query($f: Int) { sources(first: $f) { totalCount } }",
        {"f": 10**399},
        ANY,
    ),
    "maxDepth of 400 digits": (
        '{ lineage(nodeId: "modelVersion:m:1", maxDepth: ' + BIG + ") { totalCount } }",
        {},
        ANY,
    ),
    "maxPaths negative": (
        '{ modelsUsingSource(sourceId: "source:s", maxPaths: -1) { totalCount } }',
        {},
        ANY,
    ),
}


@pytest.mark.parametrize("case", sorted(NUMBERS))
def test_hostile_numbers(client: TestClient, world: Driver, case: str) -> None:
    query, variables, field = NUMBERS[case]
    before = snapshot(world)
    refused(send(client, query, variables), INVALID, field=field)
    assert snapshot(world) == before


def test_hostile_numbers_on_the_bulk_path(client: TestClient, world: Driver) -> None:
    latencies: list[Any] = [10**399, -1, -(10**399), 1e18, "12", True, [1], {"ms": 1}, 1.5e9]
    items = [GOOD_ITEM] + [{**GOOD_ITEM, "key": f"bad{n}", "latencyMs": v} for n, v in enumerate(latencies)]
    items.append({**GOOD_ITEM, "key": "fine", "latencyMs": 0})
    response = client.post("/v1/inferences", content=json.dumps({"inferences": items}).encode(),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 2, result
    assert [(r["index"], r["code"], r["field"]) for r in result["rejected"]] == [
        (n, INVALID, "latencyMs") for n in range(1, len(latencies) + 1)
    ], result
    stored, _, _ = world.execute_query(
        "MATCH (i:Inference) RETURN i.id AS id, i.latencyMs AS ms ORDER BY id", database_="neo4j"
    )
    assert [(r["id"], r["ms"]) for r in stored] == [("inference:fine", 0.0), ("inference:good", None)]


# ------------------------------------------------------------------------------------ 64-bit values


@pytest.mark.parametrize("as_string", [False, True])
def test_64_bit_sizes_and_row_counts_round_trip(client: TestClient, world: Driver, as_string: bool) -> None:
    size, rows = 3_000_000_000, 5_000_000_000
    made = send(
        client,
        "mutation($v: RegisterModelVersionInput!, $d: RegisterDatasetVersionInput!) {"
        " registerModelVersion(input: $v) { created modelVersion { id sizeBytes } }"
        " registerDatasetVersion(input: $d) { created datasetVersion { id rowCount } } }",
        {
            "v": {**MV_INPUT, "sizeBytes": str(size) if as_string else size},
            "d": {"dataset": "d", "version": "v2", "rowCount": str(rows) if as_string else rows},
        },
    )
    assert made.status_code == 200, made.text
    result = data(made.json())
    assert result["registerModelVersion"] == {
        "created": True,
        "modelVersion": {"id": "modelVersion:m:2", "sizeBytes": size},
    }
    assert result["registerDatasetVersion"] == {
        "created": True,
        "datasetVersion": {"id": "datasetVersion:d:v2", "rowCount": rows},
    }
    read = data(
        send(
            client,
            '{ modelVersion(id: "modelVersion:m:2") { sizeBytes } datasetVersion(id: "datasetVersion:d:v2") { rowCount } }',
        ).json()
    )
    assert read == {"modelVersion": {"sizeBytes": size}, "datasetVersion": {"rowCount": rows}}
    stored, _, _ = world.execute_query(
        "MATCH (mv:ModelVersion {id: 'modelVersion:m:2'}), (dv:DatasetVersion {id: 'datasetVersion:d:v2'})"
        " RETURN mv.sizeBytes AS size, dv.rowCount AS rows",
        database_="neo4j",
    )
    assert (stored[0]["size"], stored[0]["rows"]) == (size, rows)
    literal = data(
        send(
            client,
            'mutation { registerSlice(input: {datasetVersionId: "datasetVersion:d:v2", name: "all",'
            f" rowCount: {rows}}}) {{ slice {{ rowCount }} }} }}",
        ).json()
    )
    assert literal["registerSlice"]["slice"]["rowCount"] == rows
    largest = data(
        send(
            client, REGISTER_VERSION, {"i": {**MV_INPUT, "artifactUri": "s3://m/3", "sizeBytes": 2**63 - 1}}
        ).json()
    )
    assert largest["registerModelVersion"]["created"] is True
    back = data(send(client, '{ modelVersion(id: "modelVersion:m:3") { sizeBytes } }').json())
    assert back == {"modelVersion": {"sizeBytes": 2**63 - 1}}


# ----------------------------------------------------------------------------------- names and keys

BAD_NAMES = {
    "a trailing newline": "acme\n",
    "a leading space": " acme",
    "a trailing space": "acme ",
    "a control character": "ac\x01me",
    "a lone surrogate": "acme\ud800",
}
# name: (document using $v: String!, the field the error names)
NAME_FIELDS: dict[str, tuple[str, str]] = {
    "source name": ('registerSource(input: {name: $v, kind: "bucket"}) { created }', "name"),
    "source kind": ('registerSource(input: {name: "s2", kind: $v}) { created }', "kind"),
    "dataset name": ("registerDataset(input: {name: $v}) { created }", "name"),
    "dataset version": ('registerDatasetVersion(input: {dataset: "d", version: $v}) { created }', "version"),
    "slice name": (
        'registerSlice(input: {datasetVersionId: "datasetVersion:d:v1", name: $v}) { created }',
        "name",
    ),
    "experiment name": ("registerExperiment(input: {name: $v}) { created }", "name"),
    "run key": ("registerRun(input: {key: $v, kind: TRAIN}) { created }", "key"),
    "run experiment": (
        'registerRun(input: {key: "r2", kind: TRAIN, experiment: $v}) { created }',
        "experiment",
    ),
    "model name": ("registerModel(input: {name: $v}) { created }", "name"),
    "endpoint name": ('registerEndpoint(input: {name: $v, environment: "production"}) { created }', "name"),
    "endpoint environment": (
        'registerEndpoint(input: {name: "ep2", environment: $v}) { created }',
        "environment",
    ),
    "inference key": (
        'logInference(input: {key: $v, at: "2026-03-02T00:00:00Z", endpoint: "ep"}) { created }',
        "key",
    ),
    "inference endpoint": (
        'logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: $v}) { created }',
        "endpoint",
    ),
    "deploy endpoint": (
        'deploy(input: {endpoint: $v, modelVersionId: "modelVersion:m:1", startedAt: "2026-04-01T00:00:00Z"}) { created }',
        "endpoint",
    ),
    "param key": (
        'registerRun(input: {key: "r2", kind: TRAIN, params: [{key: $v, value: "1"}]}) { created }',
        "params",
    ),
    "metric key": (
        'registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", metrics: [{key: $v, value: 1}]}) { created }',
        "metrics",
    ),
    "tag": (
        'registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", tags: [$v]}) { created }',
        "tags",
    ),
    "alias": (
        'setAlias(input: {model: "m", alias: $v, modelVersionId: "modelVersion:m:1"}) { created }',
        "alias",
    ),
    "model version's model": (
        'registerModelVersion(input: {model: $v, artifactUri: "s3://m/2"}) { created }',
        "model",
    ),
    # one-line fields
    "source uri": ('registerSource(input: {name: "s2", kind: "bucket", uri: $v}) { created }', "uri"),
    "source owner": ('registerSource(input: {name: "s2", kind: "bucket", owner: $v}) { created }', "owner"),
    "source license": (
        'registerSource(input: {name: "s2", kind: "bucket", license: $v}) { created }',
        "license",
    ),
    "dataset owner": ('registerDataset(input: {name: "d2", owner: $v}) { created }', "owner"),
    "model owner": ('registerModel(input: {name: "m2", owner: $v}) { created }', "owner"),
    "dataset version digest": (
        'registerDatasetVersion(input: {dataset: "d", version: "v2", digest: $v}) { created }',
        "digest",
    ),
    "dataset version uri": (
        'registerDatasetVersion(input: {dataset: "d", version: "v2", uri: $v}) { created }',
        "uri",
    ),
    "slice digest": (
        'registerSlice(input: {datasetVersionId: "datasetVersion:d:v1", name: "train", digest: $v}) { created }',
        "digest",
    ),
    "artifactUri": ('registerModelVersion(input: {model: "m", artifactUri: $v}) { created }', "artifactUri"),
    "framework": (
        'registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", framework: $v}) { created }',
        "framework",
    ),
    "inference inputDigest": (
        'logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: "ep", inputDigest: $v}) { created }',
        "inputDigest",
    ),
    "inference outputDigest": (
        'logInference(input: {key: "k1", at: "2026-03-02T00:00:00Z", endpoint: "ep", outputDigest: $v}) { created }',
        "outputDigest",
    ),
    "run code commit": (
        'registerRun(input: {key: "r2", kind: TRAIN, code: {commit: $v}}) { created }',
        "code.commit",
    ),
    "run environment python": (
        'registerRun(input: {key: "r2", kind: TRAIN, environment: {python: $v}}) { created }',
        "environment.python",
    ),
}


@pytest.mark.parametrize("bad", sorted(BAD_NAMES))
@pytest.mark.parametrize("target", sorted(NAME_FIELDS))
def test_hostile_names_and_keys(client: TestClient, world: Driver, target: str, bad: str) -> None:
    selection, field = NAME_FIELDS[target]
    value = BAD_NAMES[bad]
    before = snapshot(world)
    response = send(client, f"mutation($v: String!) {{ {selection} }}", {"v": value})
    if bad == "a lone surrogate":  # refused while the body is read: no stored value can hold one
        refused(response, INVALID, field="body", edge=True)
    else:
        refused(response, INVALID, field=field)
    assert snapshot(world) == before


@pytest.mark.parametrize("bad", sorted(set(BAD_NAMES) - {"a lone surrogate"}))
@pytest.mark.parametrize("target", ["source name", "inference key", "tag", "source uri", "artifactUri"])
def test_hostile_names_as_document_literals(client: TestClient, world: Driver, target: str, bad: str) -> None:
    """The same values written into the document (GraphQL string escapes) instead of variables."""
    selection, field = NAME_FIELDS[target]
    before = snapshot(world)
    literal = json.dumps(BAD_NAMES[bad])  # \n and \u0001 are GraphQL escapes too
    refused(send(client, "mutation { " + selection.replace("$v", literal) + " }"), INVALID, field=field)
    assert snapshot(world) == before


def test_no_look_alike_of_an_existing_source(client: TestClient, gql: GraphQL, clean_graph: Driver) -> None:
    """`registerSource(name: "acme\\n")` must not create a second, look-alike "acme"; nor may a look-alike
    id reach the real one."""
    register = 'mutation($n: String!) { registerSource(input: {name: $n, kind: "bucket"}) { created } }'
    assert data(gql(register, {"n": "acme"}))["registerSource"]["created"] is True
    before = snapshot(clean_graph)
    for look_alike in ("acme\n", "acme\r\n", " acme", "acme ", "acme\t", "acme\x00", "acme\u200b", "ａcme"):
        refused(send(client, register, {"n": look_alike}), INVALID, field="name")
    literal = 'mutation { registerSource(input: {name: "acme\\n", kind: "bucket"}) { created } }'
    refused(send(client, literal), INVALID, field="name")
    for forged_id in ("source:acme\n", "source:acme ", "source: acme", "source:acme\x01"):
        refused(send(client, "query($id: ID!) { source(id: $id) { id } }", {"id": forged_id}), INVALID)
        refused(
            send(client, 'mutation($id: ID!) { excludeSource(input: {sourceId: $id, reason: "x"}) { created } }',
                 {"id": forged_id}),
            INVALID, field="sourceId",
        )  # fmt: skip
    assert snapshot(clean_graph) == before
    listed = data(send(client, "{ sources { totalCount nodes { name excludedAt } } }").json())
    assert listed["sources"] == {"totalCount": 1, "nodes": [{"name": "acme", "excludedAt": None}]}
    assert b.count(clean_graph, "MATCH (s:Source) RETURN count(s)") == 1


def test_hostile_keys_on_the_bulk_path(client: TestClient, world: Driver) -> None:
    bad_keys = ["k\n", " k", "k ", "k\x01", "", "k" * 129, "a:b"]
    items: list[Any] = [GOOD_ITEM] + [{**GOOD_ITEM, "key": k} for k in bad_keys]
    items += [
        {**GOOD_ITEM, "key": "d1", "inputDigest": "sha256:x\n"},
        {**GOOD_ITEM, "key": "d2", "outputDigest": " sha256:x"},
        {**GOOD_ITEM, "key": "e1", "endpoint": "ep\n"},
        {**GOOD_ITEM, "key": "m1", "endpoint": None, "modelVersionId": "modelVersion:m:1\n"},
        {**GOOD_ITEM, "key": 5},
    ]
    fields = ["key"] * len(bad_keys) + ["inputDigest", "outputDigest", "endpoint", "modelVersionId", "key"]
    response = client.post("/v1/inferences", json={"inferences": items})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 1, result
    assert [(r["index"], r["code"], r["field"]) for r in result["rejected"]] == [
        (n, INVALID, f) for n, f in enumerate(fields, start=1)
    ], result
    stored, _, _ = world.execute_query("MATCH (i:Inference) RETURN collect(i.id) AS ids", database_="neo4j")
    assert stored[0]["ids"] == ["inference:good"]


# ----------------------------------------------------------------------------------------- suggestions


@pytest.fixture(scope="module")
def production(settings: Settings, tokens: Tokens) -> Iterator[TestClient]:
    """The app as deployed (PROVGRAPH_ENV=production), called with the admin token."""
    with TestClient(
        create_app(replace(settings, environment="production")), headers=tokens.header("admin")
    ) as c:
        yield c


# name: (document, variables, the schema name a suggestion would reveal)
MISSPELLINGS: dict[str, tuple[str, dict[str, Any], str]] = {
    "an argument": ("{ sources(frist: 1) { totalCount } }", {}, "first"),
    "a nested argument": (
        '{ modelVersion(id: "modelVersion:m:1") { stateAt(att: "2026-03-01T00:00:00Z") { stage } } }',
        {},
        "at",
    ),
    "an enum value": ("{ modelVersions(where: {stage: PRODUCTON}) { totalCount } }", {}, "PRODUCTION"),
    "an enum value in the variables": (
        "query($w: ModelVersionFilter) { modelVersions(where: $w) { totalCount } }",
        {"w": {"stage": "PRODUCTON"}},
        "PRODUCTION",
    ),
    "a type name in a variable definition": (
        "query($w: ModelVersionFiltr) { modelVersions(where: $w) { totalCount } }",
        {},
        "ModelVersionFilter",
    ),
    "a type in a fragment": (
        '{ lineage(nodeId: "modelVersion:m:1") { nodes { ... on Sourc { id } } } }',
        {},
        "Source",
    ),
    "an input field": (
        'mutation { registerSource(input: {name: "x", kind: "bucket", ownr: "me"}) { created } }',
        {},
        "owner",
    ),
    "an input field in the variables": (
        REGISTER_SOURCE,
        {"i": {"name": "x", "kind": "bucket", "ownr": "me"}},
        "owner",
    ),
    "a field": ("{ sourcs { totalCount } }", {}, "sources"),
    "a nested field": ("{ sources { totalCont } }", {}, "totalCount"),
}


@pytest.mark.parametrize("case", sorted(MISSPELLINGS))
def test_production_answers_misspellings_without_suggestions(
    production: TestClient, client: TestClient, case: str
) -> None:
    query, variables, hidden = MISSPELLINGS[case]
    # Development suggests the right name (so the case does provoke a suggestion)…
    development = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert any("Did you mean" in e["message"] for e in development["errors"]), development
    # …production does not, in any error.
    response = send(production, query, variables)
    refused(response, (INVALID, "GRAPHQL_VALIDATION_FAILED"))
    for failure in response.json()["errors"]:
        assert "Did you mean" not in failure["message"], failure
        assert f"'{hidden}'" not in failure["message"], failure


@pytest.mark.parametrize("case", sorted(MISSPELLINGS))
@pytest.mark.parametrize("authorization", ["", "Bearer pgt_not-a-token", "Basic dXNlcjpwdw=="])
def test_no_token_is_answered_before_the_document_is_validated(
    production: TestClient, authorization: str, case: str
) -> None:
    query, variables, hidden = MISSPELLINGS[case]
    response = send(production, query, variables, authorization=authorization)
    assert response.status_code == 401, response.text
    failure = refused(response, "UNAUTHENTICATED", edge=True)
    assert "Did you mean" not in response.text, failure
    for name in (hidden, "Query", "Mutation", "Stage", "ModelVersionFilter", "RegisterSourceInput"):
        assert f"'{name}'" not in failure["message"], failure


# --------------------------------------------------------------------------------------- idempotency

DEPLOY_NOW = 'mutation { deploy(input: {endpoint: "ep", modelVersionId: "modelVersion:m:1"}) { created deployment { id startedAt } } }'


DEPLOY_AT = DEPLOY_NOW.replace('"modelVersion:m:1"', '"modelVersion:m:1", startedAt: "2026-03-01T00:00:00Z"')


@pytest.fixture
def deployable(gql: GraphQL, clean_graph: Driver) -> Driver:
    b.model(gql, "m")
    data(b.model_version(gql))  # created 2026-01-01, in the past
    b.endpoint(gql, "ep")
    return clean_graph


def test_an_idempotency_key_makes_deploy_now_exact(client: TestClient, deployable: Driver) -> None:
    key = f"deploy-{uuid.uuid4().hex}"
    first = send(client, DEPLOY_NOW, **{"idempotency-key": key})
    second = send(client, DEPLOY_NOW, **{"idempotency-key": key})
    one, two = data(first.json())["deploy"], data(second.json())["deploy"]
    assert one["created"] is True and two["created"] is False, (one, two)
    assert two["deployment"] == one["deployment"]
    assert b.count(deployable, "MATCH (d:Deployment) RETURN count(d)") == 1

    before = snapshot(deployable)
    other = DEPLOY_NOW.replace('"modelVersion:m:1"', '"modelVersion:m:1", trafficShare: 0.5')
    conflict = send(client, other, **{"idempotency-key": key})
    assert 400 <= conflict.status_code < 500, conflict.text
    refused(conflict, "CONFLICT", field="Idempotency-Key", edge=True)
    same_document_other_variables = send(client, DEPLOY_NOW, {"unused": 1}, **{"idempotency-key": key})
    refused(same_document_other_variables, "CONFLICT", field="Idempotency-Key", edge=True)
    assert snapshot(deployable) == before
    assert b.count(deployable, "MATCH (d:Deployment) RETURN count(d)") == 1


def test_an_idempotency_key_reused_for_another_request_is_a_conflict(
    client: TestClient, deployable: Driver
) -> None:
    """The same check without the clock: the first request names its start explicitly."""
    key = f"reuse-{uuid.uuid4().hex}"
    first = send(client, DEPLOY_AT, **{"idempotency-key": key})
    assert data(first.json())["deploy"]["created"] is True
    before = snapshot(deployable)
    for other in (
        DEPLOY_AT.replace("startedAt:", "trafficShare: 0.5, startedAt:"),  # another document
        DEPLOY_AT.replace("T00:00:00Z", "T01:00:00Z"),  # another start
        'mutation { registerSource(input: {name: "other", kind: "bucket"}) { created } }',  # another write
    ):
        refused(
            send(client, other, **{"idempotency-key": key}), "CONFLICT", field="Idempotency-Key", edge=True
        )
    refused(send(client, DEPLOY_AT, {"x": 1}, **{"idempotency-key": key}), "CONFLICT", edge=True)
    assert snapshot(deployable) == before
    again = send(client, DEPLOY_AT, **{"idempotency-key": key})
    assert data(again.json())["deploy"] == {**data(first.json())["deploy"], "created": False}


@pytest.mark.parametrize(
    "key",
    ["k" * 300, "has spaces", "", " ", "semi;colon", "slash/key", 'quote"key', "k" * 129, "tab\tkey"],
    ids=["300 chars", "spaces", "empty", "one space", "semicolon", "slash", "quote", "129 chars", "tab"],
)
def test_a_malformed_idempotency_key_is_refused(client: TestClient, deployable: Driver, key: str) -> None:
    before = snapshot(deployable)
    response = send(client, DEPLOY_NOW, **{"idempotency-key": key})
    refused(response, INVALID, field="Idempotency-Key", edge=True)
    assert snapshot(deployable) == before
    assert b.count(deployable, "MATCH (d:Deployment) RETURN count(d)") == 0


REFUSED_UNDER_A_KEY = {
    "a body that is not JSON": "{not json",
    "NaN in the variables": with_raw_variables(DEPLOY_NOW, '{"x": NaN}'),
    "a misspelled field": request(DEPLOY_NOW.replace("created", "creatd")),
    "a naive startedAt": request(DEPLOY_AT.replace("T00:00:00Z", "T00:00:00")),
}


@pytest.mark.parametrize("case", sorted(REFUSED_UNDER_A_KEY))
def test_a_refused_request_leaves_nothing_under_its_idempotency_key(
    client: TestClient, deployable: Driver, case: str
) -> None:
    """A hostile request sent with an Idempotency-Key writes nothing, not even the key: the corrected
    request can then be sent under the same key."""
    key = f"refused-{uuid.uuid4().hex}"
    before = snapshot(deployable)
    refused(post_graphql(client, REFUSED_UNDER_A_KEY[case], **{"idempotency-key": key}), DOCUMENT_ERRORS)
    written = [n for n in snapshot(deployable) if n not in before]
    corrected = send(client, DEPLOY_AT, **{"idempotency-key": key}).json()
    assert written == [] and not corrected.get("errors"), (written, corrected)
    assert corrected["data"]["deploy"]["created"] is True


# Writes whose time defaults to "now": under an Idempotency-Key the retry resolves to the first attempt.
KEYED_WRITES = {
    "registerSource": 'mutation { registerSource(input: {name: "keyed", kind: "bucket"}) { created } }',
    "deploy without startedAt": DEPLOY_NOW,
    "transitionStage without at": 'mutation { transitionStage(input: {modelVersionId: "modelVersion:m:1", stage: STAGING}) { created } }',
    "excludeSource without at": 'mutation { excludeSource(input: {sourceId: "source:src", reason: "terms"}) { created } }',
    "registerRun without startedAt": 'mutation { registerRun(input: {key: "keyed", kind: TRAIN}) { created } }',
    "logInference at a given time": 'mutation { logInference(input: {key: "keyed", at: "2026-03-02T00:00:00Z", modelVersionId: "modelVersion:m:1"}) { created } }',
}


@pytest.mark.parametrize("write", sorted(KEYED_WRITES))
def test_writes_under_an_idempotency_key_land_once(
    client: TestClient, gql: GraphQL, deployable: Driver, write: str
) -> None:
    data(gql('mutation { registerSource(input: {name: "src", kind: "bucket"}) { created } }'))
    key = f"write-{uuid.uuid4().hex}"
    first = send(client, KEYED_WRITES[write], **{"idempotency-key": key})
    assert first.status_code == 200, first.text
    assert next(iter(data(first.json()).values()))["created"] is True
    after_first = snapshot(deployable)
    second = send(client, KEYED_WRITES[write], **{"idempotency-key": key})
    assert next(iter(data(second.json()).values()))["created"] is False
    assert snapshot(deployable) == after_first
