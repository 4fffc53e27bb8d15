"""`traceInference` of a cold inference, through the API, with a cold tier written by bench/cold.py.

The issue's measurement: trace latency of a cold inference with 100M cold inferences. bench/cold.py writes
the rows straight into a tier (`--dir`); this run starts a fresh Neo4j and one API process on that tier,
registers the model versions, endpoints and deployments the rows name (`modelVersion:scorer:1..4`,
`deployment:scoring-0..7:1`), points the graph's cold tier at the table's current snapshot (what a
compaction would have left), and times `traceInference` and `inference(id)` over HTTP for random ids.

    .venv/bin/python -m bench.cold --rows 100000000 --compactions 183 --optimize --dir /big/cold100m
    .venv/bin/python -m bench.cold_trace --dir /big/cold100m

Results are printed and written to bench/results/cold-trace-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from neo4j import GraphDatabase

from bench import measure
from bench.cold import _sample_ids
from bench.servers import ROOT, Api, fresh_neo4j
from provgraph.admin import create_token
from provgraph.client import Client
from provgraph.domain.retention import ColdLocation
from provgraph.store.cold import ColdTier

TRACE = """query($id: ID!) { traceInference(inferenceId: $id) {
  inference { id at latencyMs } modelVersion { id } deployment { id } runCount sourceCount edgeCount } }"""
BY_ID = "query($id: ID!) { inference(id: $id) { id at modelVersion { id } deployment { id } } }"
SINCE = datetime(2025, 12, 1, tzinfo=UTC)


def say(message: str) -> None:
    print(message, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", required=True, help="a cold tier written by bench/cold.py")
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    directory = Path(args.dir).resolve()
    tier = ColdTier(ColdLocation.local(str(directory)))
    current = tier.table("inferences").current_snapshot()
    assert current is not None, f"no cold tier in {directory}"
    stats = tier.stats("inferences", current.snapshot_id)
    sample = _sample_ids(tier, current.snapshot_id)
    say(f"{stats.rows:,} cold inferences in {stats.files:,} files; {len(sample)} sampled ids")

    work = Path(tempfile.mkdtemp(prefix="provgraph-cold-trace-"))
    neo4j, connection, settings = fresh_neo4j("smoke", say)
    try:
        token = asyncio.run(create_token(settings, "bench-trace", "admin")).secret
        api = Api(
            connection,
            work / "api.log",
            {"PROVGRAPH_COLD_URI": f"file://{directory}", "PROVGRAPH_COMPACT_EVERY": "0"},
        )
        api.start()
        try:
            with Client(api.url, token=token) as pg:
                pg.register_model("scorer")
                versions = [
                    pg.register_model_version("scorer", f"s3://scorer/{v}", created_at=SINCE)
                    for v in range(4)
                ]
                for d in range(8):
                    pg.register_endpoint(f"scoring-{d}")
                    pg.deploy(f"scoring-{d}", versions[d // 2].id, started_at=SINCE)
            with GraphDatabase.driver(connection.uri, auth=(connection.user, connection.password)) as driver:
                driver.execute_query(
                    "MERGE (t:ColdTier {id: 'inferences'}) SET t.table = 'inferences', t.snapshotId = $snapshot",
                    {"snapshot": current.snapshot_id},
                    database_="neo4j",
                )
            headers = {"authorization": f"Bearer {token}"}
            results: dict[str, object] = {"rows": stats.rows, "files": stats.files, "tier": str(directory)}
            with httpx.Client(base_url=api.base, headers=headers, timeout=60) as http:
                for name, document in (("trace", TRACE), ("inference", BY_ID)):

                    def ask(one: str, document: str = document) -> float:
                        began = time.perf_counter()
                        body = http.post(
                            "/graphql", json={"query": document, "variables": {"id": one}}
                        ).json()
                        spent = time.perf_counter() - began
                        assert "errors" not in body, str(body)[:300]
                        return spent

                    for one in sample[:20]:
                        ask(one)  # warm: plan caches, the snapshot's file list, Parquet footers
                    picked = [random.choice(sample) for _ in range(args.lookups)]
                    results[name] = measure.percentiles([ask(one) for one in picked])
                    say(f"{name}: {results[name]}")
            results["load_average"] = os.getloadavg()[0]
            results["at"] = datetime.now(UTC).isoformat()
        finally:
            api.stop()
    finally:
        neo4j.stop()
    out = ROOT / "bench" / "results" / f"cold-trace-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"written to {out}")


if __name__ == "__main__":
    main()
