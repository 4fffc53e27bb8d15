"""`neo4j://` routing URIs: the store's reads go out as reads and its writes as writes.

A Community server answers the routing protocol as a cluster of one, so the routed code path is the
one a cluster or Aura uses. The server enforces the access mode a transaction declares, so a write sent
through `Graph.read` is refused: that is how the test sees that reads are routed as reads (on a cluster
they would go to a reader, where the write could not run either).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from neo4j import Driver
from neo4j.exceptions import ClientError

from provgraph.neo4j_local.launcher import Connection
from provgraph.store.graph import Graph, open_driver
from provgraph.store.serving import INFERENCE_COUNTS


def routed(uri: str) -> str:
    return "neo4j://" + uri.split("://", 1)[1]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def graph(neo4j_server: Connection, clean_graph: Driver, loop: asyncio.AbstractEventLoop) -> Iterator[Graph]:
    driver = open_driver(
        routed(neo4j_server.uri), neo4j_server.user, neo4j_server.password, connect_timeout=5
    )
    store = Graph(driver, "neo4j", 30)
    yield store
    loop.run_until_complete(store.close())


def test_reads_are_routed_as_reads_and_writes_as_writes(
    graph: Graph, clean_graph: Driver, loop: asyncio.AbstractEventLoop
) -> None:
    loop.run_until_complete(graph.write_statement("CREATE (:RoutingProbe {id: 'written'})"))
    found = loop.run_until_complete(graph.read("MATCH (p:RoutingProbe) RETURN p.id AS id"))
    assert [r["id"] for r in found] == ["written"]
    with pytest.raises(ClientError) as refused:
        loop.run_until_complete(graph.read("CREATE (:RoutingProbe {id: 'through a read'})"))
    assert refused.value.code is not None and "AccessMode" in refused.value.code
    records, _, _ = clean_graph.execute_query(
        "MATCH (p:RoutingProbe) RETURN collect(p.id) AS ids", database_="neo4j"
    )
    assert records[0]["ids"] == ["written"]


def test_the_routed_driver_fetched_a_routing_table(graph: Graph, loop: asyncio.AbstractEventLoop) -> None:
    # A store statement through the routed driver: it answers like the direct one.
    records = loop.run_until_complete(graph.read(INFERENCE_COUNTS, {"ids": []}))
    assert records == []
    pool = graph.driver._pool
    table = pool.routing_tables["neo4j"]
    assert table.readers and table.writers and table.routers
