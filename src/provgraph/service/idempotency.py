"""Idempotency keys: "retry after a lost reply" made exact, even for facts without a natural key.

Most writes are idempotent by their key (a source's name, a deployment's endpoint, version and start). A
few take their time from the clock when the client leaves it out ("deploy now", "promote now"), so a retry
would name a different fact. A request sent with an `Idempotency-Key` header is stamped with the time of
its first attempt instead: the retry resolves to the very fact the first attempt recorded and answers
`created: false`. A key is bound to the token that used it and to the request's content; reusing it for a
different request is a CONFLICT. Keys are kept for `ttl` (a day), long past any client's retry budget.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from provgraph.domain.errors import Conflict, InvalidArgument
from provgraph.domain.time import utcnow
from provgraph.store.idempotency import IdempotencyStore

_KEY = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


class IdempotencyService:
    def __init__(self, store: IdempotencyStore, ttl: timedelta = timedelta(days=1)) -> None:
        self.store = store
        self.ttl = ttl

    async def pin(self, token_id: str, key: str, fingerprint: str) -> datetime:
        """The time to stamp this request with: its first attempt's, or now if this is the first."""
        if not _KEY.fullmatch(key):
            raise InvalidArgument(
                "the Idempotency-Key header must be 1-128 of letters, digits and . _ : -",
                field="Idempotency-Key",
            )
        now = utcnow()
        recorded, first_at = await self.store.pin(f"{token_id}|{key}", fingerprint, now, now + self.ttl)
        if recorded != fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for a different request; use a new key for a new request",
                field="Idempotency-Key",
            )
        return first_at
