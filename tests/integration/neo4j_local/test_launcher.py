"""The local Neo4j launcher, exercised for real: a JVM, Maven's jars, sockets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from provgraph.neo4j_local import LauncherError, LocalNeo4j
from provgraph.neo4j_local.launcher import Connection

ROOT = Path(__file__).resolve().parents[3]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provgraph", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _path_with_only(tmp_path: Path, *tools: str) -> str:
    """A PATH holding just the named tools (and nothing else), to simulate a machine without the rest."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} is needed for this test"
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_missing_java_is_one_clear_message(tmp_path: Path) -> None:
    env = {
        "PATH": _path_with_only(tmp_path),
        "PROVGRAPH_STATE_DIR": str(tmp_path / "state"),
        "HOME": str(tmp_path),
    }
    done = _cli(["neo4j", "start"], env)
    assert done.returncode == 2
    assert "Java is needed" in done.stderr and "openjdk-17" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_maven_is_one_clear_message(tmp_path: Path) -> None:
    env = {
        "PATH": _path_with_only(tmp_path, "java"),
        "PROVGRAPH_STATE_DIR": str(tmp_path / "state"),
        "HOME": str(tmp_path),
    }
    done = _cli(["neo4j", "start"], env)
    assert done.returncode == 2
    assert "Maven (`mvn`) is needed" in done.stderr and "apt-get install maven" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_taken_bolt_port_is_reported_not_waited_on(neo4j_server: Connection, tmp_path: Path) -> None:
    state = Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))  # reuse the fetched jars
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = LocalNeo4j(state, instance=f"porttest-{tmp_path.name}", port=port)
        try:
            with pytest.raises(LauncherError, match=f"port {port} .* already in use"):
                server.start()
        finally:
            shutil.rmtree(server.home, ignore_errors=True)


def test_starting_the_running_server_again_is_harmless(neo4j_server: Connection) -> None:
    if os.environ.get("PROVGRAPH_TEST_NEO4J_URI"):
        pytest.fail("this test checks the project's own launcher; unset PROVGRAPH_TEST_NEO4J_URI to run it")
    state = Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))
    server = LocalNeo4j(state, instance="neo4j-test", port=0)
    before = server.status()
    assert before.running
    assert server.start() == neo4j_server
    assert server.status().pid == before.pid


def test_a_malformed_memory_size_is_rejected() -> None:
    with pytest.raises(LauncherError, match="heap size"):
        LocalNeo4j(Path("/nonexistent"), heap="lots")
