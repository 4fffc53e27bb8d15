"""The columnar inference path (PROVGRAPH_INFERENCE_SINK=columnar) against a real Neo4j, real landing
segments, real Iceberg files and DuckDB: the same traffic gives the same answers as the graph path once
sealed; repeats are dropped so every query sees each inference once; bad items get the graph path's own
rejections; a seal interrupted at either step is finished by the next, with nothing lost or doubled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from conftest import Tokens, sender
from helpers import data
from provgraph.api.app import create_app
from provgraph.config import Settings
from provgraph.service.sealing import Sealer
from story import T, iso, load_story
from tiered_traffic import FAR, answers, tiers, traffic


class Crash(Exception):
    """Stands for the process dying at a step: nothing after it runs (the sealer catches nothing)."""


@pytest.fixture(scope="module")
def columnar(
    settings: Settings, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A second app on the same Neo4j and cold tier, writing POST /v1/inferences to its landing log;
    tests seal when they choose (the scheduled seal is an hour away)."""
    columnar_settings = replace(
        settings,
        inference_sink="columnar",
        landing_dir=tmp_path_factory.mktemp("landing"),
        seal_every=3600,
        warm_plans=False,
    )
    with TestClient(create_app(columnar_settings), headers=tokens.header("admin")) as app:
        while app.get("/readyz").status_code != 200:
            time.sleep(0.2)
        yield app


def _seal(app: TestClient) -> Any:
    services = app.app.state.services  # type: ignore[attr-defined]
    return app.portal.call(services.sealer.seal)  # type: ignore[union-attr]


def _inferences(driver: Driver) -> list[str]:
    records, _, _ = driver.execute_query(
        "MATCH (i:Inference) RETURN i.id AS id ORDER BY id", database_="neo4j"
    )
    return [r["id"] for r in records]


def _state(driver: Driver) -> dict[str, Any]:
    """What a repeat must leave unchanged: node and ledger counts, every rollup bucket."""
    records, _, _ = driver.execute_query(
        "MATCH (n) WITH count(n) AS nodes "
        "OPTIONAL MATCH (b:InferenceRollup) WITH nodes, b ORDER BY b.key "
        "WITH nodes, collect([b.key, b.n, b.firstAt, b.lastAt, b.lastRecordedAt]) AS buckets "
        "RETURN nodes, buckets, COUNT { (:LedgerEntry) } AS entries",
        database_="neo4j",
    )
    return dict(records[0])


def test_traffic_through_the_columnar_path_answers_as_the_graph_path_once_sealed(
    client: TestClient, columnar: TestClient, clean_graph: Driver, settings: Settings
) -> None:
    send = sender(client)
    load_story(send)
    story = _inferences(clean_graph)
    traffic(client)
    keys = _inferences(clean_graph)
    by_graph = answers(send, client, keys, [FAR])

    clean_graph.execute_query(
        "MATCH (n) WHERE NOT n:ApiToken AND NOT n:ProvgraphTestDatabase DETACH DELETE n"
    )
    load_story(send)
    traffic(columnar)
    assert _inferences(clean_graph) == story  # landed, not yet visible
    outcome = _seal(columnar)
    assert (outcome.sealed, outcome.duplicates, outcome.conflicts) == (len(keys) - len(story), 0, 0)
    hot, cold = tiers(clean_graph, settings)
    assert hot == set(story) and cold == set(keys) - set(story)
    assert answers(send, client, keys, [FAR]) == by_graph
    audit = data(send("{ verifyAuditChain { valid breaks { problem } } }"))["verifyAuditChain"]
    assert audit == {"valid": True, "breaks": []}

    # The same traffic again, twice before one seal: every item lands, the seal drops them all.
    before = _state(clean_graph)
    traffic(columnar)
    traffic(columnar)
    again = _seal(columnar)
    assert (again.sealed, again.duplicates, again.conflicts) == (0, 2 * (len(keys) - len(story)), 0)
    assert _state(clean_graph) == before
    assert tiers(clean_graph, settings) == (hot, cold)
    assert answers(send, client, keys, [FAR]) == by_graph


