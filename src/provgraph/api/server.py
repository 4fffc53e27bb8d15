"""Running the app under uvicorn with connection-level time limits.

uvicorn closes idle keep-alive connections, but a connection that trickles its request headers (or opens
and sends nothing) is held for as long as the client likes: 1,000 such connections were held for 30 s and
more in a probe. The protocol below gives every request `header_timeout` seconds from its first byte (or
from the connection's opening) to complete its headers, then closes the connection. Slow bodies are bounded
by the BodyLimit middleware.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from provgraph.config import Settings


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request headers do not arrive in time."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        # Waiting for a request's headers: the peer has not sent a complete request line and headers yet.
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        elif not waiting:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def serve(app: Any, settings: Settings, host: str, port: int) -> None:
    """Serve `app` until interrupted, with the connection time limits of `settings`."""
    protocol = type(
        "HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": settings.limits.header_timeout}
    )
    config = uvicorn.Config(
        app, host=host, port=port, log_level="info", access_log=False, http=protocol, timeout_keep_alive=5
    )
    uvicorn.Server(config).run()
