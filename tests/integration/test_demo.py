"""The demo story `make run` loads: complete, idempotent, and answering the README's questions."""

from __future__ import annotations

import asyncio

from neo4j import Driver
from starlette.testclient import TestClient

from conftest import sender
from helpers import data
from provgraph.config import Settings
from provgraph.demo import EXAMPLE_QUERY, load_demo


def fingerprint(driver: Driver) -> tuple[int, int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WITH count(n) AS nodes "
        "RETURN nodes, COUNT { ()-[]->() } AS rels, COUNT { (:RegistryEvent) } AS events",
        database_="neo4j",
    )
    return records[0]["nodes"], records[0]["rels"], records[0]["events"]


def test_loading_the_demo_twice_changes_nothing(
    clean_graph: Driver, settings: Settings, client: TestClient
) -> None:
    clean_graph.execute_query("CREATE (:Source {id: 'source:not-the-demos', recordedBy: 'someone'})")
    said = asyncio.run(load_demo(settings))
    first = fingerprint(clean_graph)
    again = asyncio.run(load_demo(settings))
    assert fingerprint(clean_graph) == first
    assert first[0] > 50
    # The report counts the demo's own nodes, not the database's (which holds one more, not the demo's).
    demo = clean_graph.execute_query(
        "MATCH (n {recordedBy: 'demo-loader'}) RETURN count(n) AS n", database_="neo4j"
    ).records[0]["n"]
    assert f"{demo} nodes recorded by demo-loader ({demo} new;" in said
    assert f"{demo} nodes recorded by demo-loader (0 new;" in again
    assert demo < first[0]

    answer = data(sender(client)(EXAMPLE_QUERY))["modelsUsingSource"]
    # The excluded forum scrape reached production only through the fine-tuned support assistant.
    assert [i["modelVersion"]["id"] for i in answer["items"]] == ["modelVersion:support-assistant:1"]
    assert answer["items"][0]["deployments"] == [{"endpointId": "endpoint:support-bot"}]
    # The README's "Exclusion decisions": the forum scrape's case waits for one decision.
    cases = data(sender(client)("{ exclusionCases(undecided: true) { nodes { id undecidedIds } } }"))
    assert cases["exclusionCases"]["nodes"] == [
        {"id": "exclusionCase:forum-scrape", "undecidedIds": ["modelVersion:support-assistant:1"]}
    ]
