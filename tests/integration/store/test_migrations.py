"""Schema migrations against the real Neo4j: a store written by this release, rolled back to what version 1
held, upgrades to the same answers; applying twice changes nothing; replicas starting together apply each
step once; a database migrated by a newer release is refused; a new step runs after the existing ones."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import GraphQL
from helpers import data
from provgraph.api.app import create_app
from provgraph.cli import app as cli
from provgraph.config import Settings
from provgraph.domain.errors import Unavailable
from provgraph.neo4j_local.launcher import Connection
from provgraph.store import migrations
from provgraph.store.graph import Graph, open_driver
from provgraph.store.migrations import SCHEMA_VERSION, Migration, SchemaTooNew
from provgraph.store.schema import apply_schema
from story import T, iso, load_story

QUESTIONS = """query($k: DateTime, $a: DateTime!) {
  crawl: impactReport(sourceId: "source:crawl", asOf: $a, knownAt: $k) {
    inferences modelVersions { modelVersion { id } inferences } runs { id } datasetVersions { id } }
  forum: impactReport(sourceId: "source:forum", asOf: $a, knownAt: $k) {
    inferences modelVersions { modelVersion { id } inferences } }
  using: modelsUsingSource(sourceId: "source:crawl", asOf: $a, knownAt: $k) {
    totalCount items { modelVersion { id } deployments { id endedAt } } }
  lineage(nodeId: "source:crawl", direction: DOWNSTREAM, asOf: $a, knownAt: $k, first: 100) {
    totalCount edges { type fromId toId } }
  scoring: deployedAt(endpoint: "scoring", at: $a, knownAt: $k) { id modelVersionId }
  base1: modelVersion(id: "modelVersion:base:1") { inferenceCount }
  base2: modelVersion(id: "modelVersion:base:2") { inferenceCount }
}"""
MARKER = "mutation($n: String!) { registerExperiment(input: {name: $n}) { experiment { recordedAt } } }"

COUNTS = """
MATCH (n) WHERE NOT n:ProvgraphTestDatabase AND NOT n:ApiToken
RETURN count(n) AS nodes, sum(size(keys(n))) AS nodeProperties,
       COUNT { ()-[]->() } AS relationships,
       COLLECT { MATCH ()-[r]->() RETURN sum(size(keys(r))) }[0] AS relationshipProperties
"""
HISTORY = "MATCH (m:SchemaMigration) RETURN m {.*} AS m ORDER BY m.version"
VERSION = "MATCH (s:ProvgraphSchema {id: 'provgraph'}) RETURN s {.*} AS s"

# What a store held before migrations 2 and 3: no transaction time on edges, no rollups, no history.
ROLL_BACK = (
    "MERGE (s:ProvgraphSchema {id: 'provgraph'}) SET s.version = 1",
    "MATCH ()-[r]->() WHERE r.validFrom IS NOT NULL REMOVE r.recordedAt",
    "MATCH (b:InferenceRollup) DETACH DELETE b",
    "MATCH (m:SchemaMigration) DELETE m",
)

# A step that is NOT idempotent: run twice, its counter says 2.
COUNTED_STEP = Migration(
    SCHEMA_VERSION + 1,
    "test: count the runs of a step",
    ("MERGE (p:MigrationProbe {id: 'runs'}) SET p.runs = coalesce(p.runs, 0) + 1",),
)
# A step that looks at what the earlier ones left.
OBSERVING_STEP = Migration(
    SCHEMA_VERSION + 1,
    "test: see what the earlier steps did",
    (
        "MATCH (s:ProvgraphSchema {id: 'provgraph'}) "
        "MERGE (p:MigrationProbe {id: 'order'}) "
        "SET p.versionBefore = s.version, p.rollups = COUNT { (:InferenceRollup) }, "
        "    p.edgesWithoutRecordedAt = COUNT { ()-[r]->() WHERE r.validFrom IS NOT NULL AND r.recordedAt IS NULL }",
    ),
)


def _graph(server: Connection) -> Graph:
    return Graph(open_driver(server.uri, server.user, server.password, connect_timeout=5), "neo4j", 60)


async def _apply(server: Connection, **options: Any) -> int:
    graph = _graph(server)
    try:
        return await apply_schema(graph, **options)
    finally:
        await graph.close()


def apply(server: Connection, **options: Any) -> int:
    return asyncio.run(_apply(server, **options))


def query(driver: Driver, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher, params, database_="neo4j")
    return [dict(r) for r in records]


def history(driver: Driver) -> list[dict[str, Any]]:
    return [r["m"] for r in query(driver, HISTORY)]


def schema_node(driver: Driver) -> dict[str, Any]:
    rows = query(driver, VERSION)
    assert len(rows) == 1, rows
    node: dict[str, Any] = rows[0]["s"]
    return node


def roll_back_to_version_1(driver: Driver) -> None:
    for statement in ROLL_BACK:
        driver.execute_query(statement, database_="neo4j")


@pytest.fixture(autouse=True)
def leave_the_release_version(driver: Driver) -> Iterator[None]:
    """Whatever a test did to the version, the next test (and the session's other commands, which apply
    the schema) find the release's own."""
    yield
    driver.execute_query(
        "MATCH (s:ProvgraphSchema {id: 'provgraph'}) SET s.version = $v "
        "REMOVE s.migrating, s.leaseUntil, s.migratingSince",
        {"v": SCHEMA_VERSION},
        database_="neo4j",
    )
    driver.execute_query("MATCH (p:MigrationProbe) DELETE p", database_="neo4j")


