"""The processes a benchmark run measures: its own Neo4j instance and the API under uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from provgraph.config import Settings
from provgraph.neo4j_local import LocalNeo4j
from provgraph.neo4j_local.launcher import Connection

ROOT = Path(__file__).resolve().parent.parent


def bench_neo4j(tier: str) -> LocalNeo4j:
    """A separate instance, fresh for every run, sized per §6.0 of the performance notes (scaled down for
    the smoke tier so CI machines are not strained)."""
    state = Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))
    heap, pagecache = ("1g", "512m") if tier == "smoke" else ("2g", "2g")
    return LocalNeo4j(state, instance="neo4j-bench", port=0, heap=heap, pagecache=pagecache)


def fresh_neo4j(tier: str, progress: Callable[[str], None]) -> tuple[LocalNeo4j, Connection, Settings]:
    """The tier's benchmark instance, emptied and started, and the settings that reach it."""
    neo4j = bench_neo4j(tier)
    progress(f"Starting a fresh Neo4j for the benchmark ({neo4j.home})...")
    neo4j.reset()
    connection = neo4j.start(progress=progress)
    settings = Settings(
        neo4j_uri=connection.uri, neo4j_user=connection.user, neo4j_password=connection.password
    )
    return neo4j, connection, settings


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
