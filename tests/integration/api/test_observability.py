"""Metrics, traces and access-log records, each read after real requests against the real app and Neo4j."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from neo4j import Driver
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

import builders as b
from conftest import GraphQL, Tokens
from provgraph.api.app import create_app
from provgraph.config import Settings

SOURCES = "query ObsSources { sources(first: 5) { nodes { id } } }"


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by (sample name, sorted labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_real_requests_by_operation_code_statement_and_outcome(
    gql: GraphQL, client: TestClient
) -> None:
    b.model(gql, "m")
    b.model_version(gql)
    b.endpoint(gql, "ep")
    b.deploy(gql, "ep", "modelVersion:m:1", "2026-03-01T00:00:00Z")
    before = scrape(client)

    for _ in range(3):
        assert client.post("/graphql", json={"query": SOURCES}).status_code == 200
    missing = client.post("/graphql", json={"query": 'query Gone { source(id: "source:nope") { id } }'})
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    batch = [
        {"key": "k1", "at": "2026-03-02T00:00:00Z", "endpoint": "ep"},
        {"key": "k2", "at": "2026-03-02T00:00:00Z", "endpoint": "nowhere"},
    ]
    outcome = client.post("/v1/inferences", json={"inferences": batch}).json()
    assert (outcome["accepted"], len(outcome["rejected"])) == (1, 1)
    assert client.post("/v1/inferences", json={"inferences": batch[:1]}).json()["duplicates"] == 1

    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (
        grew("provgraph_graphql_operations_total", operation="ObsSources", root_field="sources", type="query")
        == 3
    )
    assert (
        grew(
            "provgraph_graphql_operation_duration_seconds_count", operation="ObsSources", root_field="sources"
        )
        == 3
    )
    assert grew("provgraph_http_requests_total", route="/graphql", method="POST", status="200") >= 4
    assert grew("provgraph_errors_total", code="NOT_FOUND", route="/graphql") == 1
    assert grew("provgraph_inferences_total", outcome="accepted") == 1
    assert grew("provgraph_inferences_total", outcome="rejected") == 1
    assert grew("provgraph_inferences_total", outcome="duplicate") == 1
    # Neo4j time by the store function that ran the statement: the source list's read is among them.
    statements = {
        dict(labels)["statement"]
        for (name, labels), count in after.items()
        if name == "provgraph_neo4j_statement_duration_seconds_count"
        and count > value(before, name, **dict(labels))
    }
    assert any(s.startswith("store.catalog.") for s in statements), statements
    assert all(s.startswith(("store.", "service.")) for s in statements), statements
    assert grew("provgraph_token_cache_lookups_total", result="hit") >= 5


def test_metrics_need_a_token_or_an_allowed_address(settings: Settings, tokens: Tokens) -> None:
    local = replace(settings, warm_plans=False, metrics_allow=("127.0.0.1", "10.0.0.0/8"))
    app = create_app(local)
    with TestClient(app, client=("10.1.2.3", 40000)) as inside:
        assert "provgraph_http_requests_total" in inside.get("/metrics").text
    with TestClient(app, client=("192.0.2.7", 40000)) as outside:
        refused = outside.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
        assert "PROVGRAPH_METRICS_ALLOW" in refused.json()["error"]["message"]
        wrong = outside.get("/metrics", headers={"authorization": "Bearer pgt_not-a-token"})
        assert wrong.status_code == 401
        assert outside.get("/metrics", headers=tokens.header("reader")).status_code == 200
    nobody = create_app(replace(local, metrics_allow=()))
    with TestClient(nobody, client=("127.0.0.1", 40000)) as loopback:
        assert loopback.get("/metrics").status_code == 401


@pytest.fixture
def traced(
    settings: Settings, tokens: Tokens, clean_graph: Driver
) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(replace(settings, warm_plans=False), tracer_provider=provider)
    with TestClient(app, headers=tokens.header("admin")) as client:
        exporter.clear()  # start-up's own statements (constraints) are not what the test looks at
        yield client, exporter


def test_a_request_is_one_trace_with_a_span_per_neo4j_statement_and_no_parameters(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced
    secret_id = "source:trace-me-4711"
    query = "mutation Reg($i: RegisterSourceInput!) { registerSource(input: $i) { created } }"
    response = client.post(
        "/graphql",
        json={
            "query": query,
            "variables": {"i": {"name": "trace-me-4711", "kind": "web", "uri": "s3://x/y"}},
        },
        headers={"x-request-id": "trace-req-1"},
    )
    assert response.json()["data"]["registerSource"]["created"] is True, response.text
    spans: tuple[ReadableSpan, ...] = exporter.get_finished_spans()
    server = [s for s in spans if s.attributes and s.attributes.get("provgraph.request_id") == "trace-req-1"]
    assert len(server) == 1, [s.name for s in spans]
    root = server[0]
    assert root.attributes is not None
    assert root.attributes["graphql.operation.name"] == "Reg"
    assert root.attributes["graphql.operation.type"] == "mutation"
    assert root.attributes["provgraph.root_fields"] == ("registerSource",)
    statements = [s for s in spans if s.name.startswith("neo4j ")]
    assert statements, [s.name for s in spans]
    assert root.context is not None
    for span in statements:
        assert span.context is not None and span.context.trace_id == root.context.trace_id
        assert span.attributes is not None
        assert span.attributes["db.system.name"] == "neo4j"
        assert str(span.attributes["db.operation.name"]).startswith(("store.", "service."))
    names = [str(s.attributes and s.attributes["db.operation.name"]) for s in statements]
    # This app's first look at the token, then the registration's write through the ledger (which chains it).
    assert names == ["store.tokens.TokenStore.find", "store.ledger.merge_and_record"], names
    # Names, never parameters: the id the request carried is in no span's attributes.
    for span in spans:
        assert not any(
            secret_id in str(v) or "trace-me-4711" in str(v) for v in (span.attributes or {}).values()
        )


def test_every_request_writes_one_access_record_with_its_facts(
    gql: GraphQL, client: TestClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="provgraph.access"):
        client.post("/graphql", json={"query": SOURCES}, headers={"x-request-id": "access-1"})
        client.post(
            "/graphql",
            json={"query": 'query Gone { source(id: "source:nope") { id } }'},
            headers={"x-request-id": "access-2", **tokens.header("reader")},
        )
        client.post(
            "/graphql", json={"query": SOURCES}, headers={"x-request-id": "access-3", "authorization": ""}
        )
        client.get("/healthz")  # probes are counted, not logged
    records = {r.request_id: r for r in caplog.records if r.name == "provgraph.access"}  # type: ignore[attr-defined]
    assert set(records) == {"access-1", "access-2", "access-3"}
    ok, missing, anonymous = records["access-1"], records["access-2"], records["access-3"]
    assert (ok.status, ok.operation, ok.root_fields, ok.principal) == (
        200,
        "ObsSources",
        ["sources"],
        "test-admin",
    )  # type: ignore[attr-defined]
    assert ok.duration_ms > 0  # type: ignore[attr-defined]
    assert not hasattr(ok, "code")
    assert (missing.principal, missing.code, missing.operation) == ("test-reader", "NOT_FOUND", "Gone")  # type: ignore[attr-defined]
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHENTICATED")  # type: ignore[attr-defined]
    assert not hasattr(anonymous, "principal")
