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
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"after is not a cursor this API issued: {cursor!r}", field="after") from None
    if not isinstance(key, list) or not all(isinstance(k, str | int) for k in key):
        raise InvalidArgument(f"after is not a cursor this API issued: {cursor!r}", field="after")
    return key
