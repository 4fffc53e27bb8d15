"""B2: each signature query through (a) raw Cypher on the driver, (b) in-process GraphQL, (c) HTTP GraphQL.

(a) runs exactly the statement and parameters the store sends; (b) and (c) go through the whole service.
The three are interleaved per iteration so noise falls on all of them alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from neo4j import RoutingControl

from bench import measure
from provgraph.api.context import Context
from provgraph.api.loaders import build_loaders
from provgraph.api.schema import build_schema
from provgraph.domain.auth import Principal, Role
from provgraph.domain.lineage import Direction
from provgraph.domain.records import Caller
from provgraph.domain.time import LATEST
from provgraph.service.services import Services
from provgraph.store import lineage
from provgraph.store.serving import DEPLOYED_AT

if TYPE_CHECKING:
    from bench.run import Bench

DEPTH = 25
CAP = 10_000


async def bench_token(services: Services) -> str:
    """The token the benchmark's requests carry."""
    created = await services.tokens.create("bench", Role.ADMIN, Caller("bench"))
    return created.secret


@dataclass(frozen=True)
class Query:
    """A signature query as GraphQL, and as the Cypher the store sends for it: one statement, plus — for
    the reports whose pages are loaded by id — the follow-up statement `follow` builds from the first's
    record (what the GraphQL side's loaders send)."""

    name: str
    document: str
    variables: dict[str, Any]
    cypher: str
    params: dict[str, Any]
    follow: Callable[[Any], list[tuple[str, dict[str, Any]]]] | None = None


def _page_of(ids: list[str], size: int = 100) -> list[str]:
    return sorted(ids)[:size]


def _entities(*lists: list[str]) -> tuple[str, dict[str, Any]]:
    return lineage.ENTITIES_BY_IDS, {"ids": [i for ids in lists for i in _page_of(ids)]}


