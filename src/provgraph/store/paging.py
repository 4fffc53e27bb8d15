"""Keyset pagination helpers: fetch one item past the page to know whether another page follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from provgraph.domain.paging import Page, PageRequest, encode_cursor

T = TypeVar("T")


def page_params(page: PageRequest) -> dict[str, Any]:
    after = page.after[0] if page.after else None
    return {"after": after, "limit": page.first + 1}


def page_of(
    items: list[T], page: PageRequest, total: int, key: Callable[[T], list[str | int]] | None = None
) -> Page[T]:
    has_next = len(items) > page.first
    kept = items[: page.first]
    cursor_key = key or (lambda item: [getattr(item, "id")])  # noqa: B009 - every entity has an id
    return Page(
        items=[(item, encode_cursor(cursor_key(item))) for item in kept], has_next=has_next, total=total
    )
