"""The plan-cache warm-up: every named statement plans with the parameters it is given, every signature
query runs, nothing is written, and /readyz says "warming" until it is done."""

from __future__ import annotations

import asyncio

import pytest
from neo4j import Driver

from provgraph.api.app import Readiness
from provgraph.domain.errors import Unavailable
from provgraph.neo4j_local.launcher import Connection
from provgraph.store import warmup
from provgraph.store.graph import Graph, open_driver


def _graph(server: Connection) -> Graph:
    return Graph(open_driver(server.uri, server.user, server.password, connect_timeout=5), "neo4j", 60)


def test_every_statement_plans_and_every_signature_query_runs(
    neo4j_server: Connection, clean_graph: Driver
) -> None:
    async def run() -> warmup.Warmed:
        graph = _graph(neo4j_server)
        try:
            return await warmup.warm(graph, 25)
        finally:
            await graph.close()

    def nodes() -> int:
        records, _, _ = clean_graph.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j")
        return int(records[0]["n"])

    before = nodes()
    warmed = asyncio.run(run())
    assert warmed.failed == ()
    assert warmed.planned == len(warmup.named_statements()) > 50
    assert warmed.ran == len(warmup.signature_queries(25)) > 30
    assert nodes() == before  # warming wrote nothing


def test_readiness_says_warming_until_the_plans_are_warm(
    neo4j_server: Connection, clean_graph: Driver
) -> None:
    async def run() -> None:
        graph = _graph(neo4j_server)
        readiness = Readiness(graph, warm_depth=25)  # the depth the session already warmed
        try:
            with pytest.raises(Unavailable, match="warming the query plans"):
                await readiness.check()
            assert readiness.warming is not None
            await readiness.warming
            await readiness.check()  # ready now
            assert readiness.warming.result().failed == ()
        finally:
            await readiness.stop()
            await graph.close()

    asyncio.run(run())
