"""The HTTP app: `/graphql`, `/v1/inferences`, `/healthz`, `/readyz`, `/metrics`, and the explorer at `/`.
Its lifespan owns the process's one Neo4j driver (and, when tracing is on, the tracer provider)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provgraph.api import explorer
from provgraph.api.bulk import log_inferences
from provgraph.api.export import export_document
from provgraph.api.graphql_http import GraphQLApp
from provgraph.api.metrics import Metrics, metrics_endpoint
from provgraph.api.middleware import BodyLimit, RequestId
from provgraph.api.observe import Observe
from provgraph.api.openlineage import post_lineage
from provgraph.api.record_keys import register_record_keys
from provgraph.api.schema import build_schema
from provgraph.api.tracing import StatementSpans, instrument, provider_from
from provgraph.config import Settings
from provgraph.domain.errors import ProvgraphError, Unavailable
from provgraph.service.services import Services
from provgraph.store.graph import Graph, open_driver
from provgraph.store.schema import apply_schema
from provgraph.store.warmup import Warmed, warm

log = logging.getLogger("provgraph.api")


class Readiness:
    """Whether Neo4j answers, whether constraints have been applied since this process started, and
    whether the plan cache has been warmed.

    The app starts even when Neo4j is down (it answers 503 on /readyz); constraints are applied on the
    first successful check, so a database that comes up later is prepared without a restart. Warming
    the plans (store/warmup.py) then runs in the background — /healthz answers meanwhile, /readyz says
    503 "warming" — so a load balancer sends traffic only once the first requests will be fast."""

    def __init__(self, graph: Graph, warm_depth: int | None) -> None:
        self.graph = graph
        self.warm_depth = warm_depth
        self.schema_applied = False
        self.warming: asyncio.Task[Warmed] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> None:
        await self.graph.ping()
        if not self.schema_applied:
            async with self._lock:
                if not self.schema_applied:
                    await apply_schema(self.graph)
                    self.schema_applied = True
        if self.warm_depth is None:
            return
        if self.warming is None:
            self.warming = asyncio.create_task(warm(self.graph, self.warm_depth))
        if not self.warming.done():
            raise Unavailable("warming the query plans (store/warmup.py); ready in a few seconds")
        failure = self.warming.exception()
        if failure is not None:  # Neo4j went away meanwhile: warm again on the next check
            self.warming = None
            raise Unavailable(f"warming the query plans failed: {failure}")

    async def stop(self) -> None:
        if self.warming is None:
            return
        if not self.warming.done():
            self.warming.cancel()
        with contextlib.suppress(asyncio.CancelledError, ProvgraphError):
            await self.warming  # also collects a failure nobody asked /readyz about


async def healthz(_: Request) -> Response:
    """The process is alive. Never touches the database."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when Neo4j answers (and constraints are in place), 503 with the reason when not."""
    try:
        await request.app.state.readiness.check()
    except ProvgraphError as exc:
        return JSONResponse({"status": "unavailable", "reason": exc.message}, status_code=503)
    return JSONResponse({"status": "ready"})


async def _compact_periodically(services: Services, every: float, metrics: Metrics) -> None:
    """Move inferences past the hot window to the cold tier every `every` seconds (several replicas may
    all do this: one compaction runs at a time, the others find nothing left or the tier busy)."""
    while True:
        await asyncio.sleep(every)
        started = time.perf_counter()
        try:
            outcome = await services.compaction.compact()
            if outcome.moved or outcome.recovered:
                log.info("compaction moved %d inferences to the cold tier", outcome.moved)
            metrics.background_run("compaction", "ok", time.perf_counter() - started, outcome.moved)
        except ProvgraphError as exc:
            log.warning("compaction skipped: %s", exc.message, extra={"code": exc.code})
            metrics.background_run("compaction", "skipped", time.perf_counter() - started)
        except Exception:  # the schedule must outlive one bad run; the next one retries
            log.exception("compaction failed; retrying in %.0f s", every, extra={"code": "INTERNAL"})
            metrics.background_run("compaction", "failed", time.perf_counter() - started)


async def _seal_periodically(services: Services, every: float, metrics: Metrics) -> None:
    """Seal the columnar path's landing log every `every` seconds (at shutdown too: see the lifespan)."""
    while True:
        await asyncio.sleep(every)
        started = time.perf_counter()
        try:
            outcome = await services.sealer.seal()
            await services.compaction.optimize()  # each seal adds a file per bucket: keep lookups bounded
            if outcome.sealed or outcome.duplicates or outcome.conflicts:
                log.info(
                    "sealed %d inferences (%d repeats dropped, %d conflicts)",
                    outcome.sealed,
                    outcome.duplicates,
                    outcome.conflicts,
                )
            metrics.background_run("seal", "ok", time.perf_counter() - started, outcome.sealed)
        except ProvgraphError as exc:
            log.warning("seal postponed: %s", exc.message, extra={"code": exc.code})
            metrics.background_run("seal", "skipped", time.perf_counter() - started)
        except Exception:
            log.exception("seal failed; retrying in %.0f s", every, extra={"code": "INTERNAL"})
            metrics.background_run("seal", "failed", time.perf_counter() - started)


