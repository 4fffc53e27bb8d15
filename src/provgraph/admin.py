"""Operator tasks run from the CLI with Neo4j credentials (no API token needed): token management, the
database's schema version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from provgraph.config import Settings
from provgraph.domain.auth import ApiToken, Role
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.records import Caller
from provgraph.service.services import Services
from provgraph.service.tokens import NewToken
from provgraph.store import migrations
from provgraph.store.graph import Graph, open_driver
from provgraph.store.schema import apply_schema

OPERATOR = Caller("cli-operator")


@asynccontextmanager
async def graph_for(settings: Settings) -> AsyncIterator[Graph]:
    driver = open_driver(
        settings.neo4j_uri,
        settings.neo4j_user,
        settings.neo4j_password,
        connect_timeout=settings.connect_timeout,
    )
    graph = Graph(driver, settings.neo4j_database, settings.db_timeout)
    try:
        yield graph
    finally:
        await graph.close()


@asynccontextmanager
async def services_for(settings: Settings) -> AsyncIterator[Services]:
    async with graph_for(settings) as graph:
        await apply_schema(graph)
        yield Services.build(graph, settings)


def parse_role(role: str) -> Role:
    try:
        return Role(role.upper())
    except ValueError:
        raise InvalidArgument(f"role must be reader, writer or admin; got {role!r}", field="role") from None


async def create_token(settings: Settings, name: str, role: str) -> NewToken:
    async with services_for(settings) as services:
        return await services.tokens.create(name, parse_role(role), OPERATOR)


async def list_tokens(settings: Settings) -> list[ApiToken]:
    async with services_for(settings) as services:
        return await services.tokens.list()


async def revoke_token(settings: Settings, token_id: str) -> ApiToken:
    async with services_for(settings) as services:
        return await services.tokens.revoke(token_id, OPERATOR, keep_an_admin=False)


async def development_token(settings: Settings, path: Path) -> str:
    """The admin token for local development: reuse the one in `path` while it still works."""
    async with services_for(settings) as services:
        if path.exists():
            secret = path.read_text().strip()
            if await services.tokens.authenticate(secret) is not None:
                return secret
        created = await services.tokens.create("development", Role.ADMIN, OPERATOR)
        path.write_text(created.secret)
        path.chmod(0o600)
        return created.secret


async def schema_status(settings: Settings) -> migrations.SchemaStatus:
    """The database's schema version against this code's, and the migrations it recorded. Reads only:
    the migrations themselves run when the API (or any other command) starts."""
    async with graph_for(settings) as graph:
        return await migrations.status(graph)


def describe_schema(status: migrations.SchemaStatus) -> list[str]:
    """`provgraph schema status` as lines of text."""
    at = status.database_version
    lines = [
        f"database schema version: {at if at is not None else f'none (treated as {migrations.BASELINE_VERSION})'}",
        f"code schema version:     {status.code_version}",
    ]
    if status.too_new:
        lines.append("state: the database is NEWER than this provgraph (SCHEMA_TOO_NEW): use a newer release")
    elif status.pending:
        lines.append(f"state: {len(status.pending)} migration(s) pending; applied when the API next starts")
    else:
        lines.append("state: up to date")
    if status.migrating:
        lease = status.lease_until.isoformat(timespec="seconds") if status.lease_until else "?"
        lines.append(f"migrating now: {status.migrating} (lease until {lease})")
    lines.append("applied migrations:" if status.applied else "applied migrations: none recorded")
    for m in status.applied:
        lines.append(
            f"  {m.version}  {m.applied_at.isoformat(timespec='seconds')}  {m.duration_ms} ms  "
            f"{m.applied_by}  {m.description}"
        )
    recorded = {m.version for m in status.applied}
    earlier = [v for v in range(migrations.BASELINE_VERSION + 1, (at or 0) + 1) if v not in recorded]
    if earlier:  # applied by a release that did not record its migrations yet
        lines.append(f"  (versions {', '.join(map(str, earlier))} applied before migrations were recorded)")
    for step in status.pending:
        lines.append(f"pending: {step.version}  {step.description}")
    return lines
