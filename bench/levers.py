"""The GraphQL overhead's levers, measured side by side: the HTTP parser, the event loop, worker processes.

Each configuration is a fresh `provgraph serve` against the same graph; for every signature query its HTTP
p50 is measured interleaved with the same Cypher through the driver (so noise falls on both), and at
concurrency 8 the requests/s of `modelsUsingSource[medium]` against the driver's. orjson is not toggled (it
is always on); its effect is measured on the real answers' bodies instead: encode time with json.dumps vs
orjson.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from bench import b2
from bench.servers import Api

if TYPE_CHECKING:
    import asyncio

    from bench.run import Bench
    from provgraph.neo4j_local.launcher import Connection

CONFIGURATIONS = {
    "h11 + asyncio (before)": {"PROVGRAPH_HTTP": "h11", "PROVGRAPH_LOOP": "asyncio"},
    "httptools + asyncio": {"PROVGRAPH_HTTP": "httptools", "PROVGRAPH_LOOP": "asyncio"},
    "httptools + uvloop (default)": {},
    "httptools + uvloop, 2 workers": {"PROVGRAPH_WORKERS": "2"},
}


def levers(
    loop: asyncio.AbstractEventLoop,
    bench: Bench,
    connection: Connection,
    iterations: int,
    seconds: float,
    work: Path,
) -> dict[str, Any]:
    from bench.run import say

    queries = b2._queries(bench, loop)
    out: dict[str, Any] = {"json_encoding": _encoding(bench, queries)}
    for name, env in CONFIGURATIONS.items():
        api = Api(connection, work / f"levers-{len(out)}.log", env)
        api.start()
        try:
            entry = _configuration(bench, api.url, queries, iterations, seconds)
        finally:
            api.stop()
        out[name] = entry
        worst = max(v["R_gql_p50"] for k, v in entry.items() if k != "concurrency_8")
        say(f"  {name}: worst p50 ratio x{worst}, concurrency 8 x{entry['concurrency_8']['R_throughput']}")
    return out


def _configuration(
    bench: Bench, url: str, queries: list[b2.Query], iterations: int, seconds: float
) -> dict[str, Any]:
    from bench.run import concurrent

    client = httpx.Client(timeout=60)
    entry: dict[str, Any] = {}
    for query in queries:
        actions = {"http": b2.http_call(client, url, bench.headers, query), "raw": b2.raw_call(bench, query)}
        found = b2.interleaved(actions, iterations, warmup=max(5, iterations // 10))
        http_p50, raw_p50 = found["http"]["p50_ms"], found["raw"]["p50_ms"]
        entry[query.name] = {
            "http_p50_ms": http_p50,
            "raw_p50_ms": raw_p50,
            "R_gql_p50": round(http_p50 / raw_p50, 2),
        }
    medium = next(q for q in queries if q.name.startswith("modelsUsingSource[medium"))
    gql = concurrent(b2.pooled_http_call(url, bench.headers, medium, 8), 8, seconds)
    drv = concurrent(b2.raw_call(bench, medium), 8, seconds)
    entry["concurrency_8"] = {
        "http_per_s": gql["throughput_per_s"],
        "driver_per_s": drv["throughput_per_s"],
        "R_throughput": round(gql["throughput_per_s"] / drv["throughput_per_s"], 2),
    }
    return entry


def _encoding(bench: Bench, queries: list[b2.Query]) -> dict[str, Any]:
    """json.dumps vs orjson on each query's real answer body."""
    out = {}
    for query in queries:
        body = bench.http.post(
            bench.api.url, json={"query": query.document, "variables": query.variables}, headers=bench.headers
        ).json()
        n = 200
        started = time.perf_counter()
        for _ in range(n):
            json.dumps(body, separators=(",", ":"))
        plain = (time.perf_counter() - started) / n * 1000
        started = time.perf_counter()
        for _ in range(n):
            orjson.dumps(body)
        fast = (time.perf_counter() - started) / n * 1000
        out[query.name] = {
            "bytes": len(orjson.dumps(body)),
            "json_ms": round(plain, 4),
            "orjson_ms": round(fast, 4),
        }
    return out
