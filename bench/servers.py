"""The processes a benchmark run measures: its own Neo4j instance and the API under uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from provgraph.neo4j_local import LocalNeo4j
from provgraph.neo4j_local.launcher import Connection

ROOT = Path(__file__).resolve().parent.parent


def bench_neo4j(tier: str) -> LocalNeo4j:
    """A separate instance, fresh for every run, sized per §6.0 of the performance notes (scaled down for
    the smoke tier so CI machines are not strained)."""
    state = Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))
    heap, pagecache = ("1g", "512m") if tier == "smoke" else ("2g", "2g")
    return LocalNeo4j(state, instance="neo4j-bench", port=0, heap=heap, pagecache=pagecache)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Api:
    """`provgraph serve` (one uvicorn worker) against the benchmark's Neo4j."""

    def __init__(
        self, connection: Connection, log_path: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/graphql"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "NEO4J_URI": connection.uri,
            "NEO4J_USER": connection.user,
            "NEO4J_PASSWORD": connection.password,
            "PROVGRAPH_PORT": str(self.port),
            "PROVGRAPH_ENV": "production",
            "PROVGRAPH_DB_TIMEOUT": "60",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "provgraph", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180  # ready once the plan cache is warm (store/warmup.py)
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()  # not left running behind the error (a failed bench run once left one serving)
        raise RuntimeError(f"the API did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None
