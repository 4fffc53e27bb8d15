"""B4: one caller must not hurt the others.

A cheap query's latency is measured alone, then while two other clients send, back to back, the most
expensive request the cost budget still allows (aliased impact reports with full pages over the source with
the largest fan-out, as many as fit under the budget). The ratio of the cheap query's p99 under that load to
its p99 alone is the figure; the heavy requests' own latency and response size are reported beside it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from bench import measure
from provgraph.api.cost import DEFAULT_BUDGET, request_cost
from provgraph.api.schema import build_schema

if TYPE_CHECKING:
    from bench.run import Bench

REPORT = (
    'impactReport(sourceId: "{source}") {{ inferences datasetVersions(first: 500) {{ id sourceIds }} '
    "slices(first: 500) {{ id }} runs(first: 500) {{ id key status }} "
    "modelVersions(first: 500) {{ stage inferences modelVersion {{ id }} liveDeployments {{ id }} }} }}"
)


def worst_allowed(source: str, budget: int = DEFAULT_BUDGET) -> tuple[str, int]:
    """As many aliased full-page impact reports as fit under the budget, and the document's cost."""
    schema = build_schema()._schema
    chosen, cost = "", 0
    for aliases in range(1, 31):
        document = "{ " + " ".join(f"r{i}: " + REPORT.format(source=source) for i in range(aliases)) + " }"
        parsed = parse(document)
        operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
        fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
        candidate = request_cost(schema, operation, fragments, {})
        if candidate > budget:
            break
        chosen, cost = document, candidate
    return chosen, cost


def isolation(bench: Bench, seconds: float) -> dict[str, Any]:
    sources = bench.graph.sources
    # The source feeding the most model versions (the generator skews sources), hence the largest report.
    fan_out = {}
    for source in sources[:10]:
        body = bench.http.post(
            bench.api.url,
            json={
                "query": f'{{ impactReport(sourceId: "{source}") {{ modelVersionCount datasetVersionCount }} }}'
            },
            headers=bench.headers,
        ).json()
        report = body["data"]["impactReport"]
        fan_out[source] = report["modelVersionCount"] + report["datasetVersionCount"]
    heaviest = max(fan_out, key=lambda s: fan_out[s])
    heavy_document, heavy_cost = worst_allowed(heaviest)
    cheap_document = f'{{ source(id: "{sources[-1]}") {{ id name kind }} }}'

    def cheap(client: httpx.Client) -> None:
        body = client.post(bench.api.url, json={"query": cheap_document}, headers=bench.headers).json()
        assert "errors" not in body, body

    with httpx.Client(timeout=120) as client:
        for _ in range(20):
            cheap(client)
        alone = _run_for(lambda: cheap(client), seconds)

    stop = threading.Event()
    heavy_samples: list[float] = []
    heavy_bytes: list[int] = []

    def hammer() -> None:
        with httpx.Client(timeout=120) as client:
            while not stop.is_set():
                began = time.perf_counter()
                response = client.post(bench.api.url, json={"query": heavy_document}, headers=bench.headers)
                heavy_samples.append(time.perf_counter() - began)
                heavy_bytes.append(len(response.content))
                assert "errors" not in response.json(), response.text[:300]

    hammers = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in hammers:
        thread.start()
    time.sleep(1.0)  # both heavy requests are in flight
    with httpx.Client(timeout=120) as client:
        loaded = _run_for(lambda: cheap(client), seconds)
    stop.set()
    for thread in hammers:
        thread.join()
    alone_p = measure.percentiles(alone)
    loaded_p = measure.percentiles(loaded)
    return {
        "heavy": {
            "source": heaviest,
            "cost": heavy_cost,
            "budget": DEFAULT_BUDGET,
            "aliases": heavy_document.count("impactReport("),
            "response_bytes_median": sorted(heavy_bytes)[len(heavy_bytes) // 2] if heavy_bytes else 0,
            **measure.percentiles(heavy_samples),
        },
        "cheap_alone": alone_p,
        "cheap_under_load": loaded_p,
        "R_cheap_p99": round(loaded_p["p99_ms"] / alone_p["p99_ms"], 2),
        "R_cheap_p50": round(loaded_p["p50_ms"] / alone_p["p50_ms"], 2),
    }


def _run_for(action: Any, seconds: float) -> list[float]:
    samples = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        began = time.perf_counter()
        action()
        samples.append(time.perf_counter() - began)
    return samples
