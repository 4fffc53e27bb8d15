"""Prometheus metrics at `/metrics`: requests, GraphQL operations, errors, Neo4j statements, inferences,
background work and the token cache.

Each app has its own registry (tests build several apps in one process; a process-wide registry would
refuse the second app's series). With `PROVGRAPH_WORKERS` > 1 each worker process keeps its own numbers
and answers a scrape with them: run one worker per container when the numbers matter (docs/production.md).

Who may read: a client from an address in `PROVGRAPH_METRICS_ALLOW` (default: this machine only), or any
client presenting a valid API token. Label values come from fixed sets (routes, root fields of the schema,
error codes, statement names from the code) or are capped (operation names), so no client can grow the
number of series without bound.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from provgraph.api import jsonbody
from provgraph.api.auth import authenticate
from provgraph.api.observe import RequestRecord
from provgraph.domain.errors import Unauthenticated

if TYPE_CHECKING:
    from provgraph.service.tokens import TokenService

MAX_OPERATION_NAMES = 200  # distinct GraphQL operation names labelled; later ones count as `other`
# Seconds: from sub-millisecond cached reads to the 10 s database timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _TokenCache(Collector):
    """The token cache's hits and misses, read from the service when scraped."""

    def __init__(self) -> None:
        self.tokens: TokenService | None = None

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "provgraph_token_cache_lookups",
            "Bearer-token lookups, by whether the process's cache answered (hit) or Neo4j did (miss)",
            labels=["result"],
        )
        hits, misses = (self.tokens.cache_hits, self.tokens.cache_misses) if self.tokens else (0, 0)
        family.add_metric(["hit"], hits)
        family.add_metric(["miss"], misses)
        yield family


class Metrics:
    """The app's instruments, fed by finished request records, Neo4j statements and background work."""

    def __init__(self, allow: Sequence[str] = ("127.0.0.1/32", "::1/128")) -> None:
        self.allow = [ipaddress.ip_network(network, strict=False) for network in allow]
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "provgraph_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "provgraph_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.operations = Counter(
            "provgraph_graphql_operations",
            "GraphQL operations, once per root field they select",
            ["operation", "root_field", "type"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "provgraph_graphql_operation_duration_seconds",
            "Time to answer a GraphQL operation, by operation name and root field",
            ["operation", "root_field"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "provgraph_errors", "Errors answered, by machine-readable code", ["code", "route"], registry=r
        )
        self.statement_seconds = Histogram(
            "provgraph_neo4j_statement_duration_seconds",
            "Time of one unit of work in Neo4j (a read, or a write transaction), retries included, "
            "by the store function that ran it",
            ["statement"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inferences = Counter(
            "provgraph_inferences",
            "Inferences sent to POST /v1/inferences, by outcome (accepted, duplicate, rejected)",
            ["outcome"],
            registry=r,
        )
        self.lineage_events = Counter(
            "provgraph_openlineage_events",
            "OpenLineage events taken in, by outcome (RECORDED, DUPLICATE, or the refusal's code)",
            ["outcome"],
            registry=r,
        )
        self.moved = Counter(
            "provgraph_inferences_moved",
            "Inferences moved to the cold tier, by how (compaction from the graph, seal of the landing log)",
            ["by"],
            registry=r,
        )
        self.background = Counter(
            "provgraph_background_runs",
            "Runs of the server's background work (compaction, seal), by outcome (ok, skipped, failed)",
            ["task", "outcome"],
            registry=r,
        )
        self.background_seconds = Histogram(
            "provgraph_background_run_duration_seconds",
            "Time of one background run",
            ["task"],
            buckets=(0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0),
            registry=r,
        )
        self._token_cache = _TokenCache()
        r.register(self._token_cache)
        self._operation_names: set[str] = set()

    def watch_tokens(self, tokens: TokenService) -> None:
        """Report this token service's cache (the app's services exist only once its lifespan starts)."""
        self._token_cache.tokens = tokens

    def request_finished(self, record: RequestRecord) -> None:
        """Count one answered request (the Observe middleware calls this)."""
        route = record.route
        self.requests.labels(route, record.method, str(record.status)).inc()
        self.request_seconds.labels(route).observe(record.duration)
        for code in record.codes:
            self.errors.labels(code, route).inc()
        if record.operation_type is not None:
            operation = self._operation_label(record.operation)
            for field in record.root_fields or ("",):
                self.operations.labels(operation, field, record.operation_type).inc()
                self.operation_seconds.labels(operation, field).observe(record.duration)
        if record.inferences is not None:
            self.inferences.labels("accepted").inc(record.inferences.accepted)
            self.inferences.labels("duplicate").inc(record.inferences.duplicates)
            self.inferences.labels("rejected").inc(record.inferences.rejected)
        for outcome, count in record.lineage_events.items():
            self.lineage_events.labels(outcome).inc(count)

    def _operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._operation_names:
            return name
        if len(self._operation_names) < MAX_OPERATION_NAMES:
            self._operation_names.add(name)
            return name
        return "other"

    @contextmanager
    def statement(self, name: str) -> Iterator[None]:
        """Time one unit of work in Neo4j."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.statement_seconds.labels(name).observe(time.perf_counter() - started)

    def background_run(self, task: str, outcome: str, seconds: float, moved: int = 0) -> None:
        """Count one compaction or seal run and the inferences it moved to the cold tier."""
        self.background.labels(task, outcome).inc()
        self.background_seconds.labels(task).observe(seconds)
        if moved:
            self.moved.labels("compaction" if task == "compaction" else "seal").inc(moved)

    def allowed_address(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.allow)


async def metrics_endpoint(request: Request) -> Response:
    """`GET /metrics`: the Prometheus text format, for an allowed address or a valid token."""
    metrics: Metrics = request.app.state.metrics
    client = request.client.host if request.client else None
    if not metrics.allowed_address(client):
        request_id = str(getattr(request.state, "request_id", ""))
        principal, failure = await authenticate(request.app.state.services, request)
        if failure is not None:
            return jsonbody.rest_error_response(failure, request_id)
        if principal is None:
            refusal = Unauthenticated(
                f"{client or 'this client'} may read metrics only with a valid bearer token "
                "(or list its address in PROVGRAPH_METRICS_ALLOW)"
            )
            return jsonbody.rest_error_response(refusal, request_id)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