def _item(key: str, minutes: int, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "endpoint": "scoring",
        "at": iso(T["T7"] + timedelta(hours=3, minutes=minutes)),
        **fields,
    }


def test_repeats_within_a_segment_and_against_the_graph_are_dropped_and_conflicts_counted(
    client: TestClient, columnar: TestClient, clean_graph: Driver, settings: Settings
) -> None:
    send = sender(client)
    load_story(send)
    # One inference already a graph node; the columnar path must not land it a second time.
    assert client.post("/v1/inferences", json={"inferences": [_item("in-graph", 1)]}).json()["accepted"] == 1
    items = [_item("in-graph", 1), _item("a", 2), _item("b", 3)]
    ndjson = "\n".join(json.dumps(i) for i in items)
    answer = columnar.post(
        "/v1/inferences", content=ndjson, headers={"content-type": "application/x-ndjson"}
    ).json()
    assert answer == {"accepted": 3, "duplicates": 0, "rejected": [], "sealed": False}
    empty = columnar.post("/v1/inferences", json={"inferences": []}).json()
    assert empty == client.post("/v1/inferences", json={"inferences": []}).json() | {"sealed": False}
    # "a" again with its facts (a retry) and "b" with another time (a conflicting reuse of the key).
    columnar.post("/v1/inferences", json={"inferences": [_item("a", 2), _item("b", 4)]})
    outcome = _seal(columnar)
    assert (outcome.sealed, outcome.duplicates, outcome.conflicts) == (2, 2, 1)
    hot, cold = tiers(clean_graph, settings)
    assert "inference:in-graph" in hot and cold == {"inference:a", "inference:b"}
    b = data(send('{ inference(id: "inference:b") { at } }'))["inference"]
    assert b["at"].startswith(iso(T["T7"] + timedelta(hours=3, minutes=3))[:16])  # the first landing won
    tally = clean_graph.execute_query(
        "MATCH (t:ColdTier) RETURN t.sealed AS s, t.sealDuplicates AS d, t.sealConflicts AS c",
        database_="neo4j",
    ).records[0]
    assert (tally["s"], tally["d"], tally["c"]) == (2, 2, 1)


BAD_ITEMS: list[dict[str, Any]] = [
    _item("ok-1", 5),
    {"key": "no-model", "modelVersionId": "modelVersion:nope:1", "at": iso(T["T7"])},
    {"key": "no-endpoint", "endpoint": "nowhere", "at": iso(T["T7"])},
    {"key": "too-early", "endpoint": "scoring", "at": iso(T["T1"])},
    {"key": "naive-time", "endpoint": "scoring", "at": "2026-01-01T10:00:00"},
    {"key": "slow", "endpoint": "scoring", "at": iso(T["T7"]), "latencyMs": -1},
    {"key": "bad key!", "endpoint": "scoring", "at": iso(T["T7"])},
    {"key": "neither", "at": iso(T["T7"])},
    _item("ok-1", 6),  # the same key twice in one batch
    _item("ok-2", 7, inputDigest="sha256:ab", outputDigest="x y"),
]


@pytest.mark.parametrize(
    "items",
    [
        pytest.param(BAD_ITEMS, id="mixed"),
        pytest.param([i for i in BAD_ITEMS[:4]], id="column-checked-then-resolved"),
    ],
)
def test_bad_items_get_the_graph_paths_own_rejections_and_the_rest_land(
    items: list[dict[str, Any]], client: TestClient, columnar: TestClient, clean_graph: Driver
) -> None:
    load_story(sender(client))
    by_columns = columnar.post("/v1/inferences", json={"inferences": items}).json()
    _seal(columnar)
    sealed = set(_cold_ids(columnar))
    clean_graph.execute_query(
        "MATCH (n) WHERE NOT n:ApiToken AND NOT n:ProvgraphTestDatabase DETACH DELETE n"
    )
    load_story(sender(client))
    story = set(_inferences(clean_graph))
    by_graph = client.post("/v1/inferences", json={"inferences": items}).json()
    assert by_columns == by_graph | {"sealed": False}
    assert by_columns["rejected"], "the batch holds bad items"
    assert sealed == set(_inferences(clean_graph)) - story


