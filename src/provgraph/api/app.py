"""The HTTP app: `/graphql`, `/healthz`, `/readyz`. Its lifespan owns the process's one Neo4j driver."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from provgraph.api.auth import authenticate
from provgraph.api.bulk import log_inferences
from provgraph.api.context import Context
from provgraph.api.errors import with_code
from provgraph.api.loaders import build_loaders
from provgraph.api.schema import build_schema
from provgraph.config import Settings
from provgraph.domain.errors import ProvgraphError
from provgraph.service.services import Services
from provgraph.store.graph import Graph, open_driver
from provgraph.store.schema import apply_schema

log = logging.getLogger("provgraph.api")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class Readiness:
    """Whether Neo4j answers, and whether constraints have been applied since this process started.

    The app starts even when Neo4j is down (it answers 503 on /readyz); constraints are applied on the
    first successful check, so a database that comes up later is prepared without a restart."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.schema_applied = False
        self._lock = asyncio.Lock()

    async def check(self) -> None:
        await self.graph.ping()
        if not self.schema_applied:
            async with self._lock:
                if not self.schema_applied:
                    await apply_schema(self.graph)
                    self.schema_applied = True


class RequestId:
    """Gives every HTTP request an id (the client's `X-Request-Id` if sane), echoed in the response and
    quoted in errors and log lines, so a user's report can be matched to the server's log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _CLIENT_REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimit:
    """Refuse request bodies larger than `max_bytes` with 413, before any of it is parsed. Bodies are read
    (bounded) before the app sees them, so a chunked upload cannot slip past the Content-Length check."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request_id = (scope.get("state") or {}).get("request_id")
        message = f"the request body is larger than {self.max_bytes} bytes"
        error = {"code": "LIMIT_EXCEEDED", "message": message, "field": None, "requestId": request_id}
        body = {
            "errors": [
                {"message": message, "extensions": {"code": "LIMIT_EXCEEDED", "requestId": request_id}}
            ],
            "error": error,
        }
        response = JSONResponse(body, status_code=413)
        await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


class GraphQLApp(GraphQL[Context, None]):
    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Errors raised inside strawberry's own parse/validate hooks (the token limit, a syntax error) bypass
        # the schema extensions; give them their code here so every HTTP error carries one.
        if result.errors:
            request_id = getattr(request.state, "request_id", None)
            result.errors = [with_code(error, request_id) for error in result.errors]
        return await super().process_result(request, result)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.app.state
        if not state.readiness.schema_applied:
            with suppress(ProvgraphError):  # the resolvers report UNAVAILABLE themselves
                await state.readiness.check()
        services: Services = state.services
        principal, failure = await authenticate(services, request)
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            services=services,
            loaders=build_loaders(services),
            principal=principal,
            request_id=str(getattr(request.state, "request_id", "") or uuid.uuid4().hex[:16]),
            auth_failure=failure,
        )


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


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app. With no settings, they are read from the environment."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        driver = open_driver(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password,
            connect_timeout=settings.connect_timeout,
            retry_time=settings.db_timeout / 2,
        )
        graph = Graph(driver, settings.neo4j_database, settings.db_timeout)
        app.state.graph = graph
        app.state.services = Services.build(graph, settings)
        app.state.readiness = Readiness(graph)
        try:
            await app.state.readiness.check()
            log.info("connected to Neo4j at %s (database %s)", settings.neo4j_uri, settings.neo4j_database)
        except ProvgraphError as exc:
            log.error(
                "cannot use Neo4j at %s: %s; /readyz answers 503 until it can",
                settings.neo4j_uri,
                exc.message,
            )
        try:
            yield
        finally:
            await graph.close()

    schema = build_schema(development=settings.development, limits=settings.limits)
    graphql: Any = GraphQLApp(
        schema,
        graphql_ide="graphiql" if settings.development else None,
        allow_queries_via_get=False,
    )
    app = Starlette(
        middleware=[Middleware(RequestId), Middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes)],
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/v1/inferences", log_inferences, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