def write_a_store(gql: GraphQL, client: TestClient) -> list[str]:
    """The story, then more facts and inferences recorded later; returns transaction times between the
    writes (knownAt values whose answers differ)."""
    load_story(gql)
    known = [data(gql(MARKER, {"n": "k1"}))["registerExperiment"]["experiment"]["recordedAt"]]
    time.sleep(0.01)
    start = T["T7"] + timedelta(hours=2)
    items = [
        {"key": f"later-{k}", "endpoint": "scoring", "at": iso(start + timedelta(minutes=13 * k))}
        for k in range(40)
    ]
    body = client.post("/v1/inferences", json={"inferences": items}).json()
    assert body["accepted"] == 40, body
    data(
        gql(
            """mutation { registerDatasetVersion(input: {dataset: "corpus", version: "v7",
                 createdAt: "2026-01-06T00:00:00Z", derivedFrom: [{fromId: "datasetVersion:corpus:v6"}]}) { created } }"""
        )
    )
    time.sleep(0.01)
    known.append(data(gql(MARKER, {"n": "k2"}))["registerExperiment"]["experiment"]["recordedAt"])
    return known


def ask(gql: GraphQL, known: list[str]) -> list[dict[str, Any]]:
    return [
        gql(QUESTIONS, {"k": k, "a": iso(moment)})
        for k in [*known, None]
        for moment in (T["T6"] + timedelta(hours=2), T["T8"])
    ]


def test_a_store_written_by_this_release_rolled_back_to_version_1_upgrades_to_the_same_answers(
    gql: GraphQL, client: TestClient, driver: Driver, neo4j_server: Connection, settings: Settings
) -> None:
    known = write_a_store(gql, client)
    before = ask(gql, known)
    for answer in before:
        data(answer)
    assert before[0] != before[-1]  # the knownAt values do select different facts

    roll_back_to_version_1(driver)
    assert ask(gql, known) != before  # the old store answers differently: the migrations have work to do

    assert apply(neo4j_server) == SCHEMA_VERSION
    assert ask(gql, known) == before
    assert schema_node(driver)["version"] == SCHEMA_VERSION
    recorded = history(driver)
    assert [m["version"] for m in recorded] == [m.version for m in migrations.MIGRATIONS]
    assert [m["description"] for m in recorded] == [m.description for m in migrations.MIGRATIONS]
    assert all(m["durationMs"] >= 0 and m["appliedAt"] and m["appliedBy"] for m in recorded)
    assert "migrating" not in schema_node(driver)  # the lease is released

    shown = CliRunner().invoke(cli, ["schema", "status"], env=_cli_env(settings))
    assert shown.exit_code == 0, shown.output
    assert f"database schema version: {SCHEMA_VERSION}" in shown.output
    assert f"code schema version:     {SCHEMA_VERSION}" in shown.output
    assert "up to date" in shown.output
    for m in migrations.MIGRATIONS:
        assert m.description in shown.output


def test_applying_twice_changes_nothing_and_records_each_migration_once(
    gql: GraphQL, client: TestClient, driver: Driver, neo4j_server: Connection
) -> None:
    write_a_store(gql, client)
    roll_back_to_version_1(driver)
    apply(neo4j_server)
    counts, recorded = query(driver, COUNTS), history(driver)
    assert counts[0]["nodes"] > 50 and counts[0]["relationships"] > 50
    apply(neo4j_server)
    apply(neo4j_server)
    assert query(driver, COUNTS) == counts
    assert history(driver) == recorded
    assert [m["version"] for m in recorded] == [2, 3]


