"""API tokens in Neo4j. Only a SHA-256 of each secret is stored: secrets are long random strings, so a
fast hash is enough, and a leaked database does not leak usable tokens."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from provgraph.domain.auth import ApiToken, Role
from provgraph.domain.records import Stamp
from provgraph.store import fragments
from provgraph.store.graph import Graph, Tx
from provgraph.store.values import opt_datetime, opt_str, recorded, stamp_params

CREATE_TOKEN = (
    """
CREATE (t:ApiToken {id: $id, name: $name, role: $role, hash: $hash})
SET t.recordedAt = $now, t.recordedBy = $actor, t.recordedIn = $writeId
RETURN """
    + fragments.node("t", "ApiToken")
    + " AS node"
)

LOOKUP_BY_DIGEST = """
MATCH (t:ApiToken {hash: $hash})
WHERE t.revokedAt IS NULL
RETURN t.id AS id, t.name AS name, t.role AS role
"""

LIST_TOKENS = (
    """
MATCH (t:ApiToken)
WITH t ORDER BY t.recordedAt
RETURN collect("""
    + fragments.node("t", "ApiToken")
    + ") AS nodes"
)

REVOKE_TOKEN = (
    """
MATCH (t:ApiToken {id: $id})
SET t.revokedAt = coalesce(t.revokedAt, $now), t.revokedBy = coalesce(t.revokedBy, $actor)
RETURN """
    + fragments.node("t", "ApiToken")
    + " AS node"
)

# Take the write lock of every admin token, in one order (two revocations wait for each other instead of
# each counting the other's token as still active).
LOCK_ADMINS = """
MATCH (t:ApiToken {role: 'ADMIN'})
WITH t ORDER BY t.id
SET t._lock = true REMOVE t._lock
RETURN count(t) AS locked
"""

# Read after the locks are held, so a revocation that committed meanwhile is seen.
ACTIVE_ADMINS = """
MATCH (t:ApiToken {role: 'ADMIN'}) WHERE t.revokedAt IS NULL
RETURN collect(t.id) AS ids
"""

COUNT_ADMINS = """
RETURN COUNT { (t:ApiToken {role: 'ADMIN'}) WHERE t.revokedAt IS NULL } AS admins
"""


def token_from(props: Mapping[str, Any]) -> ApiToken:
    return ApiToken(
        id=props["id"],
        name=props["name"],
        role=Role(props["role"]),
        recorded=recorded(props),
        revoked_at=opt_datetime(props.get("revokedAt")),
        revoked_by=opt_str(props, "revokedBy"),
    )


class TokenStore:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def create(self, token_id: str, name: str, role: Role, digest: str, stamp: Stamp) -> ApiToken:
        records = await self.graph.write_statement(
            CREATE_TOKEN,
            {"id": token_id, "name": name, "role": role.value, "hash": digest, **stamp_params(stamp)},
        )
        return token_from(records[0]["node"])

    async def find(self, digest: str) -> tuple[str, str, Role] | None:
        record = await self.graph.read_one(LOOKUP_BY_DIGEST, {"hash": digest})
        if record is None:
            return None
        return str(record["id"]), str(record["name"]), Role(record["role"])

    async def list(self) -> list[ApiToken]:
        record = await self.graph.read_one(LIST_TOKENS)
        return [token_from(n) for n in record["nodes"]] if record else []

    async def revoke(
        self, token_id: str, stamp: Stamp, decide: Callable[[Sequence[str]], None] | None = None
    ) -> ApiToken | None:
        """Revoke a token. With `decide(active_admin_ids)`, the admin tokens are locked first and `decide`
        may refuse (raise) seeing every revocation that committed before — the "keep one admin" rule holds
        even when two admins revoke each other at once."""

        async def work(tx: Tx) -> ApiToken | None:
            if decide is not None:
                await (await tx.run(LOCK_ADMINS)).consume()
                active = (await (await tx.run(ACTIVE_ADMINS)).single(strict=True))["ids"]
                decide(tuple(active))
            result = await tx.run(REVOKE_TOKEN, id=token_id, **stamp_params(stamp))
            record = await result.single()
            return token_from(record["node"]) if record else None

        return await self.graph.write(work)

    async def admins(self) -> int:
        record = await self.graph.read_one(COUNT_ADMINS)
        return int(record["admins"]) if record else 0
