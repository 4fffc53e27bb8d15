"""Inference logging side by side: MLflow's `log_batch`, provgraph's graph path, and the columnar path.

One run, one machine, the same clock: a fresh Neo4j with the demo's endpoints, then
  * the graph path: `POST /v1/inferences` (PROVGRAPH_INFERENCE_SINK=graph) creating nodes, `--graph-rows`;
  * the columnar path: the same endpoint with PROVGRAPH_INFERENCE_SINK=columnar, `--rows`; measured as
    *accepted* (answered after the landing log's fsync) and as *sealed* (visible to every query: the last
    seal committed), with the server's seal every `--seal-every` seconds;
  * MLflow (pip-installed, tracking server on SQLite): `log_batch` of 1,000 metrics per call, `--mlflow-rows`.
Every provgraph item names an endpoint and a time, so each is resolved to its live deployment; bodies are
NDJSON built before the clock starts (the client's cost is not the server's), sent from `--clients`
concurrent connections.

    .venv/bin/python -m bench.sink                       # ~5 minutes
    .venv/bin/python -m bench.sink --rows 3000000        # a longer columnar run

Results are printed and written to bench/results/sink-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import GraphDatabase

from bench import measure
from bench.peers.mlflow_peer import ensure_mlflow, run_workload
from bench.servers import ROOT, Api, fresh_neo4j
from provgraph.admin import create_token
from provgraph.demo import load_demo


def say(message: str) -> None:
    print(message, flush=True)


def bodies(prefix: str, rows: int, batch: int, now: datetime) -> list[bytes]:
    """NDJSON batches: unique keys, times in the last six hours on the demo's `sentiment-api`, SHA-256
    digests and a latency, as an SDK would send them."""
    out = []
    for start in range(0, rows, batch):
        lines = []
        for n in range(start, min(rows, start + batch)):
            digest = hashlib.sha256(f"{prefix}{n}".encode()).hexdigest()
            at = now - timedelta(seconds=(n * 7919) % 21600, microseconds=n % 1000)
            lines.append(
                json.dumps(
                    {
                        "key": f"{prefix}-{n}",
                        "endpoint": "sentiment-api",
                        "at": at.isoformat(),
                        "inputDigest": "sha256:" + digest,
                        "outputDigest": "sha256:" + digest[::-1],
                        "latencyMs": (n % 400) / 4,
                    }
                )
            )
        out.append("\n".join(lines).encode())
    return out


async def send_all(base: str, token: str, batches: list[bytes], clients: int) -> float:
    """Send every batch over `clients` keep-alive connections; seconds taken."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in batches:
        queue.put_nowait(body)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/x-ndjson"}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as http:
            while not queue.empty():
                body = queue.get_nowait()
                answer = (await http.post("/v1/inferences", content=body)).json()
                assert not answer.get("rejected") and answer.get("accepted"), str(answer)[:300]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


def sealed_count(driver: Any) -> int:
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (t:ColdTier) RETURN coalesce(t.sealed, 0) AS n", database_="neo4j"
    )
    return int(records[0]["n"])


def store_bytes(home: Path) -> int:
    """The database's store files on disk (Neo4j stopped, so checkpointed; transaction logs not counted)."""
    return sum(p.stat().st_size for p in (home / "data" / "databases" / "neo4j").rglob("*") if p.is_file())


