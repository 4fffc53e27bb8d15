"""Idempotency keys: "retry after a lost reply" made exact, even for facts without a natural key.

Most writes are idempotent by their key (a source's name, a deployment's endpoint, version and start). A
few take their time from the clock when the client leaves it out ("deploy now", "promote now"), so a retry
would name a different fact. A request sent with an `Idempotency-Key` header is stamped with the time of
its first successful attempt instead: the retry resolves to the very fact the first attempt recorded and
answers `created: false`. A key is bound to the token that used it and to the request's content; reusing it
for a different request is a CONFLICT. Keys are remembered only once their request has succeeded — a
refused request leaves nothing behind, and its corrected retry may use the same key — and kept for `ttl`
(a day), long past any client's retry budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from provgraph.domain.errors import Conflict, InvalidArgument
from provgraph.domain.time import utcnow
from provgraph.store.idempotency import IdempotencyStore

_KEY = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


@dataclass(frozen=True)
class IdempotentRequest:
    """A request under a key: the time to stamp it with, and whether the key was already remembered."""

    key_id: str
    fingerprint: str
    pinned_now: datetime
    remembered: bool


class IdempotencyService:
    def __init__(self, store: IdempotencyStore, ttl: timedelta = timedelta(days=1)) -> None:
        self.store = store
        self.ttl = ttl

    async def begin(self, token_id: str, key: str, fingerprint: str) -> IdempotentRequest:
        """Check a key before the request runs (nothing is written): its first success's time, or now."""
        if not _KEY.fullmatch(key):
            raise InvalidArgument(
                "the Idempotency-Key header must be 1-128 of letters, digits and . _ : -",
                field="Idempotency-Key",
            )
        key_id = f"{token_id}|{key}"
        now = utcnow()
        found = await self.store.lookup(key_id, now)
        if found is None:
            return IdempotentRequest(key_id, fingerprint, now, remembered=False)
        recorded, first_at = found
        if recorded != fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for a different request; use a new key for a new request",
                field="Idempotency-Key",
            )
        return IdempotentRequest(key_id, fingerprint, first_at, remembered=True)

    async def succeeded(self, request: IdempotentRequest) -> None:
        """Remember the key of a request that succeeded, so its retries are stamped with the same time."""
        if not request.remembered:
            now = utcnow()
            await self.store.remember(
                request.key_id, request.fingerprint, request.pinned_now, now, now + self.ttl
            )
