"""Traffic over several hours on the story's endpoints, and every answer that depends on where inferences
live (by id, traces, impact reports at many asOf/knownAt, served counts): what the tier tests compare
before and after inferences move (compaction) or arrive by another path (the columnar sink)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j import Driver
from starlette.testclient import TestClient

from conftest import GraphQL
from helpers import data
from provgraph.config import Settings
from provgraph.store.cold import ColdTier
from story import T, iso

IMPACT = """query($s: ID!, $a: DateTime, $k: DateTime) {
  impactReport(sourceId: $s, asOf: $a, knownAt: $k) { inferences modelVersions { modelVersion { id } inferences } } }"""
INFERENCE = (
    """query($id: ID!) { inference(id: $id) { id at modelVersion { id } deployment { id } latencyMs } }"""
)
TRACE = """query($id: ID!) { traceInference(inferenceId: $id) {
  inference { id at } modelVersion { id } deployment { id } runCount sourceCount edgeCount
  sources { id } } }"""
COMPACT = "mutation { compactInferences { moved rounds recovered } }"
RETENTION = (
    "{ retention { hotDays minColdDays hot { inferences } cold { inferences bytes } compactedBefore } }"
)
FAR = datetime(2199, 1, 1, tzinfo=UTC)


def traffic(client: TestClient) -> None:
    """Inferences over several hours on both endpoints, in batches recorded at distinct times."""
    start = T["T7"] + timedelta(hours=2, minutes=7)
    for prefix, endpoint, first, n, step in [
        ("scoring", "scoring", start, 60, 7),
        ("chat", "chat", T["T6"] + timedelta(minutes=13), 40, 11),
        ("late", "chat", T["T6"] + timedelta(minutes=21), 10, 17),
    ]:
        items = [
            {
                "key": f"{prefix}-{k}",
                "endpoint": endpoint,
                "at": iso(first + timedelta(minutes=k * step)),
                "latencyMs": k / 4,
                "outputDigest": f"out-{k}",
            }
            for k in range(n)
        ]
        body = client.post("/v1/inferences", json={"inferences": items}).json()
        assert body["accepted"] == n, body
        time.sleep(0.01)


def times() -> list[datetime]:
    start = T["T7"] + timedelta(hours=2)
    return [
        T["T6"] + timedelta(minutes=40),
        *(start + timedelta(minutes=m) for m in (0, 30, 61, 95, 300)),
        FAR,
    ]


def answers(send: GraphQL, client: TestClient, keys: list[str], known: list[datetime]) -> dict[str, Any]:
    services = client.app.state.services  # type: ignore[attr-defined]
    deployments = ["deployment:scoring:1", "deployment:scoring:2", "deployment:chat:1"]
    found: dict[str, Any] = {
        "inferences": {k: data(send(INFERENCE, {"id": k}))["inference"] for k in keys},
        "traces": {k: data(send(TRACE, {"id": k}))["traceInference"] for k in keys[::25]},
    }
    for known_at in known:
        for as_of in times():
            for source in ("source:crawl", "source:forum"):
                report = data(send(IMPACT, {"s": source, "a": iso(as_of), "k": iso(known_at)}))
                found[f"impact {source} {as_of} {known_at}"] = report
            served = client.portal.call(services.serving.served_by_deployments, deployments, as_of, known_at)  # type: ignore[union-attr]
            found[f"served {as_of} {known_at}"] = served
    return found


def tiers(driver: Driver, settings: Settings) -> tuple[set[str], set[str]]:
    """The ids the graph holds, and the ids the cold snapshot readers see holds."""
    records, _, _ = driver.execute_query("MATCH (i:Inference) RETURN collect(i.id) AS ids", database_="neo4j")
    hot = set(records[0]["ids"])
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (t:ColdTier) RETURN t.table AS table, t.snapshotId AS snapshot", database_="neo4j"
    )
    table, snapshot = records[0]["table"], records[0]["snapshot"]
    if table is None or snapshot is None:
        return hot, set()
    cold = ColdTier(settings.cold)
    files = cold.files(table, snapshot)
    rows = cold._query(table, files, "SELECT id FROM cold", [])
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "an inference is in the cold tier twice"
    return hot, set(ids)


def recorded_times(driver: Driver) -> list[datetime]:
    records, _, _ = driver.execute_query(
        "MATCH (i:Inference) RETURN DISTINCT i.recordedAt AS t ORDER BY t", database_="neo4j"
    )
    return [r["t"].to_native() + timedelta(microseconds=1) for r in records] + [FAR]
