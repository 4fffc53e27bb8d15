"""The scale curve: every signature query, raw Cypher vs HTTP GraphQL, as inferences grow on a large graph.

`python -m bench.scale [--sizes 100000 1000000 …]` (`make bench-scale`). The graph is the `large` tier
(10x standard: 5,000 dataset versions, 20,000 slices, 10,000 runs, 2,000 model versions, 500 endpoints);
inferences are added in steps over a fixed 30-day window (more traffic in the same hours), and at each size
every signature query is measured — raw Cypher through the driver and HTTP GraphQL, interleaved — for p50
and p99. Goal: no query's latency grows more than 1.2x from the smallest size to the largest. Results go to
bench/results/scale-<time>.json, the table to docs/benchmarks.md and the log-log plot to
docs/scale-curve.png. 10M inferences (`--sizes 100000 1000000 10000000`) is a manual run: about 15 minutes
of logging on this machine and a 9 GB store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

from bench import b2, measure, report
from bench.run import RESULTS, Bench, _prepare, say
from bench.servers import ROOT, Api, fresh_neo4j
from bench.synthetic import TIERS, add_inferences
from provgraph.neo4j_local import NEO4J_VERSION

PLOT = ROOT / "docs" / "scale-curve.png"
GOAL = 1.2


def _measure(bench: Bench, query: b2.Query, iterations: int) -> dict[str, Any]:
    actions = {
        "raw_driver": b2.raw_call(bench, query),
        "graphql_http": b2.http_call(bench.http, bench.api.url, bench.headers, query),
    }
    return b2.interleaved(actions, iterations, warmup=5)


def _family(name: str) -> str:
    """A query's name without the size-dependent detail (`modelsUsingSource[medium: 117 versions]`)."""
    return name.split(":")[0] + ("]" if ":" in name and "[" in name else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--iterations", type=int, default=60)
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    started_at = datetime.now(UTC)
    neo4j, connection, settings = fresh_neo4j("large", say)
    work = Path(tempfile.mkdtemp(prefix="provgraph-scale-"))
    loop = asyncio.new_event_loop()
    api = Api(connection, work / "api.log")
    results: dict[str, Any] = {
        "tier": "scale",
        "started_at": started_at.isoformat(),
        "graph": TIERS["large"].__dict__,
        "environment": measure.environment(NEO4J_VERSION, neo4j.heap, neo4j.pagecache),
        "sizes": {},
    }
    try:
        services, store, graph = loop.run_until_complete(_prepare("large", settings))
        token = loop.run_until_complete(b2.bench_token(services))
        api.start()
        with GraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), notifications_min_severity="OFF"
        ) as driver:
            bench = Bench("large", api, driver, services, graph, token)
            logged = 0
            for size in sizes:
                say(f"Logging inferences up to {size:,}...")
                loop.run_until_complete(add_inferences(services, graph, logged, size - logged, say))
                logged = size
                at_size: dict[str, Any] = {}
                for query in b2._queries(bench, loop):
                    at_size[_family(query.name)] = {
                        "name": query.name,
                        **_measure(bench, query, args.iterations),
                    }
                    entry = at_size[_family(query.name)]
                    say(
                        f"  {size:>11,} {query.name}: raw p50 {entry['raw_driver']['p50_ms']} ms, "
                        f"HTTP p50 {entry['graphql_http']['p50_ms']} ms"
                    )
                results["sizes"][str(size)] = at_size
    finally:
        api.stop()
        loop.run_until_complete(store.close()) if "store" in locals() else None
        loop.close()
        neo4j.stop(progress=say)
        shutil.rmtree(work, ignore_errors=True)
    results["growth"] = growth(results["sizes"])
    for name, g in results["growth"].items():
        mark = "met" if g["http_p50"] <= GOAL and g["raw_p50"] <= GOAL else "MISSED"
        say(f"  {name}: p50 grew x{g['raw_p50']} raw, x{g['http_p50']} HTTP ({mark}; goal <= x{GOAL})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"scale-{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    say(f"Wrote {path}")
    plot(results, PLOT)
    say(f"Wrote {PLOT}")
    report.write(ROOT / "docs" / "benchmarks.md", RESULTS)
    say("Updated docs/benchmarks.md")


def growth(sizes: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each query's p50 at the largest size over its p50 at the smallest."""
    ordered = sorted(sizes, key=int)
    first, last = sizes[ordered[0]], sizes[ordered[-1]]
    return {
        name: {
            kind: round(last[name][side]["p50_ms"] / first[name][side]["p50_ms"], 2)
            for kind, side in (("raw_p50", "raw_driver"), ("http_p50", "graphql_http"))
        }
        for name in first
        if name in last
    }


def plot(results: dict[str, Any], target: Path) -> None:
    """p50 against inferences, log-log, one line per query (solid HTTP, dashed raw Cypher)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results["sizes"], key=int)
    figure, axes = plt.subplots(figsize=(9, 5.5))
    names = list(results["sizes"][sizes[0]])
    for index, name in enumerate(names):
        colour = f"C{index % 10}"
        xs = [int(s) for s in sizes if name in results["sizes"][s]]
        for side, style in (("graphql_http", "-"), ("raw_driver", "--")):
            ys = [results["sizes"][str(x)][name][side]["p50_ms"] for x in xs]
            label = name if side == "graphql_http" else None
            axes.plot(xs, ys, style, color=colour, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("inferences in the graph")
    axes.set_ylabel("p50 latency (ms)")
    axes.set_title("Signature queries on the large graph: HTTP GraphQL (solid) and raw Cypher (dashed)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)


if __name__ == "__main__":
    main()
