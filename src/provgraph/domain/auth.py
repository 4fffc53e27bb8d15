"""Who is calling: principals, roles, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from provgraph.domain.records import Recorded


class Role(Enum):
    """Roles are ordered: each may do everything the ones before it may."""

    READER = "READER"  # every query
    WRITER = "WRITER"  # and every registration, deployment, inference log
    ADMIN = "ADMIN"  # and token management

    def allows(self, needed: Role) -> bool:
        order = (Role.READER, Role.WRITER, Role.ADMIN)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `name` is what provenance records as the actor of its writes."""

    name: str
    role: Role
    token_id: str


@dataclass(frozen=True)
class ApiToken:
    id: str
    name: str
    role: Role
    recorded: Recorded
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    last_used_at: datetime | None = None
