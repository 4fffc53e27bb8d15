"""Idempotency keys: the first attempt's time of a request, by (token, key), kept for a day."""

from __future__ import annotations

from datetime import datetime

from provgraph.store.graph import Graph
from provgraph.store.values import as_datetime

# Record a key on its first use, or read what its first use recorded. An expired key starts afresh; a few
# expired keys are removed on each call, so the set stays bounded without a background job.
PIN = """
MERGE (k:IdempotencyKey {id: $id})
ON CREATE SET k.fingerprint = $fingerprint, k.firstAt = $now, k.expiresAt = $expiresAt
ON MATCH SET
  k.fingerprint = CASE WHEN k.expiresAt < $now THEN $fingerprint ELSE k.fingerprint END,
  k.firstAt = CASE WHEN k.expiresAt < $now THEN $now ELSE k.firstAt END,
  k.expiresAt = CASE WHEN k.expiresAt < $now THEN $expiresAt ELSE k.expiresAt END
WITH k
CALL () {
  MATCH (old:IdempotencyKey) WHERE old.expiresAt < $now AND old.id <> $id
  WITH old LIMIT 20
  DELETE old
}
RETURN k.fingerprint AS fingerprint, k.firstAt AS firstAt
"""


class IdempotencyStore:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def pin(
        self, key_id: str, fingerprint: str, now: datetime, expires_at: datetime
    ) -> tuple[str, datetime]:
        """(the fingerprint, the first attempt's time) recorded for the key."""
        records = await self.graph.write_statement(
            PIN, {"id": key_id, "fingerprint": fingerprint, "now": now, "expiresAt": expires_at}
        )
        return str(records[0]["fingerprint"]), as_datetime(records[0]["firstAt"])
