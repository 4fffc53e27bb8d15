"""The SDK's inference logger against a real server on the columnar path (PROVGRAPH_INFERENCE_SINK=columnar,
over HTTP, sealing every half second): what it logs becomes traceable once sealed, and logging the same
records again — what a replayed spool does — counts nothing twice."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from neo4j import Driver

from conftest import Tokens
from provgraph.client import Client, InferenceLogger
from provgraph.config import Settings

from .conftest import ApiServer

T0 = datetime(2026, 3, 1, tzinfo=UTC)
COUNT = "query($id: ID!) { modelVersion(id: $id) { inferenceCount } }"


def _sealed(driver: Driver) -> int:
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (t:ColdTier) RETURN coalesce(t.sealed, 0) AS n, coalesce(t.sealDuplicates, 0) AS d",
        database_="neo4j",
    )
    return int(records[0]["n"]) + int(records[0]["d"])


def _wait_sealed(driver: Driver, n: int) -> None:
    deadline = time.monotonic() + 60
    while _sealed(driver) < n:
        assert time.monotonic() < deadline, f"only {_sealed(driver)} of {n} sealed"
        time.sleep(0.1)


def test_the_sdk_logs_through_the_columnar_path_and_a_replay_counts_once(
    settings: Settings, clean_graph: Driver, tmp_path: Path, tokens: Tokens
) -> None:
    server = ApiServer(
        settings,
        tmp_path,
        {
            "PROVGRAPH_INFERENCE_SINK": "columnar",
            "PROVGRAPH_LANDING_DIR": str(tmp_path / "landing"),
            "PROVGRAPH_COLD_URI": settings.cold.warehouse,
            "PROVGRAPH_COLD_CATALOG": settings.cold.catalog_uri,
            "PROVGRAPH_SEAL_EVERY": "0.5",
        },
    )
    server.start()
    try:
        with Client(server.url, token=tokens.writer) as pg:
            pg.register_model("m")
            version = pg.register_model_version("m", "s3://m/1", created_at=T0)
            pg.register_endpoint("ep")
            pg.deploy("ep", version.id, started_at=T0)

        def log_all() -> list[str]:
            with InferenceLogger(
                server.url, token=tokens.writer, spool_dir=tmp_path / "spool", batch_size=250
            ) as logger:
                at = T0 + timedelta(days=1)
                return [
                    logger.log(key=f"req-{n}", endpoint="ep", at=at + timedelta(seconds=n), latency_ms=2.0)
                    for n in range(1000)
                ]

        keys = log_all()
        _wait_sealed(clean_graph, 1000)
        with Client(server.url, token=tokens.reader) as pg:
            assert pg.execute(COUNT, {"id": version.id})["modelVersion"]["inferenceCount"] == 1000
            trace = pg.trace_inference(f"inference:{keys[500]}")
            assert trace.model_version.id == version.id and trace.deployment is not None

        assert log_all() == keys  # the same records again
        _wait_sealed(clean_graph, 2000)
        with Client(server.url, token=tokens.reader) as pg:
            assert pg.execute(COUNT, {"id": version.id})["modelVersion"]["inferenceCount"] == 1000
        records, _, _ = clean_graph.execute_query(
            "MATCH (t:ColdTier) RETURN t.sealed AS s, t.sealDuplicates AS d", database_="neo4j"
        )
        assert (records[0]["s"], records[0]["d"]) == (1000, 1000)
    finally:
        server.stop()
