"""ASGI middleware at the HTTP edge: request ids, and bounded request bodies (in size and in time)."""

from __future__ import annotations

import asyncio
import re
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provgraph.api.observe import note_codes

_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


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
        request_id = incoming if _CLIENT_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimit:
    """Refuse request bodies larger than `max_bytes` (413) or slower than `timeout` seconds to arrive (408),
    before any of it is parsed. Bodies are read (bounded) before the app sees them, so a chunked upload
    cannot slip past the Content-Length check and a client trickling its body cannot hold a request open."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, timeout: float = 30.0, larger: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.larger = larger or {}  # paths allowed a larger body (binary uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, send, 413, "LIMIT_EXCEEDED", self._too_large(max_bytes))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(self.timeout):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > max_bytes:
                        await self._refuse(scope, send, 413, "LIMIT_EXCEEDED", self._too_large(max_bytes))
                        return
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            message_text = f"the request body did not arrive within {self.timeout:g} s"
            await self._refuse(scope, send, 408, "DEADLINE_EXCEEDED", message_text)
            return
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, max_bytes: int) -> str:
        return f"the request body is larger than {max_bytes} bytes"

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str, message: str) -> None:
        request_id = (scope.get("state") or {}).get("request_id")
        error = {"code": code, "message": message, "field": None, "requestId": request_id}
        # Both shapes: this runs before routing, so it cannot know whether a GraphQL or a REST client asks.
        body = {
            "errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}],
            "error": error,
        }
        note_codes([code])
        headers = {"connection": "close"} if status == 408 else None
        response = JSONResponse(body, status_code=status, headers=headers)
        await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
