"""Fixtures, composed in one chain: a real Neo4j → a clean graph → the app → a GraphQL client.

Where the Neo4j comes from, in order: `PROVGRAPH_TEST_NEO4J_URI` if set (with `PROVGRAPH_TEST_NEO4J_USER` /
`PROVGRAPH_TEST_NEO4J_PASSWORD`); else the local server the project runs from Maven Central jars (instance
`neo4j-test`, any free port; stopped at the end if this session started it); else testcontainers when a
Docker engine exists. With none of these the session fails: it never skips for lack of a database.

The tests empty the database before each test, so they never read `NEO4J_URI` — the variable the service
itself uses, which may well name a database that matters. A database given through
`PROVGRAPH_TEST_NEO4J_URI` is wiped only if it is empty or carries the marker a test session leaves in it;
anything else stops the session with an explanation.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase
from starlette.testclient import TestClient

from provgraph.admin import create_token
from provgraph.api.app import create_app
from provgraph.config import Settings, state_dir_from
from provgraph.domain.retention import ColdLocation
from provgraph.neo4j_local import LauncherError, LocalNeo4j
from provgraph.neo4j_local.launcher import Connection
from story import Story, load_story

ROOT = Path(__file__).resolve().parent.parent
TEST_INSTANCE = "neo4j-test"
TEST_AUDIT_KEY = b"provgraph-test-audit-key-0001"

GraphQL = Callable[..., dict[str, Any]]

# The real peers the tests drive (MLflow, OpenLineage's client) must not phone home: the machine may have no
# internet, and a test suite has no business sending telemetry. Subprocesses inherit these.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def _local_server() -> tuple[Connection, LocalNeo4j | None]:
    """Start (or reuse) the local test server; the second value is set when this session started it."""
    server = LocalNeo4j.from_env(
        state_dir_from({**os.environ, "PROVGRAPH_STATE_DIR": str(_state_dir())}), TEST_INSTANCE, port=0
    )
    already = server.status()
    if already.running and already.connection is not None:
        return already.connection, None
    return server.start(progress=print), server


def _state_dir() -> Path:
    return Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Connection]:
    if uri := os.environ.get("PROVGRAPH_TEST_NEO4J_URI"):
        given = Connection(
            uri,
            os.environ.get("PROVGRAPH_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("PROVGRAPH_TEST_NEO4J_PASSWORD", ""),
        )
        _claim_for_tests(given)
        yield given
        return
    reasons = []
    try:
        connection, started = _local_server()
    except LauncherError as exc:
        reasons.append(f"local server: {exc}")
    else:
        try:
            yield connection
        finally:
            if started is not None:
                started.stop()
        return
    try:
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            yield Connection(container.get_connection_url(), container.username, container.password)
            return
    except Exception as exc:
        reasons.append(f"testcontainers: {exc!r}")
    pytest.fail(
        "No Neo4j for the tests. Set PROVGRAPH_TEST_NEO4J_URI (and PROVGRAPH_TEST_NEO4J_USER/_PASSWORD) to a Neo4j 5 "
        "server the tests may empty, install "
        "Java 17 and Maven so the project can run one itself, or run a Docker engine.\n" + "\n".join(reasons),
        pytrace=False,
    )


@pytest.fixture(scope="session")
def settings(neo4j_server: Connection, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        neo4j_uri=neo4j_server.uri,
        neo4j_user=neo4j_server.user,
        neo4j_password=neo4j_server.password,
        environment="development",
        audit_key=TEST_AUDIT_KEY,
        # The session's own cold tier; compaction runs only when a test asks (the story's inferences are
        # older than any hot window).
        cold=ColdLocation.local(str(tmp_path_factory.mktemp("cold"))),
        compact_every=0,
        records_dir=tmp_path_factory.mktemp("records"),
    )


@pytest.fixture(scope="session")
def driver(neo4j_server: Connection) -> Iterator[Driver]:
    """A plain synchronous driver for the tests' own checks on what the service stored."""
    with GraphDatabase.driver(neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)) as d:
        d.verify_connectivity()
        yield d


WIPE = "MATCH (n) WHERE NOT n:ApiToken AND NOT n:ProvgraphTestDatabase DETACH DELETE n"
TEST_MARKER = "ProvgraphTestDatabase"


def _claim_for_tests(connection: Connection) -> None:
    """Refuse to run against a database that holds data a test session did not put there."""
    with GraphDatabase.driver(connection.uri, auth=(connection.user, connection.password)) as d:
        records, _, _ = d.execute_query(
            "RETURN EXISTS { MATCH (:ProvgraphTestDatabase) } AS marked, COUNT { MATCH (n) } AS nodes",
            database_="neo4j",
        )
        marked, nodes = records[0]["marked"], records[0]["nodes"]
        if not marked and nodes:
            pytest.exit(
                f"PROVGRAPH_TEST_NEO4J_URI ({connection.uri}) holds {nodes} nodes and is not a test database: "
                "the tests empty the database they use, so they refuse this one. Point it at an empty database.",
                returncode=3,
            )
        d.execute_query("MERGE (:ProvgraphTestDatabase {id: 'provgraph-tests'})", database_="neo4j")


@dataclass(frozen=True)
class Tokens:
    """A bearer secret per role, created once per session."""

    reader: str
    writer: str
    admin: str

    def header(self, role: str) -> dict[str, str]:
        return {"authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture(scope="session")
def tokens(settings: Settings, driver: Driver) -> Tokens:
    driver.execute_query("MATCH (t:ApiToken) DETACH DELETE t", database_="neo4j")

    async def create() -> Tokens:
        secrets = [
            await create_token(settings, f"test-{role}", role) for role in ("reader", "writer", "admin")
        ]
        return Tokens(*(s.secret for s in secrets))

    return asyncio.run(create())


@pytest.fixture
def clean_graph(driver: Driver) -> Driver:
    """Every test starts from an empty graph (constraints stay, and so do the session's tokens)."""
    driver.execute_query(WIPE, database_="neo4j")
    return driver


@pytest.fixture(scope="session")
def client(settings: Settings, tokens: Tokens) -> Iterator[TestClient]:
    """The real app (its lifespan, its driver) behind an in-process HTTP client that sends the admin
    token unless a test sends other headers."""
    with TestClient(create_app(settings), headers=tokens.header("admin")) as test_client:
        deadline = time.monotonic() + 180  # the first start on a fresh Neo4j warms its plan cache
        while test_client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, test_client.get("/readyz").json()
            time.sleep(0.2)
        yield test_client


def sender(client: TestClient) -> GraphQL:
    def send(query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        response = client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 401, 403, 503), response.text
        body: dict[str, Any] = response.json()
        return body

    return send


@pytest.fixture
def gql(client: TestClient, clean_graph: Driver) -> GraphQL:
    """Send one GraphQL request to a clean graph; returns the decoded response body."""
    return sender(client)


@pytest.fixture(scope="module")
def story(client: TestClient, driver: Driver) -> Iterator[tuple[GraphQL, Story]]:
    """The scripted provenance story with known answers, loaded once per module into a clean graph.
    Tests using it only read."""
    driver.execute_query(WIPE, database_="neo4j")
    send = sender(client)
    yield send, load_story(send)
