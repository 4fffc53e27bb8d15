"""Connections that trickle their request are cut off: slow headers and slow bodies cannot hold the API.

(A probe held 1,000 slow-header and 1,000 slow-body connections open for 30 s and more.)"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Tokens
from e2e.conftest import ApiServer
from provgraph.config import Settings

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0


@pytest.fixture
def strict_server(settings: Settings, clean_graph: object, tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        settings,
        tmp_path,
        extra_env={
            "PROVGRAPH_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "PROVGRAPH_BODY_TIMEOUT": str(BODY_TIMEOUT),
        },
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _closed_by_peer(sock: socket.socket, within: float) -> tuple[bool, bytes]:
    """Wait up to `within` seconds for the server to answer and/or close; (closed, what it sent)."""
    sock.settimeout(within)
    received = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True, received
            received += chunk
    except (TimeoutError, OSError):
        return False, received


def test_slow_headers_and_idle_connections_are_closed(strict_server: ApiServer) -> None:
    sockets = []
    for n in range(50):
        sock = socket.create_connection(("127.0.0.1", strict_server.port))
        if n % 2:  # half send a partial request line and then nothing; half send nothing at all
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
        sockets.append(sock)
    try:
        # Well past the header timeout (1 s), every connection has been closed by the server.
        results = [_closed_by_peer(sock, HEADER_TIMEOUT * 5) for sock in sockets]
        assert all(closed for closed, _ in results), "a slow-header connection was held open"
    finally:
        for sock in sockets:
            sock.close()


def test_a_slow_body_is_answered_408_and_closed(strict_server: ApiServer, tokens: Tokens) -> None:
    sock = socket.create_connection(("127.0.0.1", strict_server.port))
    try:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {tokens.admin}\r\n".encode()
            + b"Content-Length: 1000\r\n\r\n{"
        )
        for _ in range(3):  # a byte now and then, never the whole body
            time.sleep(0.4)
            sock.sendall(b" ")
        closed, answer = _closed_by_peer(sock, BODY_TIMEOUT * 5)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"DEADLINE_EXCEEDED" in answer
        assert closed
    finally:
        sock.close()


def test_a_normal_request_still_works(strict_server: ApiServer, tokens: Tokens) -> None:
    import httpx

    response = httpx.post(
        strict_server.url, json={"query": "{ whoami { name } }"}, headers=tokens.header("reader"), timeout=10
    )
    assert response.json() == {"data": {"whoami": {"name": "test-reader"}}}
