"""Each limit, with a request just over it; production switches; masked internal errors."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from conftest import GraphQL, Tokens
from helpers import error
from provgraph.api.app import create_app
from provgraph.config import Limits, Settings
from provgraph.store.graph import DeadlineExceeded, Graph, open_driver

LIMITS = Limits()


def nested(depth: int) -> str:
    """A query `depth` levels deep: modelVersion → fineTunedFrom → … → id."""
    inner = "id"
    for _ in range(depth - 1):
        inner = f"fineTunedFrom {{ {inner} }}"
    return f'{{ modelVersion(id: "modelVersion:m:1") {{ {inner} }} }}'


def test_query_depth(gql: GraphQL) -> None:
    ok = gql(nested(LIMITS.max_depth))
    assert all(e["extensions"]["code"] != "LIMIT_EXCEEDED" for e in ok.get("errors", []))
    over = error(gql(nested(LIMITS.max_depth + 1)))
    assert over["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_aliases(gql: GraphQL) -> None:
    ok = " ".join(f"a{i}: __typename" for i in range(LIMITS.max_aliases))
    assert "errors" not in gql(f"{{ {ok} }}")
    over = " ".join(f"a{i}: __typename" for i in range(LIMITS.max_aliases + 1))
    assert error(gql(f"{{ {over} }}"))["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_tokens(gql: GraphQL) -> None:
    def document(strings: int) -> str:
        # 15 tokens besides the list items: { lineage ( nodeId : "…" types : [ … ] ) { totalCount } }
        return (
            '{ lineage(nodeId: "modelVersion:m:1", types: [' + ' "Source"' * strings + "]) { totalCount } }"
        )

    at_limit = gql(document(LIMITS.max_tokens - 15))
    assert at_limit["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # parsed, validated and executed
    over = error(gql(document(LIMITS.max_tokens - 14)))
    assert over["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_page_size(gql: GraphQL) -> None:
    assert "errors" not in gql(f"{{ sources(first: {LIMITS.max_page_size}) {{ totalCount }} }}")
    over = error(gql(f"{{ sources(first: {LIMITS.max_page_size + 1}) {{ totalCount }} }}"))
    assert (over["extensions"]["code"], over["extensions"]["field"]) == ("INVALID_ARGUMENT", "first")


def test_body_size(client: TestClient) -> None:
    padding = "x" * (LIMITS.max_body_bytes + 1)
    response = client.post("/graphql", content=f'{{"query": "{{ __typename }}", "pad": "{padding}"}}'.encode(),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"

    def chunks() -> Any:  # no Content-Length: the limit must hold for streamed bodies too
        yield b'{"inferences": ['
        for _ in range(LIMITS.max_body_bytes // 65536 + 1):
            yield b" " * 65536
        yield b"]}"

    streamed = client.post("/v1/inferences", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_the_transaction_timeout_bounds_a_runaway_query(settings: Settings) -> None:
    async def run() -> None:
        driver = open_driver(
            settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, connect_timeout=3
        )
        graph = Graph(driver, "neo4j", timeout=0.5)
        try:
            await graph.read("UNWIND range(1, 1000000000) AS x RETURN count(x) AS n")
        finally:
            await graph.close()

    with pytest.raises(DeadlineExceeded):
        asyncio.run(run())


def test_production_turns_off_introspection_the_ide_and_suggestions(
    settings: Settings, tokens: Tokens
) -> None:
    production = replace(settings, environment="production")
    with TestClient(create_app(production), headers=tokens.header("reader")) as client:
        introspection = client.post("/graphql", json={"query": "{ __schema { types { name } } }"}).json()
        assert introspection["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        typo = client.post("/graphql", json={"query": "{ sourcs { totalCount } }"}).json()
        assert "Did you mean" not in typo["errors"][0]["message"]
        # No IDE: a browser is told where the explorer is and that the API is POST /graphql.
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and 'href="/"' in page.text and "POST /graphql" in page.text
        assert "graphiql-" not in page.text and "<script" not in page.text
    with TestClient(create_app(settings), headers=tokens.header("reader")) as development:
        typo = development.post("/graphql", json={"query": "{ sourcs { totalCount } }"}).json()
        assert "Did you mean" in typo["errors"][0]["message"]


def test_internal_errors_are_masked_and_logged_with_the_request_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: Any) -> Any:
        raise RuntimeError("MATCH (n:Secret) RETURN n -- internal detail")

    monkeypatch.setattr(client.app.state.services.catalog, "sources", broken)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="provgraph.api"):
        response = client.post(
            "/graphql", json={"query": "{ sources { totalCount } }"}, headers={"x-request-id": "req-mask-1"}
        )
    failure = response.json()["errors"][0]
    assert failure["extensions"] == {"code": "INTERNAL", "requestId": "req-mask-1"}
    assert "req-mask-1" in failure["message"]
    assert (
        "MATCH" not in response.text
        and "Traceback" not in response.text
        and "internal detail" not in response.text
    )
    logged = [r for r in caplog.records if "req-mask-1" in r.getMessage()]
    assert logged and logged[0].exc_info is not None and "internal detail" in str(logged[0].exc_info[1])


def test_a_request_over_the_cost_budget_is_refused_before_it_runs(gql: GraphQL) -> None:
    report = (
        'impactReport(sourceId: "source:missing") { datasetVersions(first: 500) { id } runs(first: 500) { key } '
        "modelVersions(first: 500) { modelVersion { id } stage inferences } }"
    )
    over = error(gql("{ " + " ".join(f"a{i}: {report}" for i in range(30)) + " }"))
    assert over["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "budget" in over["message"]
    # The same report once is within the budget: it runs (and answers that the source does not exist).
    once = error(gql("{ " + report + " }"))
    assert once["extensions"]["code"] == "NOT_FOUND"