def _cold_ids(app: TestClient) -> list[str]:
    services = app.app.state.services  # type: ignore[attr-defined]
    tiers_store = services.compaction.store

    async def ids() -> list[str]:
        pointer = await tiers_store.pointer()
        if pointer.snapshot_id is None:
            return []
        files = tiers_store.cold.files(pointer.table, pointer.snapshot_id)
        return [r[0] for r in tiers_store.cold._query(pointer.table, files, "SELECT id FROM cold", [])]

    return app.portal.call(ids)  # type: ignore[union-attr, no-any-return]


@pytest.mark.parametrize("step", ["recorded", "appended"])
def test_a_seal_interrupted_at_a_step_is_finished_by_the_next_with_nothing_lost_or_doubled(
    step: str, client: TestClient, columnar: TestClient, clean_graph: Driver, settings: Settings
) -> None:
    send = sender(client)
    load_story(send)
    story = set(_inferences(clean_graph))
    items = [_item(f"k{n}", n) for n in range(30)]
    assert columnar.post("/v1/inferences", json={"inferences": items}).json()["accepted"] == 30
    services = columnar.app.state.services  # type: ignore[attr-defined]

    def crash(at: str) -> None:
        if at == step:
            raise Crash(at)

    dying = Sealer(services.sealer.store, services.sealer.landing, crash_at=crash)
    dying.lease = timedelta(0)  # its process is gone: the lease has run out
    with pytest.raises(Crash):
        columnar.portal.call(dying.seal)  # type: ignore[union-attr]
    hot, cold = tiers(clean_graph, settings)
    assert hot == story and cold == set()  # nothing visible yet: the pointer has not moved
    counts = data(send('{ modelVersion(id: "modelVersion:base:1") { inferenceCount } }'))

    outcome = _seal(columnar)
    assert outcome.sealed == 30 and outcome.duplicates == 0
    hot, cold = tiers(clean_graph, settings)
    assert hot == story and cold == {f"inference:k{n}" for n in range(30)}
    after = data(send('{ modelVersion(id: "modelVersion:base:1") { inferenceCount } }'))
    assert after["modelVersion"]["inferenceCount"] == counts["modelVersion"]["inferenceCount"] + 30
    assert data(send("{ verifyAuditChain { valid } }"))["verifyAuditChain"]["valid"] is True
    assert list(Path(services.sealer.landing.directory).glob("*.arrows")) == []
    seals = clean_graph.execute_query("MATCH (c:Compaction) RETURN count(c) AS n", database_="neo4j")
    assert seals.records[0]["n"] == 0  # the graph keeps no node per seal


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(
            json.dumps({"inferences": [_item(f"k{n}", 1) for n in range(10_001)]}),
            "application/json",
            id="too-many",
        ),
        pytest.param(
            json.dumps(_item("a", 1)) + "\n{not json\n", "application/x-ndjson", id="bad-ndjson-line"
        ),
        pytest.param('{"inferences": 5}', "application/json", id="not-a-list"),
    ],
)
def test_a_refused_body_gets_the_graph_paths_error_and_lands_nothing(
    body: str, content_type: str, client: TestClient, columnar: TestClient, clean_graph: Driver
) -> None:
    load_story(sender(client))
    by_columns = columnar.post("/v1/inferences", content=body, headers={"content-type": content_type})
    by_graph = client.post("/v1/inferences", content=body, headers={"content-type": content_type})
    assert by_columns.status_code == by_graph.status_code == 400
    assert by_columns.json()["error"]["code"] == by_graph.json()["error"]["code"]
    assert by_columns.json()["error"]["message"] == by_graph.json()["error"]["message"]
    assert _seal(columnar).sealed == 0
