"""Cold start: the first request of each signature query after Neo4j and the API start, against its warm
p50 — with the plan-cache warm-up (the default) and without it (PROVGRAPH_WARM_PLANS=0)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from bench import b2, measure
from bench.servers import Api

if TYPE_CHECKING:
    import asyncio

    from bench.run import Bench
    from provgraph.neo4j_local import LocalNeo4j


def cold_start(
    loop: asyncio.AbstractEventLoop, bench: Bench, neo4j: LocalNeo4j, iterations: int, work: Path
) -> dict[str, Any]:
    """Restarts Neo4j twice: run it last."""
    from bench.run import say

    queries = b2._queries(bench, loop)
    bench.api.stop()
    out: dict[str, Any] = {}
    for name, env in (("warmed", {}), ("not warmed", {"PROVGRAPH_WARM_PLANS": "0"})):
        neo4j.stop(progress=say)
        connection = neo4j.start(progress=say)
        api = Api(connection, work / f"cold-{name.replace(' ', '-')}.log", env)
        started = time.monotonic()
        api.start()
        ready_s = time.monotonic() - started
        client = httpx.Client(timeout=120)
        entry: dict[str, Any] = {"ready_after_s": round(ready_s, 1)}
        try:
            for query in queries:
                entry[query.name] = _first_and_warm(client, api.url, bench.headers, query, iterations)
        finally:
            api.stop()
        out[name] = entry
        worst = max(v["R_first"] for k, v in entry.items() if isinstance(v, dict))
        say(f"  {name}: ready after {entry['ready_after_s']} s; worst first request x{worst} its warm p50")
    return out


def _first_and_warm(
    client: httpx.Client, url: str, headers: dict[str, str], query: b2.Query, iterations: int
) -> dict[str, float]:
    http = b2.http_call(client, url, headers, query)
    first = measure.timed(http, 1)[0] * 1000
    warm = measure.percentiles(measure.timed(http, iterations, warmup=5))["p50_ms"]
    return {"first_ms": round(first, 1), "warm_p50_ms": warm, "R_first": round(first / warm, 2)}
