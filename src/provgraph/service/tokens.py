"""Bearer tokens: creating, listing and revoking them, and turning a presented secret into a principal.

Lookups are cached for a few seconds per process, so authentication costs no database round trip on
most requests; a revocation therefore takes effect within `cache_seconds` on every replica."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from provgraph.domain.auth import ApiToken, Principal, Role
from provgraph.domain.errors import FailedPrecondition, NotFound
from provgraph.domain.records import Caller
from provgraph.service import validate as v
from provgraph.store.tokens import TokenStore

PREFIX = "pgt_"


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    def __init__(self, store: TokenStore, cache_seconds: float = 10.0) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        # Read by /metrics: a hit rate near zero under load means every request pays a database lookup.
        self.cache_hits = 0
        self.cache_misses = 0

    async def create(self, name: str, role: Role, caller: Caller) -> NewToken:
        name = v.required_line(name, "name", 128)
        token_id = "token:" + secrets.token_hex(6)
        secret = PREFIX + secrets.token_urlsafe(32)
        token = await self.store.create(token_id, name, role, digest(secret), v.new_stamp(caller))
        return NewToken(token, secret)

    async def list(self) -> list[ApiToken]:
        return await self.store.list()

    async def revoke(self, token_id: str, caller: Caller, *, keep_an_admin: bool = True) -> ApiToken:

        def keep_one(active_admins: Sequence[str]) -> None:
            if token_id in active_admins and len(active_admins) == 1:
                raise FailedPrecondition(
                    "this is the last admin token; create another admin token before revoking it", field="id"
                )

        revoked = await self.store.revoke(token_id, v.new_stamp(caller), keep_one if keep_an_admin else None)
        if revoked is None:
            raise NotFound(f"token {token_id!r} does not exist", field="id")
        self._cache.clear()
        return revoked

    async def authenticate(self, secret: str | None) -> Principal | None:
        """The principal a secret belongs to, or None (missing, unknown or revoked)."""
        if not secret or not secret.startswith(PREFIX) or len(secret) > 256:
            return None
        key = digest(secret)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.cache_seconds:
            self.cache_hits += 1
            return cached[1]
        self.cache_misses += 1
        found = await self.store.find(key)
        principal = Principal(name=found[1], role=found[2], token_id=found[0]) if found else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, principal)
        return principal
