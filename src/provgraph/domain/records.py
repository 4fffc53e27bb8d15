"""What every recorded fact carries: when it was recorded and by whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Recorded:
    """Transaction-time stamp of a fact: when provgraph learnt it, from whom."""

    recorded_at: datetime
    recorded_by: str


def first_difference(pairs: dict[str, tuple[object, object]]) -> str | None:
    """Name of the first field whose requested value differs from the stored one.

    `pairs` maps field name to (requested, stored); a requested value of None means the client left the
    field to the server's default, which is not a contradiction.
    """
    for field, (requested, stored) in pairs.items():
        if requested is None:
            continue
        if _normalise(requested) != _normalise(stored):
            return field
    return None


def _normalise(value: object) -> object:
    if isinstance(value, list | tuple):
        return sorted((_normalise(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in sorted(value.items())}
    return value


@dataclass(frozen=True)
class Caller:
    """Who is writing, as provenance records them (a token's name).

    `now` pins the time of a request sent under an idempotency key: the key remembers it, and a retry of the
    request is stamped with it again, so defaults such as "started now" resolve to the same fact. `retry`
    says this request repeats one that already succeeded under its key — only then does its time name a
    recorded fact as precisely as an explicit time would."""

    name: str
    now: datetime | None = None
    retry: bool = False


@dataclass(frozen=True)
class Stamp:
    """Who is writing, when, and a unique id for this write (stored on what it creates, so a retried
    write can tell "I created this" from "this was already there").

    `now` is the transaction time: when provgraph learns the fact (`recordedAt`), always the real clock.
    `at` is the default for a fact's own time when the client leaves it out (a deployment "starting now"):
    the request's pinned time when it is retried under an idempotency key, so the retry names the same fact.
    """

    actor: str
    now: datetime
    write_id: str
    at: datetime
