"""OpenTelemetry tracing: a span per HTTP request (the Starlette instrumentation) and, inside it, a span per
unit of work in Neo4j named by the store function that ran it (never its parameters).

Off unless an OTLP endpoint is configured with the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; the exporter reads its headers, protocol and timeouts from the other
`OTEL_EXPORTER_OTLP_*` variables itself). The app keeps its own tracer provider rather than installing a
global one, so tests can build apps with in-memory exporters side by side.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Tracer
from starlette.applications import Starlette

from provgraph import __version__
from provgraph.config import Settings


def provider_from(settings: Settings) -> TracerProvider | None:
    """A provider exporting over OTLP/HTTP when the settings name an endpoint, else None (tracing off)."""
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name, "service.version": __version__})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def instrument(app: Starlette, provider: TracerProvider) -> None:
    """Open a server span per request (outermost, so the request id and the operation land on it)."""
    StarletteInstrumentor.instrument_app(app, tracer_provider=provider)


class StatementSpans:
    """Opens a client span per unit of work in Neo4j; `database` is the attribute `db.namespace`."""

    def __init__(self, provider: TracerProvider, database: str) -> None:
        self.tracer: Tracer = provider.get_tracer("provgraph.store", __version__)
        self.database = database

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        attributes = {"db.system.name": "neo4j", "db.namespace": self.database, "db.operation.name": name}
        with self.tracer.start_as_current_span(f"neo4j {name}", kind=SpanKind.CLIENT, attributes=attributes):
            yield