def _statement_observer(
    metrics: Metrics, spans: StatementSpans | None
) -> Callable[[str], AbstractContextManager[object]]:
    """What Graph runs around each unit of work: the metrics' timer, and a span when tracing is on."""

    @contextmanager
    def observe(name: str) -> Iterator[None]:
        with ExitStack() as stack:
            if spans is not None:
                stack.enter_context(spans.span(name))
            stack.enter_context(metrics.statement(name))
            yield

    return observe


def create_app(settings: Settings | None = None, tracer_provider: TracerProvider | None = None) -> Starlette:
    """Build the app. With no settings, they are read from the environment. Tracing is on when the
    settings name an OTLP endpoint, or when a `tracer_provider` is given (tests give one with an
    in-memory exporter)."""
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.metrics_allow)
    provider = tracer_provider or provider_from(settings)
    spans = StatementSpans(provider, settings.neo4j_database) if provider is not None else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        driver = open_driver(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password,
            connect_timeout=settings.connect_timeout,
        )
        graph = Graph(
            driver, settings.neo4j_database, settings.db_timeout, _statement_observer(metrics, spans)
        )
        app.state.graph = graph
        app.state.services = Services.build(graph, settings)
        metrics.watch_tokens(app.state.services.tokens)
        app.state.readiness = Readiness(graph, settings.max_lineage_depth if settings.warm_plans else None)
        try:
            await app.state.readiness.graph.ping()
            log.info("connected to Neo4j at %s (database %s)", settings.neo4j_uri, settings.neo4j_database)
            with contextlib.suppress(Unavailable):  # still warming: /readyz says so until done
                await app.state.readiness.check()
        except ProvgraphError as exc:
            log.error(
                "cannot use Neo4j at %s: %s; /readyz answers 503 until it can",
                settings.neo4j_uri,
                exc.message,
            )
        compaction = (
            asyncio.create_task(_compact_periodically(app.state.services, settings.compact_every, metrics))
            if settings.compact_every > 0
            else None
        )
        sealing = (
            asyncio.create_task(_seal_periodically(app.state.services, settings.seal_every, metrics))
            if settings.inference_sink == "columnar"
            else None
        )
        try:
            yield
        finally:
            for task in (compaction, sealing):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if sealing is not None:  # what was acknowledged is sealed now rather than at the next start
                try:
                    await app.state.services.sealer.seal()
                except Exception as exc:  # the segments stay on disk; the next start seals them
                    log.warning("the last seal before shutdown failed (%s); the next start seals it", exc)
            await app.state.readiness.stop()
            await graph.close()
            if provider is not None and tracer_provider is None:
                provider.shutdown()  # sends the spans still queued

    schema = build_schema(development=settings.development, limits=settings.limits)
    graphql: Any = GraphQLApp(
        schema,
        # GET /graphql from a browser is answered by GraphQLApp itself: GraphiQL built from local assets
        # (strawberry's own page loads its scripts from a CDN), or in production a pointer to the explorer.
        graphql_ide=None,
        development=settings.development,
        allow_queries_via_get=False,
        suggestions=settings.development,
        max_response_bytes=settings.limits.max_response_bytes,
    )
    app = Starlette(
        middleware=[
            Middleware(RequestId),
            Middleware(Observe, finished=metrics.request_finished, access_log=settings.access_log),
            Middleware(
                BodyLimit,
                max_bytes=settings.limits.max_body_bytes,
                timeout=settings.limits.body_timeout,
                # Record keys are 16 bytes each: ten million keys is a 160 MB body.
                larger={"/v1/record-keys": settings.limits.max_keys_body_bytes},
            ),
        ],
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/v1/inferences", log_inferences, methods=["POST"]),
            Route("/api/v1/lineage", post_lineage, methods=["POST"]),
            Route("/api/v1/lineage/batch", post_lineage, methods=["POST"]),
            Route("/v1/record-keys", register_record_keys, methods=["POST"]),
            Route("/v1/export/{kind}/{subject:path}", export_document, methods=["GET"]),
            *explorer.routes(),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    if provider is not None:
        instrument(app, provider)
    return app
