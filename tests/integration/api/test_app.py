"""Health, readiness and start-up against real (and deliberately wrong) Neo4j settings."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

from starlette.testclient import TestClient

from conftest import Tokens
from provgraph.api.app import create_app
from provgraph.config import Settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) == 16
    assert client.get("/healthz", headers={"x-request-id": "trace-42"}).headers["x-request-id"] == "trace-42"


def test_constraints_are_in_place_after_start(client: TestClient, driver) -> None:  # type: ignore[no-untyped-def]
    records, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
    assert {"source_id", "dataset_version_id", "inference_id"} <= set(records[0]["names"])


def test_a_wrong_password_makes_readyz_503_with_the_reason(settings: Settings) -> None:
    wrong = replace(settings, neo4j_password="not-the-password")
    with TestClient(create_app(wrong)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "credentials" in ready.json()["reason"]
        assert client.get("/healthz").status_code == 200


def test_an_unreachable_uri_makes_readyz_503_quickly(settings: Settings, tokens: Tokens) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    wrong = replace(settings, neo4j_uri=f"bolt://127.0.0.1:{port}", connect_timeout=1.0, db_timeout=3.0)
    with TestClient(create_app(wrong)) as client:
        started = time.monotonic()
        ready = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert ready.status_code == 503
        assert "unavailable" in ready.json()["reason"].lower()
        assert elapsed < wrong.db_timeout + 5, "readiness must give up within the configured timeout"
        body = client.post(
            "/graphql", json={"query": "{ sources { totalCount } }"}, headers=tokens.header("reader")
        )
        assert body.status_code == 503, (
            body.text
        )  # the token cannot be checked: the answer is UNAVAILABLE, not 401
        assert body.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