def test_replicas_starting_together_apply_each_step_once(
    clean_graph: Driver, neo4j_server: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, COUNTED_STEP))
    # A fresh database: not even the constraint the lock relies on exists yet.
    for statement in (
        "DROP CONSTRAINT provgraph_schema_id IF EXISTS",
        "DROP CONSTRAINT schema_migration_version IF EXISTS",
    ):
        clean_graph.execute_query(statement, database_="neo4j")

    async def start_together() -> list[int]:
        graphs = [_graph(neo4j_server) for _ in range(3)]
        try:
            return list(await asyncio.gather(*(apply_schema(g) for g in graphs)))
        finally:
            for g in graphs:
                await g.close()

    assert asyncio.run(start_together()) == [COUNTED_STEP.version] * 3
    assert query(clean_graph, "MATCH (p:MigrationProbe {id: 'runs'}) RETURN p.runs AS runs") == [{"runs": 1}]
    assert query(clean_graph, "MATCH (s:ProvgraphSchema) RETURN count(s) AS n") == [{"n": 1}]
    node = schema_node(clean_graph)
    assert node["version"] == COUNTED_STEP.version and "migrating" not in node
    recorded = history(clean_graph)
    assert [m["version"] for m in recorded] == [2, 3, COUNTED_STEP.version]
    assert len({m["appliedBy"] for m in recorded}) == 1  # one process did them all; the others waited


def test_a_lease_left_by_a_dead_process_is_taken_over_when_it_expires(
    clean_graph: Driver, neo4j_server: Connection
) -> None:
    clean_graph.execute_query(
        "MERGE (s:ProvgraphSchema {id: 'provgraph'}) SET s.version = 1, s.migrating = 'dead-host:1:gone', "
        "s.leaseUntil = datetime() + duration({seconds: 1})",
        database_="neo4j",
    )
    started = time.monotonic()
    assert apply(neo4j_server, wait=30) == SCHEMA_VERSION
    assert time.monotonic() - started >= 0.5  # it waited for the lease
    assert {m["appliedBy"] for m in history(clean_graph)} != {"dead-host:1:gone"}
    assert "migrating" not in schema_node(clean_graph)


def test_a_live_lease_held_too_long_is_unavailable_and_left_alone(
    clean_graph: Driver, neo4j_server: Connection
) -> None:
    clean_graph.execute_query(
        "MERGE (s:ProvgraphSchema {id: 'provgraph'}) SET s.version = 1, s.migrating = 'busy-host:7:abc', "
        "s.leaseUntil = datetime() + duration({minutes: 5})",
        database_="neo4j",
    )
    with pytest.raises(Unavailable, match=r"another provgraph process \(busy-host:7:abc\) is migrating"):
        apply(neo4j_server, wait=0.5)
    node = schema_node(clean_graph)
    assert (node["migrating"], node["version"]) == ("busy-host:7:abc", 1)
    assert history(clean_graph) == []


def test_a_database_migrated_by_a_newer_release_is_refused(
    clean_graph: Driver, neo4j_server: Connection, settings: Settings
) -> None:
    newer = SCHEMA_VERSION + 1
    clean_graph.execute_query(
        "MERGE (s:ProvgraphSchema {id: 'provgraph'}) SET s.version = $v", {"v": newer}, database_="neo4j"
    )
    with pytest.raises(SchemaTooNew) as refused:
        apply(neo4j_server)
    assert refused.value.code == "SCHEMA_TOO_NEW"
    assert f"version {newer}" in refused.value.message and f"({SCHEMA_VERSION})" in refused.value.message
    assert schema_node(clean_graph) == {"id": "provgraph", "version": newer}  # nothing written, no lease

    # /readyz of a server started against it says why it is not ready.
    with TestClient(create_app(dataclasses.replace(settings, warm_plans=False))) as server:
        response = server.get("/readyz")
    assert response.status_code == 503
    assert "SCHEMA_TOO_NEW" in response.json()["reason"]

    shown = CliRunner().invoke(cli, ["schema", "status"], env=_cli_env(settings))
    assert shown.exit_code == 2, shown.output
    assert f"database schema version: {newer}" in shown.output and "NEWER" in shown.output


def test_a_new_migration_runs_after_the_existing_ones(
    gql: GraphQL, client: TestClient, driver: Driver, neo4j_server: Connection, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    write_a_store(gql, client)
    roll_back_to_version_1(driver)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, OBSERVING_STEP))

    shown = CliRunner().invoke(cli, ["schema", "status"], env=_cli_env(settings))
    assert shown.exit_code == 1, shown.output  # pending
    assert "database schema version: 1" in shown.output
    assert f"pending: {OBSERVING_STEP.version}  {OBSERVING_STEP.description}" in shown.output

    assert apply(neo4j_server) == OBSERVING_STEP.version
    probe = query(driver, "MATCH (p:MigrationProbe {id: 'order'}) RETURN p {.*} AS p")[0]["p"]
    assert probe["versionBefore"] == SCHEMA_VERSION  # 2 and 3 were applied and recorded first
    assert probe["rollups"] > 0 and probe["edgesWithoutRecordedAt"] == 0
    recorded = history(driver)
    assert [m["version"] for m in recorded] == [2, 3, OBSERVING_STEP.version]
    assert [m["appliedAt"] for m in recorded] == sorted(m["appliedAt"] for m in recorded)
    assert schema_node(driver)["version"] == OBSERVING_STEP.version


def _cli_env(settings: Settings) -> dict[str, str]:
    return {
        "NEO4J_URI": settings.neo4j_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password or "",
    }
