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
from uvicorn.supervisors import Multiprocess

from provgraph.config import Settings


class _HeaderDeadline:
    """Closes a connection whose request headers do not arrive within `config.header_timeout` seconds."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    config: Any
    _header_deadline: asyncio.TimerHandle | None = None

    def _start_watch(self) -> None:
        if self._header_deadline is None and not self.transport.is_closing():
            timeout = getattr(self.config, "header_timeout", 10.0)
            self._header_deadline = self.loop.call_later(timeout, self._headers_too_slow)

    def _stop_watching(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._still_waiting() and not self.transport.is_closing():
            self.transport.close()

    def _still_waiting(self) -> bool:
        raise NotImplementedError


class HeaderTimeoutProtocol(_HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol (pure Python), closing connections whose headers do not arrive in time."""

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
        if self._still_waiting():
            self._start_watch()
        else:
            self._stop_watching()

    def _still_waiting(self) -> bool:
        return bool(self.conn.their_state is h11.IDLE)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    HAS_HTTPTOOLS = True
except ImportError:  # httptools is not installed: the h11 protocol serves
    HAS_HTTPTOOLS = False


if HAS_HTTPTOOLS:

    class HttpToolsHeaderTimeoutProtocol(_HeaderDeadline, HttpToolsProtocol):
        """The same limit on uvicorn's httptools protocol (a C parser; measured in docs/benchmarks.md)."""

        _headers_done = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_watch()  # until the first request's headers are complete

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._headers_done = False
            self._start_watch()

        def on_headers_complete(self) -> None:
            self._headers_done = True
            self._stop_watching()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_watching()
            super().connection_lost(exc)

        def _still_waiting(self) -> bool:
            return not self._headers_done

    HTTPTOOLS_PROTOCOL: type | None = HttpToolsHeaderTimeoutProtocol
else:
    HTTPTOOLS_PROTOCOL = None


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the header time limit the protocols read (it travels with the
    configuration to worker processes)."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout


def serve(app: Any, settings: Settings, host: str, port: int) -> None:
    """Serve `app` until interrupted, with the connection time limits of `settings`.

    With `settings.workers` > 1, uvicorn runs that many processes on one socket, each building its own
    app (and its own Neo4j driver) from the environment; `app` is then not used."""
    parser = settings.http_parser
    protocol: type = HeaderTimeoutProtocol
    if parser != "h11" and HTTPTOOLS_PROTOCOL is not None:
        protocol = HTTPTOOLS_PROTOCOL
    elif parser == "httptools":
        raise RuntimeError("PROVGRAPH_HTTP=httptools needs the httptools package")
    target: Any = app if settings.workers == 1 else "provgraph.api.app:create_app"
    config = ServerConfig(
        target,
        factory=settings.workers > 1,
        workers=settings.workers,
        host=host,
        port=port,
        log_level="info",
        # provgraph configures logging itself (text or JSON, provgraph/logs.py); uvicorn's records go
        # through the same handler. Its access log is off: the Observe middleware writes a richer one.
        log_config=None,
        access_log=False,
        http=protocol,
        loop=settings.event_loop,
        timeout_keep_alive=5,
        header_timeout=settings.limits.header_timeout,
    )
    if settings.workers == 1:
        uvicorn.Server(config).run()
        return
    sock = config.bind_socket()
    Multiprocess(config, sockets=[sock]).run()
