"""B6: the explorer drawing large lineages in headless Chromium — `python -m bench.explorer`.

The real explorer (the built bundle, its lineage page, its GraphQL paging, our layered layout and canvas renderer)
runs in Debian's Chromium. Its pages and assets are served from the built package and its GraphQL
requests are answered with a synthetic lineage shaped like provenance (sources → dataset versions →
slices → runs → model versions → deployments → inferences), so what is timed is the browser's work alone,
not the database's. Sizes are interleaved (500, 1,000, 2,000, 5,000 nodes, round after round) and
medians reported, as in the other benchmarks. For each: layout (ms), render to the first frame with
events wired (ms), the two together ("draw"), navigation to interactive (page load, scripts, the paged
requests, draw), and a click on a node until its properties show. The bundle sizes (bytes and gzip) come
from the build's manifest. The target: a 2,000-node lineage drawn and interactive in under 1 s.

Results go to bench/results/explorer-<time>.json and the B6 section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import measure, report
from bench.servers import ROOT
from provgraph.api import explorer

RESULTS = ROOT / "bench" / "results"
BASE = "http://explorer.bench.invalid"  # never contacted: every request is answered by the route below
SIZES = (500, 1_000, 2_000, 5_000)
ROUNDS = 5
PAGE = 500
FIRST_DRAW = (
    2_000  # the lineage page draws this many nodes, then offers the rest (explorer/src/pages/lineage.ts)
)

# Shares of each kind in a synthetic lineage, roughly those of a busy registry seen downstream of a source.
MIX = (
    ("Source", 0.02),
    ("Dataset", 0.01),
    ("DatasetVersion", 0.18),
    ("Slice", 0.14),
    ("Experiment", 0.01),
    ("Run", 0.14),
    ("Model", 0.01),
    ("ModelVersion", 0.08),
    ("Endpoint", 0.01),
    ("Deployment", 0.06),
    ("Inference", 0.34),
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def synthetic_lineage(
    size: int, seed: int = 42
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A start source and `size` nodes downstream of it, with provenance edges (derived → origin)."""
    rng = random.Random(seed)
    counts = {kind: max(1, round(size * share)) for kind, share in MIX}
    counts["Inference"] += size - sum(counts.values())
    ids: dict[str, list[str]] = {}
    nodes: list[dict[str, Any]] = []
    for kind, count in counts.items():
        prefix = kind[0].lower() + kind[1:]
        ids[kind] = [f"{prefix}:{kind.lower()}-{i:05d}" for i in range(count)]
        for node_id in ids[kind]:
            node: dict[str, Any] = {"__typename": kind, "id": node_id, "name": node_id.split(":", 1)[1]}
            if kind == "ModelVersion":
                node["stage"] = rng.choice(["NONE", "STAGING", "PRODUCTION", "ARCHIVED"])
                node["aliases"] = []
            if kind == "Source":
                node["excludedAt"] = None
            nodes.append(node)
    start = {"__typename": "Source", "id": "source:start", "name": "start", "excludedAt": None}
    edges: list[dict[str, Any]] = []

    def edge(kind: str, a: str, b: str, role: str | None = None) -> None:
        edges.append({"type": kind, "fromId": a, "toId": b, "role": role, "transform": None})

    sources = [start["id"], *ids["Source"]]
    for i, dv in enumerate(ids["DatasetVersion"]):
        edge("VERSION_OF", dv, rng.choice(ids["Dataset"]))
        if i and rng.random() < 0.6:
            edge("DERIVED_FROM", dv, ids["DatasetVersion"][rng.randrange(max(0, i - 20), i)])
        else:
            edge("FROM_SOURCE", dv, rng.choice(sources))
    for sl in ids["Slice"]:
        edge("SUBSET_OF", sl, rng.choice(ids["DatasetVersion"]))
    data = ids["DatasetVersion"] + ids["Slice"]
    for run in ids["Run"]:
        edge("PART_OF", run, rng.choice(ids["Experiment"]))
        for role in rng.sample(["TRAIN", "VALIDATION", "TEST"], rng.randint(1, 3)):
            edge("USED", run, rng.choice(data), role)
    for i, mv in enumerate(ids["ModelVersion"]):
        edge("VERSION_OF", mv, rng.choice(ids["Model"]))
        edge("GENERATED_BY", mv, rng.choice(ids["Run"]))
        if i and rng.random() < 0.2:
            edge("FINE_TUNED_FROM", mv, ids["ModelVersion"][rng.randrange(i)])
    served = {}
    for dep in ids["Deployment"]:
        served[dep] = rng.choice(ids["ModelVersion"])
        edge("OF", dep, served[dep])
    for inf in ids["Inference"]:
        dep = rng.choice(ids["Deployment"])
        edge("SERVED_BY", inf, dep)
        edge("PREDICTED_WITH", inf, served[dep])
    return start, nodes, edges


