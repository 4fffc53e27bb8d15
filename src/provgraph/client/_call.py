"""An SDK operation as a plain value — its document, its variables and how to read the answer — and the
helpers that build them. The sync and async clients send the same values, so each operation is written once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from provgraph.client._models import parse

T = TypeVar("T")
Variables = dict[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: `Client.send(call)` posts it and returns `read(data)`."""

    document: str
    variables: Variables
    read: Callable[[dict[str, Any]], T]


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


def rest_url(graphql_url: str, path: str) -> str:
    """A REST route beside the GraphQL URL (`…/graphql` → `…/v1/…`)."""
    base = graphql_url.rstrip("/")
    if base.endswith("/graphql"):
        base = base[: -len("/graphql")]
    return base + path


def ref(kind: str, value: str) -> str:
    """Accept an id (`source:acme`) or a bare name (`acme`)."""
    return value if ":" in value else f"{kind}:{value}"


def camel_keys(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        head, *rest = key.split("_")
        out[head + "".join(p.title() for p in rest)] = list(value) if isinstance(value, tuple) else value
    return out


def pairs(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def mutation_input(**values: Any) -> Variables:
    """A mutation's `input`, leaving out what the caller did not give (so server defaults apply)."""
    return {"input": {k: v for k, v in values.items() if v is not None}}


def one(cls: type[T], *path: str) -> Callable[[dict[str, Any]], T]:
    def read(data: dict[str, Any]) -> T:
        for step in path:
            data = data[step]
        return parse(cls, data)

    return read


def many(cls: type[T], *path: str) -> Callable[[dict[str, Any]], list[T]]:
    def read(data: dict[str, Any]) -> list[T]:
        items: Any = data
        for step in path:
            items = items[step]
        return [parse(cls, item) for item in items]

    return read