def graph_nodes(driver: Any) -> int:
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j")
    return int(records[0]["n"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="inferences sent through the columnar path"
    )
    parser.add_argument(
        "--graph-rows", type=int, default=100_000, help="inferences sent through the graph path"
    )
    parser.add_argument("--mlflow-rows", type=int, default=100_000, help="metrics sent with MLflow log_batch")
    parser.add_argument("--batch", type=int, default=10_000, help="inferences per request")
    parser.add_argument("--clients", type=int, default=2, help="concurrent connections")
    parser.add_argument("--seal-every", type=float, default=5.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="provgraph-sink-"))
    neo4j, connection, settings = fresh_neo4j("smoke", say)
    results: dict[str, Any] = {"environment": measure.environment("5.26", "1g", "512m"), "args": vars(args)}
    try:
        asyncio.run(load_demo(settings))
        token = asyncio.run(create_token(settings, "bench-sink", "writer")).secret
        neo4j.stop()  # a checkpointed store to measure the graph path's bytes against
        hot_before = store_bytes(neo4j.home)
        connection = neo4j.start(progress=say)
        now = datetime.now(UTC)
        driver = GraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), notifications_min_severity="OFF"
        )

        say(f"graph path: {args.graph_rows:,} inferences, batches of {args.batch:,}")
        graph_bodies = bodies("g", args.graph_rows, args.batch, now)
        api = Api(connection, work / "graph-api.log", {"PROVGRAPH_COMPACT_EVERY": "0"})
        api.start()
        try:
            seconds = asyncio.run(send_all(api.base, token, graph_bodies, args.clients))
        finally:
            api.stop()
        results["graph_per_s"] = round(args.graph_rows / seconds)
        say(f"  {results['graph_per_s']:,}/s")

        say(
            f"columnar path: {args.rows:,} inferences, batches of {args.batch:,}, seal every {args.seal_every} s"
        )
        columnar_bodies = bodies("c", args.rows, args.batch, now)
        api = Api(
            connection,
            work / "columnar-api.log",
            {
                "PROVGRAPH_COMPACT_EVERY": "0",
                "PROVGRAPH_INFERENCE_SINK": "columnar",
                "PROVGRAPH_LANDING_DIR": str(work / "landing"),
                "PROVGRAPH_COLD_URI": f"file://{work / 'cold'}",
                "PROVGRAPH_SEAL_EVERY": str(args.seal_every),
            },
        )
        api.start()
        nodes_before = graph_nodes(driver)
        try:
            cpu_before = measure.cpu_seconds(api.pid)
            started = time.perf_counter()
            seconds = asyncio.run(send_all(api.base, token, columnar_bodies, args.clients))
            while sealed_count(driver) < args.rows:
                time.sleep(0.2)
                if time.perf_counter() - started > 3600:
                    raise RuntimeError("the seals did not catch up within an hour")
            visible = time.perf_counter() - started
            cpu = measure.cpu_seconds(api.pid) - cpu_before
        finally:
            api.stop()
        # The graph's size while the columnar path takes inferences: flat but for new rollup buckets.
        results["graph_nodes_before_columnar"] = nodes_before
        results["graph_nodes_after_columnar"] = graph_nodes(driver)
        landing_bytes = sum(p.stat().st_size for p in (work / "landing").glob("*"))
        results["columnar_accepted_per_s"] = round(args.rows / seconds)
        results["columnar_sealed_per_s"] = round(args.rows / visible)
        results["columnar_api_cpu_seconds_per_1m"] = round(cpu / args.rows * 1e6, 1)
        results["landing_left_bytes"] = landing_bytes
        cold_bytes = sum(p.stat().st_size for p in (work / "cold").rglob("*.parquet"))
        results["cold_bytes_per_inference"] = round(cold_bytes / args.rows, 1)
        say(
            f"  accepted {results['columnar_accepted_per_s']:,}/s, sealed (visible) "
            f"{results['columnar_sealed_per_s']:,}/s, {results['cold_bytes_per_inference']} B/inference cold; "
            f"graph nodes {nodes_before:,} → {results['graph_nodes_after_columnar']:,}"
        )
        driver.close()

        say(f"MLflow log_batch: {args.mlflow_rows:,} metrics, 1,000 per call")
        try:
            plan = {
                "runs": [{"key": "sink", "datasets": []}],
                "model_versions": [],
                "per_item": 0,
                "batched": args.mlflow_rows,
                "dataset": "none",
                "iterations": 1,
            }
            mlflow = run_workload(ensure_mlflow(), plan, work)
            results["mlflow_log_batch_per_s"] = mlflow["batched_per_s"]
            say(f"  {mlflow['batched_per_s']:,}/s")
        except RuntimeError as exc:
            results["mlflow_log_batch_per_s"] = None
            results["mlflow_skipped"] = str(exc)
            say(f"  skipped: {exc}")
    finally:
        neo4j.stop()
    # The graph path's inferences are what the store gained (the columnar path adds a few rollup buckets).
    results["hot_bytes_per_inference"] = round((store_bytes(neo4j.home) - hot_before) / args.graph_rows)
    say(f"hot tier (Neo4j store): {results['hot_bytes_per_inference']} B/inference")
    out = ROOT / "bench" / "results" / f"sink-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2))
    say(f"written to {out}")


if __name__ == "__main__":
    main()