class Lineages:
    """Answers the explorer's requests: its pages and assets from the build, GraphQL from a synthetic graph."""

    def __init__(self, size: int) -> None:
        self.start, self.nodes, self.edges = synthetic_lineage(size)
        self.requests = 0

    def answer(self, route: Any) -> None:
        url: str = route.request.url
        path = url[len(BASE) :].split("#", 1)[0]
        if path == "/graphql":
            self.answer_graphql(route)
        elif path in ("", "/"):
            route.fulfill(path=str(explorer.STATIC / "index.html"), headers=explorer.PAGE_HEADERS)
        elif path.startswith("/explorer/assets/"):
            route.fulfill(path=str(explorer.STATIC / "assets" / path.rsplit("/", 1)[1]))
        else:
            route.fulfill(status=404, body="not found")

    def answer_graphql(self, route: Any) -> None:
        self.requests += 1
        body = json.loads(route.request.post_data or "{}")
        route.fulfill(status=200, content_type="application/json", body=json.dumps(self.graphql(body)))

    def graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query", "")
        variables = body.get("variables") or {}
        if "lineage(" not in query:
            return {"data": {"node": {}}}  # a selected node's details: nothing more to show here
        offset = int(variables.get("after") or 0)
        chosen = self.nodes[offset : offset + PAGE]
        ids = {n["id"] for n in chosen}
        end = offset + len(chosen)
        data: dict[str, Any] = {
            "lineage": {
                "totalCount": len(self.nodes),
                "isPartial": False,
                "pageInfo": {"hasNextPage": end < len(self.nodes), "endCursor": str(end)},
                "nodes": chosen,
                # As the API pages edges: those that attach this page's nodes.
                "edges": [e for e in self.edges if e["fromId"] in ids],
            }
        }
        if variables.get("withStart"):
            data["start"] = self.start
        return {"data": data}


def chromium_path() -> str:
    for candidate in (
        os.environ.get("PROVGRAPH_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate:
            return candidate
    raise SystemExit("Chromium is needed: apt-get install chromium (or set PROVGRAPH_CHROMIUM)")


def draw_once(browser: Any, size: int) -> dict[str, float]:
    lineages = Lineages(size)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
    try:
        context.route("**/*", lineages.answer)
        context.add_init_script("sessionStorage.setItem('provgraph.token', 'bench')")
        page = context.new_page()
        page.set_default_timeout(60_000)
        # The renderer's main-thread busy time, beside the wall clock: on a shared machine the two differ.
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{BASE}/#/lineage/source%3Astart?direction=DOWNSTREAM&depth=25")
        page.wait_for_selector("#graph[data-ready=true]")
        if size > FIRST_DRAW:
            page.click(".status button.more")
            page.wait_for_function(
                f"() => document.querySelector('#graph[data-ready=true]')?.dataset.nodes === '{size + 1}'"
            )
        busy = _task_seconds(cdp)
        timing = page.evaluate(
            """() => {
                const m = performance.getEntriesByName('provgraph:graph').at(-1);
                const d = document.querySelector('#graph').dataset;
                return { nodes: +d.nodes, edges: +d.edges, layout: +d.layoutMs, render: +d.renderMs,
                         draw: m.duration, interactive: m.startTime + m.duration };
            }"""
        )
        # A click on a source (its panel needs no request), until its properties are on screen.
        target = "source:source-00000"
        point = page.evaluate("(id) => window.provgraph.graph().screen(id)", target)
        began = time.perf_counter()
        page.mouse.click(point["x"], point["y"])
        page.wait_for_selector(f"aside.panel[data-node='{target}']")
        timing["click"] = (time.perf_counter() - began) * 1000
        timing["requests"] = lineages.requests
        timing["main_thread"] = busy * 1000
        return timing
    finally:
        context.close()


def _task_seconds(cdp: Any) -> float:
    """Seconds the page's main thread has been busy since it opened (Chrome's TaskDuration)."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def stats(values: list[float]) -> dict[str, float]:
    return {
        "median": round(measure.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def run(rounds: int = ROUNDS) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    manifest = json.loads((explorer.STATIC / "manifest.json").read_text())
    load_before = [round(x, 2) for x in os.getloadavg()]
    samples: dict[int, list[dict[str, float]]] = {size: [] for size in SIZES}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--headless=new", "--disable-dev-shm-usage"],
        )
        try:
            version = browser.version
            for round_ in range(rounds):
                for size in SIZES:
                    sample = draw_once(browser, size)
                    samples[size].append(sample)
                    say(
                        f"  round {round_ + 1}, {size:,} nodes: layout {sample['layout']:.0f} ms, render "
                        f"{sample['render']:.0f} ms, interactive {sample['interactive']:.0f} ms (main thread busy "
                        f"{sample['main_thread']:.0f} ms), click {sample['click']:.0f} ms"
                    )
        finally:
            browser.close()
    sizes = {}
    for size, runs in samples.items():
        sizes[str(size)] = {
            "nodes": int(runs[0]["nodes"]),
            "edges": int(runs[0]["edges"]),
            "requests": int(runs[0]["requests"]),
            **{
                f"{k}_ms": stats([r[k] for r in runs])
                for k in ("layout", "render", "draw", "interactive", "main_thread", "click")
            },
        }
    draw_2000 = sizes["2000"]["draw_ms"]["median"]
    return {
        "tier": "explorer",
        "started_at": datetime.now(UTC).isoformat(),
        "rounds": rounds,
        "environment": {
            "nproc": os.cpu_count(),
            "cpu": _cpu(),
            "kernel": platform.release(),
            "chromium": version,
            "playwright": metadata.version("playwright"),
            # Other work on the machine stretches wall-clock times; the main thread's busy time less so.
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "bundle": manifest,
        "sizes": sizes,
        "R_draw_2000_of_target": round(draw_2000 / 1000, 3),
    }


def main() -> None:
    say(
        f"B6: the explorer drawing synthetic lineages of {', '.join(f'{s:,}' for s in SIZES)} nodes, {ROUNDS} rounds"
    )
    results = run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"explorer-{results['started_at'][:19].replace('-', '').replace(':', '')}Z.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    say(f"Wrote {path}")
    report.write(ROOT / "docs" / "benchmarks.md", RESULTS)
    say("Updated docs/benchmarks.md")


if __name__ == "__main__":
    main()
