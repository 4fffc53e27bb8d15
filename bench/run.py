"""Run the benchmarks: `python -m bench.run --tier smoke|standard`.

Everything runs on this machine in one run, and every number is paired with a reference measured in the
same run (raw Cypher through the driver, one-request-per-item, a peer system). Variants are interleaved
(A B A B …) and the median of the rounds is reported, so machine noise hits both sides alike. Results go
to bench/results/<tier>-<time>.json and docs/benchmarks.md. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import GraphDatabase, RoutingControl

from bench import b2, coldstart, isolation, levers, measure, openlineage, report
from bench.servers import ROOT, Api, fresh_neo4j
from bench.synthetic import TIERS, Graph, generate
from provgraph.config import Settings
from provgraph.neo4j_local import NEO4J_VERSION
from provgraph.service.services import Services
from provgraph.store.graph import Graph as Store
from provgraph.store.graph import open_driver
from provgraph.store.schema import apply_schema
from provgraph.store.serving import LOG_INFERENCES

RESULTS = ROOT / "bench" / "results"

# Per tier: (naive items, batched items per round, rounds, read iterations, concurrency seconds)
PLAN = {"smoke": (200, 5_000, 3, 30, 5.0), "standard": (2_000, 20_000, 3, 200, 15.0)}
BATCH_SIZES = (100, 1_000, 5_000, 10_000)
STEPS = ("b0", "b1", "b2", "levers", "b3", "b4", "b5", "cold")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    def __init__(
        self, tier: str, api: Api, driver: Any, services: Services, graph: Graph, token: str | None
    ) -> None:
        self.tier = tier
        self.api = api
        self.driver = driver
        self.services = services
        self.graph = graph
        self.http = httpx.Client(timeout=120)
        self.headers = {"authorization": f"Bearer {token}"}
        self.counter = 0
        # Inferences are logged on endpoint ep-000 after its deployment started; each gets a distinct time.
        self.at = datetime(2026, 6, 1, tzinfo=UTC)

    # -- B0 ------------------------------------------------------------------------------------------------
    def floors(self, iterations: int) -> dict[str, Any]:
        bolt = measure.timed(
            lambda: self.driver.execute_query("RETURN 1", database_="neo4j"), iterations, warmup=50
        )
        health = measure.timed(lambda: self.http.get(self.api.base + "/healthz"), iterations, warmup=20)
        typename = measure.timed(
            lambda: self.http.post(self.api.url, json={"query": "{ __typename }"}, headers=self.headers),
            iterations,
            warmup=20,
        )
        return {
            "bolt_return_1": measure.percentiles(bolt),
            "http_healthz": measure.percentiles(health),
            "graphql_typename_http": measure.percentiles(typename),
        }

    # -- B1 ------------------------------------------------------------------------------------------------
    def _items(self, n: int) -> list[dict[str, Any]]:
        items = []
        for _ in range(n):
            self.counter += 1
            items.append(
                {
                    "key": f"b1-{self.counter:09d}",
                    "at": (self.at + timedelta(milliseconds=self.counter)).isoformat(),
                    "endpoint": "ep-000",
                    "latencyMs": 5.0,
                }
            )
        return items

    def _rows(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows the store builds for LOG_INFERENCES, built the same way."""
        return [
            {
                "index": i,
                "id": "inference:" + item["key"],
                "at": datetime.fromisoformat(item["at"]),
                "modelVersionId": None,
                "endpointId": "endpoint:" + item["endpoint"],
                "inputDigest": None,
                "outputDigest": None,
                "latencyMs": item["latencyMs"],
            }
            for i, item in enumerate(items)
        ]

    def naive_api(self, n: int, deadline: float) -> float:
        document = "mutation($i: InferenceInput!) { logInference(input: $i) { created } }"
        started, done = time.perf_counter(), 0
        for item in self._items(n):
            response = self.http.post(
                self.api.url, json={"query": document, "variables": {"i": item}}, headers=self.headers
            )
            assert "errors" not in response.json(), response.text
            done += 1
            if time.perf_counter() - started > deadline:
                break
        return done / (time.perf_counter() - started)

    def naive_driver(self, n: int, deadline: float) -> float:
        started, done = time.perf_counter(), 0
        for item in self._items(n):
            self._driver_batch([item])
            done += 1
            if time.perf_counter() - started > deadline:
                break
        return done / (time.perf_counter() - started)

    def _driver_batch(self, items: list[dict[str, Any]]) -> None:
        records, _, _ = self.driver.execute_query(
            LOG_INFERENCES,
            {"rows": self._rows(items), "now": datetime.now(UTC), "actor": "bench", "writeId": "bench"},
            database_="neo4j",
        )
        assert records[0]["created"] == len(items), records[0]

    def batched_api(self, total: int, size: int) -> float:
        batches = [self._items(size) for _ in range(total // size)]
        started = time.perf_counter()
        for batch in batches:
            response = self.http.post(
                self.api.base + "/v1/inferences", json={"inferences": batch}, headers=self.headers
            )
            assert response.json().get("accepted") == len(batch), response.text[:300]
        return total / (time.perf_counter() - started)

    def batched_graphql(self, total: int, size: int) -> float:
        document = "mutation($xs: [InferenceInput!]!) { logInferences(inferences: $xs) { accepted } }"
        batches = [self._items(size) for _ in range(total // size)]
        started = time.perf_counter()
        for batch in batches:
            body = self.http.post(
                self.api.url, json={"query": document, "variables": {"xs": batch}}, headers=self.headers
            ).json()
            assert body["data"]["logInferences"]["accepted"] == len(batch), str(body)[:300]
        return total / (time.perf_counter() - started)

    def batched_driver(self, total: int, size: int) -> float:
        batches = [self._items(size) for _ in range(total // size)]
        started = time.perf_counter()
        for batch in batches:
            self._driver_batch(batch)
        return total / (time.perf_counter() - started)

    def ingestion(self, naive_n: int, batched_n: int, rounds: int, cpu: measure.CpuMeter) -> dict[str, Any]:
        out: dict[str, Any] = {}
        say("B1: one request per inference (API) vs one transaction per inference (driver)")
        api_rates, driver_rates = [], []
        for _ in range(rounds):
            api_rates.append(self.naive_api(naive_n, 60))
            driver_rates.append(self.naive_driver(naive_n, 60))
        out["I1_naive_api_per_s"] = _rates(api_rates)
        out["I2_naive_driver_per_s"] = _rates(driver_rates)
        say(
            f"  naive API {measure.median(api_rates):.0f}/s, naive driver {measure.median(driver_rates):.0f}/s"
        )

        sweep: dict[str, Any] = {}
        for size in BATCH_SIZES:
            if size > batched_n:
                continue
            api_r, drv_r, cpu_api = [], [], []
            for _ in range(rounds):
                before = cpu.snapshot()
                api_r.append(self.batched_api(batched_n, size))
                cpu_api.append(measure.CpuMeter.spent(before, cpu.snapshot()))
                drv_r.append(self.batched_driver(batched_n, size))
            ratios = [a / d for a, d in zip(api_r, drv_r, strict=True)]
            sweep[str(size)] = {
                "I3_batched_api_per_s": _rates(api_r),
                "I4_batched_driver_per_s": _rates(drv_r),
                "R_api_ingest": _rates(ratios, digits=3),
                "cpu_seconds_per_1k_api_round1": {
                    k: round(v / batched_n * 1000, 4) for k, v in cpu_api[0].items()
                },
            }
            say(f"  batch {size}: API {measure.median(api_r):.0f}/s, driver {measure.median(drv_r):.0f}/s")
        out["sweep"] = sweep
        best = max(sweep, key=lambda s: sweep[s]["I3_batched_api_per_s"]["median"])
        out["best_batch_size"] = int(best)
        gql = [self.batched_graphql(batched_n, int(best)) for _ in range(rounds)]
        out["I3g_batched_graphql_per_s"] = _rates(gql)
        say(f"  batch {best} through the GraphQL mutation: {measure.median(gql):.0f}/s")
        out["R_batch"] = round(
            sweep[best]["I3_batched_api_per_s"]["median"] / out["I1_naive_api_per_s"]["median"], 1
        )
        out["R_api_ingest_best"] = sweep[best]["R_api_ingest"]
        records, _, _ = self.driver.execute_query(
            "MATCH (i:Inference) WHERE i.id STARTS WITH 'inference:b1-' RETURN count(i) AS n, count(DISTINCT i.id) AS d",
            database_="neo4j",
            routing_=RoutingControl.READ,
        )
        out["correctness"] = {"logged": self.counter, "stored": records[0]["n"], "distinct": records[0]["d"]}
        return out


def _rates(values: list[float], digits: int = 1) -> dict[str, float]:
    return {
        "median": round(measure.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


async def _prepare(tier: str, settings: Settings) -> tuple[Services, Store, Graph]:
    store = Store(
        open_driver(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, connect_timeout=5),
        "neo4j",
        120,
    )
    await apply_schema(store)
    services = Services.build(store, settings)
    say(f"Generating the {tier} graph (seed 42)...")
    graph = await generate(services, TIERS[tier], say)
    return services, store, graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", choices=sorted(TIERS), default="smoke")
    parser.add_argument("--skip-peers", action="store_true", help="do not install and run MLflow (B3)")
    parser.add_argument(
        "--only", nargs="+", choices=STEPS, help="run only these steps (default: all); for iterating on one"
    )
    args = parser.parse_args()
    steps = set(args.only or STEPS)
    tier = args.tier
    naive_n, batched_n, rounds, iterations, concurrency_seconds = PLAN[tier]
    started_at = datetime.now(UTC)
    neo4j, connection, settings = fresh_neo4j(tier, say)
    work = Path(tempfile.mkdtemp(prefix="provgraph-bench-"))
    loop = asyncio.new_event_loop()
    api = Api(connection, work / "api.log")
    try:
        services, store, graph = loop.run_until_complete(_prepare(tier, settings))
        token = loop.run_until_complete(b2.bench_token(services))
        api.start()
        status = neo4j.status()
        assert status.pid is not None
        cpu = measure.CpuMeter({"neo4j": status.pid, "api": api.pid, "client": os.getpid()})
        with GraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), notifications_min_severity="OFF"
        ) as driver:
            bench = Bench(tier, api, driver, services, graph, token)
            results: dict[str, Any] = {
                "tier": tier,
                "started_at": started_at.isoformat(),
                "seed": 42,
                "sizes": TIERS[tier].__dict__,
                "environment": measure.environment(NEO4J_VERSION, neo4j.heap, neo4j.pagecache),
            }
            if "b0" in steps:
                say("B0: floors")
                results["b0"] = {
                    "fsync": measure.fsync_latency(neo4j.home / "data", 300 if tier == "smoke" else 1000)
                }
                results["b0"].update(bench.floors(300 if tier == "smoke" else 2000))
            if "b1" in steps:
                results["b1"] = bench.ingestion(naive_n, batched_n, rounds, cpu)
            if "b2" in steps:
                say("B2: signature queries, raw Cypher vs in-process GraphQL vs HTTP GraphQL")
                results["b2"] = b2.reads(loop, bench, iterations, concurrency_seconds, cpu)
            if "levers" in steps:
                say("B2 levers: HTTP parser, event loop, workers (each a fresh API process)")
                results["b2_levers"] = levers.levers(
                    loop, bench, connection, iterations // 2, concurrency_seconds, work
                )
            if "b5" in steps:
                say("B5: OpenLineage events through /api/v1/lineage, one per request and batched")
                pairs = 150 if tier == "smoke" else 1000
                results["b5"] = openlineage.ingestion(bench, pairs, batch=100, offset=0)
                b5 = results["b5"]
                say(
                    f"  {b5['single_events_per_s']} events/s one per request, {b5['batched_events_per_s']} batched"
                )
            if "b4" in steps:
                say("B4: a cheap query while the most expensive allowed request runs")
                results["b4"] = isolation.isolation(bench, concurrency_seconds)
                b4 = results["b4"]
                say(
                    f"  cheap p99 {b4['cheap_alone']['p99_ms']} ms alone, {b4['cheap_under_load']['p99_ms']} ms "
                    f"under load (x{b4['R_cheap_p99']}); heavy request cost {b4['heavy']['cost']}, "
                    f"p50 {b4['heavy']['p50_ms']} ms"
                )
            if "b3" not in steps:
                pass
            elif args.skip_peers:
                results["b3"] = {"skipped": "--skip-peers"}
            else:
                from bench.peers import mlflow_peer

                say("B3: MLflow on the same machine")
                results["b3"] = mlflow_peer.compare(bench, loop, tier, work)
            if "cold" in steps:  # last: it restarts Neo4j
                say("B7: cold start, the first request of each signature query after a restart")
                results["b7"] = coldstart.cold_start(loop, bench, neo4j, 30, work)
    finally:
        api.stop()
        loop.run_until_complete(store.close()) if "store" in locals() else None
        loop.close()
        neo4j.stop(progress=say)
        shutil.rmtree(work, ignore_errors=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    if args.only:  # a partial run is kept apart: the report shows complete runs only
        path = RESULTS / "partial" / f"{tier}-{'-'.join(sorted(steps))}-{stamp}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        say(f"Wrote {path}")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{tier}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    say(f"Wrote {path}")
    report.write(ROOT / "docs" / "benchmarks.md", RESULTS)
    say("Updated docs/benchmarks.md")


def concurrent(action: Any, threads: int, seconds: float) -> dict[str, Any]:
    """Run `action` from `threads` threads for `seconds`; throughput and latency percentiles."""
    samples: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        local = []
        while time.monotonic() < stop:
            began = time.perf_counter()
            action()
            local.append(time.perf_counter() - began)
        with lock:
            samples.extend(local)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"throughput_per_s": round(len(samples) / seconds, 1), **measure.percentiles(samples)}


if __name__ == "__main__":
    main()
