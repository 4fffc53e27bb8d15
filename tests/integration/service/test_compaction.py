"""Compaction moves inferences to the cold tier (real Neo4j, real Iceberg files, DuckDB) and every answer
stays the same: each inference by id, its trace, impact counts at any asOf/knownAt (buckets cut through
included), each deployment's served count, the audit chain. Run twice, it changes nothing. Killed at any
point, every inference is still answered exactly once, and the next run finishes the job.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from conftest import GraphQL, sender
from helpers import data
from provgraph.config import Settings
from story import T, iso, load_story
from tiered_traffic import COMPACT, FAR, IMPACT, RETENTION, answers, recorded_times, tiers, traffic


@pytest.fixture
def loaded(client: TestClient, clean_graph: Driver) -> tuple[GraphQL, list[str], list[datetime]]:
    send = sender(client)
    load_story(send)
    traffic(client)
    records, _, _ = clean_graph.execute_query(
        "MATCH (i:Inference) RETURN i.id AS id ORDER BY id", database_="neo4j"
    )
    keys = [r["id"] for r in records]  # the story's own inferences and the traffic's
    return send, keys, recorded_times(clean_graph)


def test_every_answer_is_the_same_after_compaction_and_a_second_run_changes_nothing(
    loaded: tuple[GraphQL, list[str], list[datetime]], client: TestClient, driver: Driver, settings: Settings
) -> None:
    send, keys, known = loaded
    before = answers(send, client, keys, known)
    assert data(send("{ verifyAuditChain { valid } }"))["verifyAuditChain"]["valid"] is True

    moved = data(send(COMPACT))["compactInferences"]
    assert moved["moved"] == len(keys)
    hot, cold = tiers(driver, settings)
    assert hot == set() and cold == set(keys)
    assert answers(send, client, keys, known) == before
    audit = data(send("{ verifyAuditChain { valid breaks { problem } } }"))["verifyAuditChain"]
    assert audit == {"valid": True, "breaks": []}

    nodes = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j").records[0]["n"]
    again = data(send(COMPACT))["compactInferences"]
    assert again == {"moved": 0, "rounds": 0, "recovered": []}
    assert driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j").records[0]["n"] == nodes

    retention = data(send(RETENTION))["retention"]
    assert retention["hot"]["inferences"] == 0 and retention["cold"]["inferences"] == len(keys)
    assert retention["hotDays"] == 30 and retention["minColdDays"] == 183
    assert retention["cold"]["bytes"] > 0


def test_a_new_inference_logged_after_compaction_counts_once_with_the_cold_ones(
    loaded: tuple[GraphQL, list[str], list[datetime]], client: TestClient, settings: Settings, driver: Driver
) -> None:
    send, keys, _ = loaded
    data(send(COMPACT))
    # Late data in an hour that is already cold, and a retry of a cold inference: both tiers in one bucket.
    late = {"key": "late-after", "endpoint": "scoring", "at": iso(T["T7"] + timedelta(hours=2, minutes=10))}
    body = client.post("/v1/inferences", json={"inferences": [late]}).json()
    assert body["accepted"] == 1
    cut = T["T7"] + timedelta(hours=2, minutes=30)
    report = data(send(IMPACT, {"s": "source:crawl", "a": iso(cut), "k": iso(FAR)}))["impactReport"]
    scoring = [k for k in keys if k.startswith("inference:scoring-")]
    expected_scoring = sum(
        1 for k in range(len(scoring)) if T["T7"] + timedelta(hours=2, minutes=7 + 7 * k) <= cut
    )
    counted = {m["modelVersion"]["id"]: m["inferences"] for m in report["modelVersions"]}
    assert sum(counted.values()) >= expected_scoring + 1
    hot, cold = tiers(driver, settings)
    assert hot == {"inference:late-after"} and not hot & cold


def _compact_in_subprocess(settings: Settings, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "provgraph", "compact", "--batch", "25"],
        env={
            **os.environ,
            "NEO4J_URI": settings.neo4j_uri,
            "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password or "",
            "PROVGRAPH_COLD_URI": settings.cold.warehouse,
            "PROVGRAPH_COLD_CATALOG": settings.cold.catalog_uri,
            "PROVGRAPH_AUDIT_KEY": "x" * 32,
            "PROVGRAPH_COMPACTION_LEASE": "0",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _each_once(driver: Driver, settings: Settings, keys: list[str], *, all_cold: bool) -> None:
    """Every inference in exactly one tier (after a finished compaction: all of them cold)."""
    hot, cold = tiers(driver, settings)
    if all_cold:
        assert hot == set() and cold == set(keys)
    else:
        assert not hot & cold and hot | cold == set(keys)


@pytest.mark.parametrize("step", ["marked", "appended"])
def test_a_compaction_killed_at_a_step_leaves_each_inference_in_one_tier_and_the_next_run_finishes(
    step: str,
    loaded: tuple[GraphQL, list[str], list[datetime]],
    client: TestClient,
    settings: Settings,
    driver: Driver,
) -> None:
    send, keys, known = loaded
    before = answers(send, client, keys, known[-1:])
    process = _compact_in_subprocess(settings, {"PROVGRAPH_COMPACTION_CRASH_AT": step})
    _, err = process.communicate(timeout=120)
    assert process.returncode == 137, err.decode()
    pending = driver.execute_query(
        "MATCH (c:Compaction {state: 'moving'}) RETURN count(c) AS n", database_="neo4j"
    ).records[0]["n"]
    assert pending == 1
    _each_once(driver, settings, keys, all_cold=False)
    assert answers(send, client, keys, known[-1:]) == before  # answered once each, mid-crash

    finished = data(send(COMPACT))["compactInferences"]
    assert len(finished["recovered"]) == 1
    _each_once(driver, settings, keys, all_cold=True)
    assert answers(send, client, keys, known[-1:]) == before
    assert data(send("{ verifyAuditChain { valid } }"))["verifyAuditChain"]["valid"] is True


def test_a_compaction_killed_at_a_random_moment_loses_and_doubles_nothing(
    loaded: tuple[GraphQL, list[str], list[datetime]],
    client: TestClient,
    settings: Settings,
    driver: Driver,
) -> None:
    send, keys, known = loaded
    before = answers(send, client, keys, known[-1:])
    process = _compact_in_subprocess(settings, {})
    time.sleep(random.uniform(1.0, 4.0))  # somewhere in start-up, or in one of the rounds of 25
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    _each_once(driver, settings, keys, all_cold=False)
    assert answers(send, client, keys, known[-1:]) == before
    data(send(COMPACT))
    _each_once(driver, settings, keys, all_cold=True)
    assert answers(send, client, keys, known[-1:]) == before


def test_optimize_rewrites_crowded_buckets_into_one_file_each_and_every_answer_stays(
    loaded: tuple[GraphQL, list[str], list[datetime]], client: TestClient, settings: Settings, driver: Driver
) -> None:
    send, keys, known = loaded
    before = answers(send, client, keys, known[-1:])
    compaction = client.app.state.services.compaction  # type: ignore[attr-defined]
    compaction.batch, compaction.max_files = 10, 2  # many small compactions, then a low bar
    try:
        client.portal.call(compaction.compact)  # type: ignore[union-attr]
        per_bucket = client.portal.call(compaction.store.files_per_bucket)  # type: ignore[union-attr]
        assert max(per_bucket.values()) <= 2  # compact() ends with optimize()
        assert answers(send, client, keys, known[-1:]) == before
        hot, cold = tiers(driver, settings)
        assert hot == set() and cold == set(keys)
        nodes = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j").records[0]["n"]
        assert client.portal.call(compaction.optimize) == 0  # type: ignore[union-attr]
        assert (
            driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j").records[0]["n"] == nodes
        )
    finally:
        compaction.batch, compaction.max_files = 50_000, 16
    assert data(send("{ verifyAuditChain { valid } }"))["verifyAuditChain"]["valid"] is True
