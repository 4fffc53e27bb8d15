"""Cursor pagination shared by every listing: opaque cursors over a stable sort key."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from provgraph.domain.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_CURSOR_LENGTH = 1024


@dataclass(frozen=True)
class PageRequest:
    """`first` items after the item whose sort key is `after` (None: from the start)."""

    first: int
    after: list[str | int] | None

    @classmethod
    def of(cls, first: int | None, after: str | None, *, max_size: int = MAX_PAGE_SIZE) -> PageRequest:
        size = DEFAULT_PAGE_SIZE if first is None else first
        if not 1 <= size <= max_size:
            raise InvalidArgument(f"first must be between 1 and {max_size}; got {size}", field="first")
        return cls(size, decode_cursor(after) if after else None)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[T, str]]  # each item with its cursor
    has_next: bool
    total: int


def encode_cursor(key: list[str | int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str | int]:
    """The sort key a cursor holds. Anything this API did not issue is INVALID_ARGUMENT: cursors are short,
    flat lists of bounded strings and 64-bit integers (a forged cursor holding a huge integer or deeply
    nested JSON must not reach the database)."""
    refused = InvalidArgument(f"after is not a cursor this API issued: {cursor[:80]!r}", field="after")
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise refused
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise refused from None
    if not isinstance(key, list) or not 1 <= len(key) <= 4 or not all(_cursor_part(k) for k in key):
        raise refused
    return key


def _cursor_part(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    # A string part must be text Neo4j can store: no unpaired surrogates.
    return isinstance(value, str) and len(value) <= 512 and not any("\ud800" <= c <= "\udfff" for c in value)
