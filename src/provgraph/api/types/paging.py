"""Relay-style connections: `edges { cursor node }`, `pageInfo`, `totalCount`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.paging import Page

T = TypeVar("T")
D = TypeVar("D")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The nodes of this page, without their cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


LIST_PAGE_DEFAULT = 100
LIST_PAGE_MAX = 500

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many to return (default {LIST_PAGE_DEFAULT}, at most {LIST_PAGE_MAX})."
    ),
]
After = Annotated[
    str | None, strawberry.argument(description="The id of the last item of the previous page.")
]


def page_after(items: Sequence[T], key: Callable[[T], str], first: int | None, after: str | None) -> list[T]:
    """One page of a list: the first `first` items (default 100, at most 500) after the item whose key is
    `after`. The lists inside reports, traces and histories are paged this way — `after` is simply the id
    of the last item of the previous page — so no answer grows without bound with the graph."""
    size = LIST_PAGE_DEFAULT if first is None else first
    if not 1 <= size <= LIST_PAGE_MAX:
        raise InvalidArgument(f"first must be between 1 and {LIST_PAGE_MAX}; got {size}", field="first")
    start = 0
    if after is not None:
        keys = [key(item) for item in items]
        if after not in keys:
            raise InvalidArgument(f"after {after[:80]!r} is not an item of this list", field="after")
        start = keys.index(after) + 1
    return list(items[start : start + size])


def page_ids(ids: Sequence[str], first: int | None, after: str | None) -> list[str]:
    return page_after(ids, str, first, after)


def connection(page: Page[D], convert: Callable[[D], T]) -> Connection[T]:
    edges = [Edge(cursor=cursor, node=convert(item)) for item, cursor in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total,
    )
