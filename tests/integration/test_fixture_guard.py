"""The test fixtures empty only a database given to them for testing.

They read PROVGRAPH_TEST_NEO4J_URI, never NEO4J_URI (the service's own variable, which may name a database
that matters), and refuse a database holding data a test session did not mark as its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from neo4j import Driver

from provgraph.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_database_with_foreign_data_is_refused_and_left_untouched(
    settings: Settings, clean_graph: Driver
) -> None:
    clean_graph.execute_query("MATCH (m:ProvgraphTestDatabase) DELETE m", database_="neo4j")
    clean_graph.execute_query("CREATE (:Precious {id: 'keep-me'})", database_="neo4j")
    try:
        env = {
            **os.environ,
            "PROVGRAPH_TEST_NEO4J_URI": settings.neo4j_uri,
            "PROVGRAPH_TEST_NEO4J_USER": settings.neo4j_user,
            "PROVGRAPH_TEST_NEO4J_PASSWORD": settings.neo4j_password or "",
        }
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/integration/api/test_round_trip.py",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 3, run.stdout[-2000:] + run.stderr[-2000:]
        assert "is not a test database" in run.stdout + run.stderr
        records, _, _ = clean_graph.execute_query(
            "MATCH (p:Precious {id: 'keep-me'}) RETURN count(p) AS n", database_="neo4j"
        )
        assert records[0]["n"] == 1
    finally:
        clean_graph.execute_query("MATCH (p:Precious) DELETE p", database_="neo4j")
