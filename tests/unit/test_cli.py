"""The command line's first impressions: its version, and a clear line for a bad port."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provgraph.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"provgraph {version('provgraph')}"


@pytest.mark.parametrize(
    ("port", "message"), [("abc", "must be a port number"), ("70000", "between 0 and 65535")]
)
def test_a_bad_neo4j_port_is_one_clear_line_not_a_traceback(
    port: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVGRAPH_NEO4J_PORT", port)
    monkeypatch.setenv("PROVGRAPH_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["neo4j", "status"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_make_help_lists_every_documented_target_including_the_neo4j_ones() -> None:
    shown = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for target in ("neo4j-start", "neo4j-stop", "neo4j-status", "test-fast", "bench-explorer"):
        assert f"make {target} " in shown