def _queries(bench: Bench, loop: asyncio.AbstractEventLoop) -> list[Query]:
    graph = bench.graph
    provenance = bench.services.provenance
    counts = []
    for source in graph.sources:
        page = loop.run_until_complete(provenance.models_using_source(source, None, None, None, 1, None, 0))
        counts.append((page.total, source))
    counts = sorted(c for c in counts if c[0] > 0)
    picks = {"small": counts[0], "medium": counts[len(counts) // 2], "large": counts[-1]}
    now = datetime.now(UTC)
    queries = []
    for size, (total, source) in picks.items():
        queries.append(
            Query(
                f"modelsUsingSource[{size}: {total} versions]",
                """query($s: ID!) { modelsUsingSource(sourceId: $s, stage: PRODUCTION, first: 100) {
                     totalCount items { stage modelVersion { id version } deployments { id endpointId } paths { nodeIds } } } }""",
                {"s": source},
                lineage.models_using_source_query(DEPTH),
                {
                    "sourceId": source,
                    "stage": "PRODUCTION",
                    "asOf": now,
                    "knownAt": LATEST,
                    "after": None,
                    "limit": 101,
                    "maxPaths": 3,
                },
            )
        )
    inference = "inference:" + graph.inference_keys[len(graph.inference_keys) // 2]
    queries.append(
        Query(
            "traceInference",
            """query($i: ID!) { traceInference(inferenceId: $i) { modelVersion { id } deployment { id }
                 runs { id key } datasetVersions { id } slices { id } sources { id } fineTuneChain { id } } }""",
            {"i": inference},
            lineage.trace_inference_query(DEPTH),
            {"inferenceId": inference},
            lambda r: [
                _entities([i for i in r["upstream"] if not i.startswith("model")], r["fineTuneChain"])
            ],
        )
    )
    version = graph.production[len(graph.production) // 2]
    queries.append(
        Query(
            "lineage[upstream, first 100]",
            """query($n: ID!) { lineage(nodeId: $n, first: 100) { totalCount isPartial
                 nodes { __typename ... on Source { id } ... on DatasetVersion { id } ... on Slice { id } ... on Run { id } }
                 edges { type fromId toId } } }""",
            {"n": version},
            lineage.lineage_query("ModelVersion", Direction.UPSTREAM, DEPTH),
            {
                "nodeId": version,
                "asOf": now,
                "knownAt": LATEST,
                "labels": None,
                "after": None,
                "first": 100,
                "limit": 101,
                "cap": CAP,
                "capPlusOne": CAP + 1,
            },
        )
    )
    medium = picks["medium"][1]
    queries.append(
        Query(
            "impactReport[medium]",
            """query($s: ID!) { impactReport(sourceId: $s) { inferences firstUsedAt
                 datasetVersions { id } runs { id } modelVersions { stage inferences modelVersion { id } liveDeployments { id } } } }""",
            {"s": medium},
            lineage.impact_query(DEPTH),
            {"sourceId": medium, "asOf": now, "knownAt": LATEST, "cap": CAP, "capPlusOne": CAP + 1},
            lambda r: [
                _entities(r["versions"], r["runs"]),
                (
                    lineage.AFFECTED_VERSIONS,
                    {"ids": _page_of([c[0] for c in r["inferenceCounts"]]), "asOf": now, "knownAt": LATEST},
                ),
            ],
        )
    )
    queries.append(
        Query(
            "deployedAt",
            """query($e: String!) { deployedAt(endpoint: $e) { id modelVersionId trafficShare } }""",
            {"e": graph.endpoints[0]},
            DEPLOYED_AT,
            {"endpointId": "endpoint:" + graph.endpoints[0], "at": now, "knownAt": LATEST},
        )
    )
    first_version = graph.versions_by_level[0][0]
    queries.append(
        Query(
            "consumers",
            """query($d: ID!) { consumers(datasetVersionId: $d) { runs { direct run { id } } modelVersions { id } endpoints { id } } }""",
            {"d": first_version},
            lineage.consumers_query("DatasetVersion", DEPTH),
            {"id": first_version},
            lambda r: [_entities(r["runs"], r["modelVersions"], r["endpoints"])],
        )
    )
    return queries


def raw_call(bench: Bench, query: Query) -> Callable[[], None]:
    """The query as the store sends it: its statement, then the follow-up its record calls for."""

    def raw() -> None:
        records, _, _ = bench.driver.execute_query(
            query.cypher, query.params, database_="neo4j", routing_=RoutingControl.READ
        )
        for cypher, params in query.follow(records[0]) if query.follow else []:
            bench.driver.execute_query(cypher, params, database_="neo4j", routing_=RoutingControl.READ)

    return raw


def http_call(client: httpx.Client, url: str, headers: dict[str, str], query: Query) -> Callable[[], None]:
    """The query as a GraphQL request over HTTP; an answer with errors fails the benchmark."""
    body = {"query": query.document, "variables": query.variables}

    def http() -> None:
        answer = client.post(url, json=body, headers=headers).json()
        assert "errors" not in answer, answer

    return http


def interleaved(
    actions: dict[str, Callable[[], None]], iterations: int, warmup: int
) -> dict[str, dict[str, float]]:
    """Percentiles of each action, run in turn (A B A B …) so machine noise falls on all alike."""
    for action in actions.values():
        for _ in range(warmup):
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(iterations):
        for name, action in actions.items():
            samples[name].append(measure.timed(action, 1)[0])
    return {name: measure.percentiles(values) for name, values in samples.items()}


def reads(
    loop: asyncio.AbstractEventLoop,
    bench: Bench,
    iterations: int,
    concurrency_seconds: float,
    cpu: measure.CpuMeter,
) -> dict[str, Any]:
    from bench.run import concurrent

    schema = build_schema(development=False)
    services = bench.services
    principal = Principal("bench", Role.ADMIN, "token:bench")
    results: dict[str, Any] = {}
    for query in _queries(bench, loop):

        def in_process(q: Query = query) -> None:
            context = Context(None, None, services, build_loaders(services), principal, "bench")
            result = loop.run_until_complete(schema.execute(q.document, q.variables, context_value=context))
            assert not result.errors, result.errors

        raw = raw_call(bench, query)
        actions = {
            "raw_driver": raw,
            "graphql_in_process": in_process,
            "graphql_http": http_call(bench.http, bench.api.url, bench.headers, query),
        }
        entry: dict[str, Any] = interleaved(actions, iterations, warmup=max(5, iterations // 10))
        entry["R_gql_p50"] = round(entry["graphql_http"]["p50_ms"] / entry["raw_driver"]["p50_ms"], 2)
        entry["R_gql_p99"] = round(entry["graphql_http"]["p99_ms"] / entry["raw_driver"]["p99_ms"], 2)
        entry["R_http_p50"] = round(
            entry["graphql_http"]["p50_ms"] / entry["graphql_in_process"]["p50_ms"], 2
        )
        results[query.name] = entry
        measure_line = f"  {query.name}: raw {entry['raw_driver']['p50_ms']:.2f} ms, HTTP {entry['graphql_http']['p50_ms']:.2f} ms (x{entry['R_gql_p50']})"
        print(measure_line, flush=True)

        if query.name.startswith("modelsUsingSource[medium"):
            before = cpu.snapshot()
            one = pooled_http_call(bench.api.url, bench.headers, query, 8)
            entry["http_concurrency_8"] = concurrent(one, 8, concurrency_seconds)
            spent = measure.CpuMeter.spent(before, cpu.snapshot())
            done = entry["http_concurrency_8"]["n"]
            entry["http_concurrency_8"]["cpu_seconds_per_request"] = {
                k: round(v / done, 5) for k, v in spent.items()
            }
            raw_conc = concurrent(raw, 8, concurrency_seconds)
            entry["raw_driver_concurrency_8"] = raw_conc
    return results


def pooled_http_call(url: str, headers: dict[str, str], query: Query, threads: int) -> Callable[[], None]:
    """`http_call` for `threads` threads at once: each call borrows one of their HTTP clients."""
    clients = threading_clients(threads)

    def one() -> None:
        client = clients.get()
        try:
            http_call(client, url, headers, query)()
        finally:
            clients.put(client)

    return one


def threading_clients(n: int) -> Any:
    import queue

    pool: queue.Queue[httpx.Client] = queue.Queue()
    for _ in range(n):
        pool.put(httpx.Client(timeout=60))
    return pool
