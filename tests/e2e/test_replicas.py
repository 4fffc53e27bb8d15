"""Two API replicas on one Neo4j, both over a `neo4j://` routing URI: both serve, and they agree.

The API keeps no state of its own (tokens, idempotency keys, the audit chain all live in the graph), so a
load balancer may send each request to either replica: a fact written through one is in the next answer
of the other, and a repeated write sent to the other replica is still a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Tokens
from provgraph.config import Settings

from .conftest import ApiServer

REGISTER_VERSION = """mutation($i: RegisterDatasetVersionInput!) {
  registerDatasetVersion(input: $i) { created datasetVersion { id } } }"""
LINEAGE = """query($n: ID!) { lineage(nodeId: $n, direction: DOWNSTREAM, first: 500) {
  totalCount nodes { __typename ... on DatasetVersion { id } } } }"""


@pytest.fixture
def replicas(settings: Settings, clean_graph: object, tmp_path: Path) -> Iterator[list[ApiServer]]:
    routed = {"NEO4J_URI": "neo4j://" + settings.neo4j_uri.split("://", 1)[1]}
    servers = [ApiServer(settings, tmp_path, routed) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def _send(
    server: ApiServer, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = httpx.post(
        server.url, json={"query": query, "variables": variables}, headers=headers, timeout=30
    ).json()
    assert not body.get("errors"), body
    return dict(body["data"])


def test_two_replicas_serve_one_graph_and_read_each_others_writes(
    replicas: list[ApiServer], tokens: Tokens
) -> None:
    a, b = replicas
    headers = tokens.header("writer")
    _send(a, headers, 'mutation { registerSource(input: {name: "crawl", kind: "web"}) { created } }', {})
    _send(b, headers, 'mutation { registerDataset(input: {name: "corpus"}) { created } }', {})
    first = {
        "dataset": "corpus",
        "version": "v0",
        "sourceIds": ["source:crawl"],
        "createdAt": "2026-01-01T00:00:00Z",
    }
    _send(a, headers, REGISTER_VERSION, {"i": first})
    previous = "datasetVersion:corpus:v0"
    for n in range(1, 21):
        writer, reader = (a, b) if n % 2 else (b, a)
        version = {
            "dataset": "corpus",
            "version": f"v{n}",
            "derivedFrom": [{"fromId": previous, "transform": "clean"}],
            "createdAt": f"2026-01-{n + 1:02d}T00:00:00Z",
        }
        created = _send(writer, headers, REGISTER_VERSION, {"i": version})["registerDatasetVersion"]
        assert created["created"] is True
        # The other replica's very next answer has the fact (read your writes across replicas).
        seen = _send(reader, headers, LINEAGE, {"n": "source:crawl"})["lineage"]
        assert created["datasetVersion"]["id"] in {x.get("id") for x in seen["nodes"]}
        # The same write sent to the other replica is the recorded fact, not a second one.
        again = _send(reader, headers, REGISTER_VERSION, {"i": version})["registerDatasetVersion"]
        assert again == {"created": False, "datasetVersion": created["datasetVersion"]}
        previous = created["datasetVersion"]["id"]
    answers = [_send(server, headers, LINEAGE, {"n": "source:crawl"}) for server in replicas]
    assert answers[0] == answers[1]
    versions = {x["id"] for x in answers[0]["lineage"]["nodes"] if x["__typename"] == "DatasetVersion"}
    assert versions == {f"datasetVersion:corpus:v{n}" for n in range(21)}
    for server in replicas:
        assert httpx.get(server.base + "/readyz", timeout=5).status_code == 200
