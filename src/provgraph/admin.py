"""Operator tasks run from the CLI with Neo4j credentials (no API token needed): token management."""

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
from provgraph.store.graph import Graph, open_driver
from provgraph.store.schema import apply_schema

OPERATOR = Caller("cli-operator")


@asynccontextmanager
async def services_for(settings: Settings) -> AsyncIterator[Services]:
    driver = open_driver(
        settings.neo4j_uri,
        settings.neo4j_user,
        settings.neo4j_password,
        connect_timeout=settings.connect_timeout,
    )
    graph = Graph(driver, settings.neo4j_database, settings.db_timeout)
    try:
        await apply_schema(graph)
        yield Services.build(graph, settings)
    finally:
        await graph.close()


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
