"""The real service over real HTTP: uvicorn in a subprocess, on a free port, against the test Neo4j."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provgraph.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServer:
    """`provgraph serve` as a child process, which tests can stop and start again on the same port."""

    def __init__(self, settings: Settings, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "NEO4J_URI": settings.neo4j_uri,
            "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password or "",
            "PROVGRAPH_PORT": str(self.port),
            "PROVGRAPH_ENV": "development",
            "PROVGRAPH_AUDIT_KEY": (settings.audit_key or b"").decode(),
            # The session's in-process app warms the test server's plan cache once (tests/conftest.py);
            # each of the many servers started here would only repeat it.
            "PROVGRAPH_WARM_PLANS": "0",
            **(extra_env or {}),
        }
        self.log_path = log_dir / f"api-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "provgraph", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180  # the first start on a fresh Neo4j warms its plan cache
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the API did not become ready: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def api_server(settings: Settings, clean_graph: object, tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(settings, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
