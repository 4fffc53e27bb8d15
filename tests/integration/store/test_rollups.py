"""Inference rollups give exactly the counts the inference edges give, at any asOf and knownAt.

The story's endpoints get several batches of inferences spread over hours (some buckets cut by the times
asked about, one batch repeated, one inference without a deployment); then every count a report shows —
the impact report's per-version counts, a version's inferenceCount, each deployment's served count — is
compared with a direct count of the edges. The rebuild (the migration for stores that predate rollups)
must give the same buckets as maintenance on ingest did.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from conftest import GraphQL
from helpers import data
from provgraph.store import rollups
from provgraph.store.serving import DEPLOYMENT_INFERENCE_COUNTS
from story import Story, T, iso

IMPACT = """query($s: ID!, $a: DateTime, $k: DateTime) {
  impactReport(sourceId: $s, asOf: $a, knownAt: $k) { inferences modelVersions { modelVersion { id } inferences } } }"""
COUNTS = """{ a: modelVersion(id: "modelVersion:base:1") { inferenceCount }
  b: modelVersion(id: "modelVersion:base:2") { inferenceCount }
  c: modelVersion(id: "modelVersion:assistant:1") { inferenceCount } }"""

EDGES = """
MATCH (mv:ModelVersion)<-[p:PREDICTED_WITH]-(i:Inference)
WHERE p.validFrom <= $asOf AND p.recordedAt <= $knownAt
RETURN mv.id AS id, count(i) AS n
"""
SERVED_EDGES = """
MATCH (d:Deployment)<-[s:SERVED_BY]-(:Inference) WHERE s.validFrom <= $asOf AND s.recordedAt <= $knownAt
RETURN d.id AS id, count(*) AS n
"""
FAR = datetime(2199, 1, 1, tzinfo=UTC)  # later than every fact (the API refuses LATEST itself)
BUCKETS = "MATCH (b:InferenceRollup) RETURN b {.*} AS b ORDER BY b.key"


def _batch(prefix: str, endpoint: str, start: datetime, n: int, step_minutes: int) -> list[dict[str, Any]]:
    return [
        {"key": f"{prefix}-{k}", "endpoint": endpoint, "at": iso(start + timedelta(minutes=k * step_minutes))}
        for k in range(n)
    ]


def _post(client: TestClient, items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = client.post("/v1/inferences", json={"inferences": items}).json()
    assert not body["rejected"], body
    return body


def _recorded_at(driver: Driver, key: str) -> datetime:
    records, _, _ = driver.execute_query(
        "MATCH (i:Inference {id: $id}) RETURN i.recordedAt AS t",
        {"id": "inference:" + key},
        database_="neo4j",
    )
    moment: datetime = records[0]["t"].to_native()
    return moment


@pytest.fixture(scope="module")
def traffic(story: tuple[GraphQL, Story], client: TestClient, driver: Driver) -> list[datetime]:
    """Batches recorded at distinct transaction times; returns a knownAt between each pair of them."""
    send, _ = story
    after_rollback = T["T7"] + timedelta(hours=2, minutes=7)
    batches = [
        _batch("scoring-a", "scoring", after_rollback, 50, 7),  # 50 × 7 min: about six hours, on base:1
        _batch("chat-a", "chat", T["T6"] + timedelta(minutes=13), 30, 11),  # on assistant:1
        _batch("scoring-b", "scoring", after_rollback + timedelta(minutes=3), 40, 5),  # the same hours, later
        # Late data: valid in hours that earlier batches already counted, recorded after them.
        _batch("chat-late", "chat", T["T6"] + timedelta(minutes=21), 10, 17),
    ]
    cut = []
    for items in batches:
        _post(client, items)
        cut.append(_recorded_at(driver, items[0]["key"]) + timedelta(microseconds=1))
        time.sleep(0.01)  # each batch recorded at its own time
    repeated = _post(client, batches[0][:20])
    assert (repeated["accepted"], repeated["duplicates"]) == (0, 20)
    # An inference naming its model version and no endpoint has no deployment: its own bucket.
    direct = send(
        "mutation($i: InferenceInput!) { logInference(input: $i) { created } }",
        {"i": {"key": "direct", "modelVersionId": "modelVersion:base:2", "at": iso(T["T8"])}},
    )
    assert data(direct)["logInference"]["created"] is True
    return cut


def _times() -> list[datetime]:
    """Times asked about: bucket boundaries, instants inside buckets, before and after all traffic."""
    start = T["T7"] + timedelta(hours=2)
    inside = [start + timedelta(minutes=m) for m in (0, 7, 30, 60, 61, 95, 180, 300, 419, 420)]
    return [T["T5"], T["T6"] + timedelta(minutes=40), T["T6"] + timedelta(hours=3), *inside, T["T8"], FAR]


def test_impact_counts_equal_the_edges_at_every_as_of_and_known_at(
    story: tuple[GraphQL, Story], traffic: list[datetime], driver: Driver
) -> None:
    send, _ = story
    checked = 0
    for known_at in [*traffic, FAR]:
        for as_of in _times():
            records, _, _ = driver.execute_query(
                EDGES, {"asOf": as_of, "knownAt": known_at}, database_="neo4j"
            )
            direct = {r["id"]: r["n"] for r in records}
            for source in ("source:crawl", "source:forum"):
                report = data(send(IMPACT, {"s": source, "a": iso(as_of), "k": iso(known_at)}))[
                    "impactReport"
                ]
                counted = {m["modelVersion"]["id"]: m["inferences"] for m in report["modelVersions"]}
                assert counted == {mv: direct.get(mv, 0) for mv in counted}, (source, as_of, known_at)
                assert report["inferences"] == sum(counted.values())
                checked += sum(1 for n in counted.values() if n)
    assert checked > 50  # most of the questions had inferences to count


def test_served_counts_equal_the_edges(traffic: list[datetime], driver: Driver) -> None:
    deployments, _, _ = driver.execute_query(
        "MATCH (d:Deployment) RETURN collect(d.id) AS ids", database_="neo4j"
    )
    ids = deployments[0]["ids"]
    for known_at in [*traffic, FAR]:
        for as_of in _times():
            params = {"asOf": as_of, "knownAt": known_at}
            records, _, _ = driver.execute_query(SERVED_EDGES, params, database_="neo4j")
            direct = {r["id"]: r["n"] for r in records}
            records, _, _ = driver.execute_query(
                DEPLOYMENT_INFERENCE_COUNTS, {"ids": ids, **params}, database_="neo4j"
            )
            assert {r["id"]: r["n"] for r in records} == {d: direct.get(d, 0) for d in ids}, (as_of, known_at)


def test_a_versions_inference_count_is_its_total(
    story: tuple[GraphQL, Story], traffic: list[datetime], driver: Driver
) -> None:
    send, _ = story
    counts = data(send(COUNTS))
    records, _, _ = driver.execute_query(EDGES, {"asOf": FAR, "knownAt": FAR}, database_="neo4j")
    direct = {r["id"]: r["n"] for r in records}
    assert counts == {
        "a": {"inferenceCount": direct["modelVersion:base:1"]},
        "b": {"inferenceCount": direct["modelVersion:base:2"]},
        "c": {"inferenceCount": direct["modelVersion:assistant:1"]},
    }
    assert direct["modelVersion:base:1"] == 90 + 1  # two batches plus the story's own; the repeat added none


def test_a_rebuild_gives_the_buckets_ingest_kept(traffic: list[datetime], driver: Driver) -> None:
    kept, _, _ = driver.execute_query(BUCKETS, database_="neo4j")
    driver.execute_query("MATCH (b:InferenceRollup) DETACH DELETE b", database_="neo4j")
    with driver.session(database="neo4j") as session:
        session.run(rollups.REBUILD).consume()
        session.run(rollups.REBUILD).consume()  # twice: a rebuild sets, never adds
    rebuilt, _, _ = driver.execute_query(BUCKETS, database_="neo4j")
    assert [r["b"] for r in rebuilt] == [r["b"] for r in kept]
    assert len(kept) > 10
