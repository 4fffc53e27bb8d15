"""Idempotency keys: the first attempt's time of a request, by (token, key), kept for a day."""

from __future__ import annotations

from datetime import datetime

from provgraph.store.graph import Graph
from provgraph.store.values import as_datetime

LOOKUP = """
MATCH (k:IdempotencyKey {id: $id}) WHERE k.expiresAt >= $now
RETURN k.fingerprint AS fingerprint, k.firstAt AS firstAt
"""

# Remember a key once its request has succeeded (the first to finish wins; an expired record is replaced).
# A few expired keys are removed on each call, so the set stays bounded without a background job.
REMEMBER = """
MERGE (k:IdempotencyKey {id: $id})
ON CREATE SET k.fingerprint = $fingerprint, k.firstAt = $firstAt, k.expiresAt = $expiresAt
ON MATCH SET
  k.fingerprint = CASE WHEN k.expiresAt < $now THEN $fingerprint ELSE k.fingerprint END,
  k.firstAt = CASE WHEN k.expiresAt < $now THEN $firstAt ELSE k.firstAt END,
  k.expiresAt = CASE WHEN k.expiresAt < $now THEN $expiresAt ELSE k.expiresAt END
WITH k
CALL () {
  MATCH (old:IdempotencyKey) WHERE old.expiresAt < $now AND old.id <> $id
  WITH old LIMIT 20
  DELETE old
}
RETURN k.id AS id
"""


class IdempotencyStore:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def lookup(self, key_id: str, now: datetime) -> tuple[str, datetime] | None:
        """(the fingerprint, the first attempt's time) of a key whose request succeeded, if unexpired."""
        record = await self.graph.read_one(LOOKUP, {"id": key_id, "now": now})
        return None if record is None else (str(record["fingerprint"]), as_datetime(record["firstAt"]))

    async def remember(
        self, key_id: str, fingerprint: str, first_at: datetime, now: datetime, expires_at: datetime
    ) -> None:
        await self.graph.write_statement(
            REMEMBER,
            {
                "id": key_id,
                "fingerprint": fingerprint,
                "firstAt": first_at,
                "now": now,
                "expiresAt": expires_at,
            },
        )
