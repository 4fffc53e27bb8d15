"""What each request was and how it went, noted once and read by the access log, the metrics and the trace.

The `Observe` middleware opens a `RequestRecord` for every HTTP request and puts it in a context variable;
the layers that learn something fill it in as they go (authentication: the principal; the GraphQL
extension below: the operation and its root fields; error responses: the codes; the inference route: the
batch's counts). When the response is sent, the middleware writes one access-log line from the record
and hands it to the metrics. One record, three readers, so the log line, the Prometheus series and the
trace's attributes always agree.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from provgraph.api.operation import root_fields

access_log = logging.getLogger("provgraph.access")

# The routes a metric may name: a fixed set, so a scanner probing random paths cannot grow the series.
_ROUTES = (
    ("/graphql", "/graphql"),
    ("/v1/inferences", "/v1/inferences"),
    ("/v1/record-keys", "/v1/record-keys"),
    ("/api/v1/lineage/batch", "/api/v1/lineage/batch"),
    ("/api/v1/lineage", "/api/v1/lineage"),
    ("/v1/export/", "/v1/export"),
    ("/healthz", "/healthz"),
    ("/readyz", "/readyz"),
    ("/metrics", "/metrics"),
)
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def route_of(path: str) -> str:
    """The route a path belongs to, for labels: one of a fixed set, else `other` (the explorer's pages)."""
    for prefix, route in _ROUTES:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return route
    return "other"


@dataclass
class InferenceCounts:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass
class RequestRecord:
    """One request, as the access log, the metrics and the trace describe it."""

    request_id: str
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    status: int = 0
    operation: str | None = None  # the GraphQL operation's name as the client sent it (checked)
    operation_type: str | None = None  # query or mutation
    root_fields: tuple[str, ...] = ()
    principal: str | None = None  # the token's name, once authenticated
    codes: list[str] = field(default_factory=list)  # machine-readable codes of the errors answered
    inferences: InferenceCounts | None = None
    lineage_events: dict[str, int] = field(default_factory=dict)  # OpenLineage events by outcome
    duration: float = 0.0

    @property
    def route(self) -> str:
        return route_of(self.path)

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.codes else None

    def log_fields(self) -> dict[str, object]:
        """The record as the access log's structured fields (a JSON log line's keys)."""
        fields: dict[str, object] = {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "duration_ms": round(self.duration * 1000, 2),
        }
        optional: dict[str, object | None] = {
            "operation": self.operation,
            "operation_type": self.operation_type,
            "root_fields": list(self.root_fields) or None,
            "principal": self.principal,
            "code": self.code,
            "codes": self.codes if len(self.codes) > 1 else None,
        }
        fields.update({key: value for key, value in optional.items() if value is not None})
        if self.inferences is not None:
            fields["inferences"] = vars(self.inferences)
        if self.lineage_events:
            fields["lineage_events"] = self.lineage_events
        return fields


_current: ContextVar[RequestRecord | None] = ContextVar("provgraph_request", default=None)


def current() -> RequestRecord | None:
    """The record of the request being served in this context, if any (None in the CLI and in tests
    that call services directly)."""
    return _current.get()


def note_principal(name: str | None) -> None:
    record = _current.get()
    if record is not None and name is not None:
        record.principal = name


def note_codes(codes: Iterable[str]) -> None:
    """The codes of the errors a response carries (each kept once, in order)."""
    record = _current.get()
    if record is None:
        return
    for code in codes:
        if code not in record.codes:
            record.codes.append(code)


def note_inferences(accepted: int, duplicates: int, rejected: int) -> None:
    record = _current.get()
    if record is not None:
        record.inferences = InferenceCounts(accepted, duplicates, rejected)


def note_lineage_events(outcomes: Iterable[str]) -> None:
    """The outcome of each OpenLineage event taken in (RECORDED, DUPLICATE, or the refusal's code)."""
    record = _current.get()
    if record is not None:
        for outcome in outcomes:
            record.lineage_events[outcome] = record.lineage_events.get(outcome, 0) + 1


class Observe:
    """Opens the request's record, times it, and when the response is done writes the access-log line
    (if `access_log`) and gives the record to `finished` (the metrics). Runs inside RequestId, so the
    record carries the request id; puts the id on the trace's current span too."""

    def __init__(
        self, app: ASGIApp, finished: Callable[[RequestRecord], None], access_log: bool = True
    ) -> None:
        self.app = app
        self.finished = finished
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str((scope.get("state") or {}).get("request_id", ""))
        record = RequestRecord(request_id, scope.get("method", ""), scope.get("path", ""))
        trace.get_current_span().set_attribute("provgraph.request_id", request_id)
        token = _current.set(record)

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except Exception:
            record.status = record.status or 500
            note_codes(["INTERNAL"])
            raise
        finally:
            _current.reset(token)
            record.duration = time.perf_counter() - record.started
            self._done(record)

    def _done(self, record: RequestRecord) -> None:
        if self.access_log and record.route not in ("/healthz", "/readyz", "/metrics"):
            # Probes and scrapes every few seconds would drown the lines people read; the metrics count them.
            access_log.info(
                "%s %s %d %.1f ms%s%s",
                record.method,
                record.path,
                record.status,
                record.duration * 1000,
                f" {record.operation}" if record.operation else "",
                f" {record.code}" if record.code else "",
                extra=record.log_fields(),
            )
        self.finished(record)


class OperationRecorder(SchemaExtension):
    """Notes the GraphQL operation's name, type and root fields on the request's record and its span."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        record = _current.get()
        name = getattr(context, "_provided_operation_name", None) or context.operation_name
        operation = name if name and _OPERATION_NAME.fullmatch(name) else None
        kind = context.operation_type.value if context.graphql_document is not None else None
        fields = tuple(sorted(root_fields(context)))
        if record is not None:
            record.operation, record.operation_type, record.root_fields = operation, kind, fields
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("graphql.operation.name", operation or "")
            span.set_attribute("graphql.operation.type", kind or "")
            span.set_attribute("provgraph.root_fields", list(fields))
        yield
