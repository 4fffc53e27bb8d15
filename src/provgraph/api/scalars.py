"""Custom scalars. `DateTime` insists on a time zone: provenance timestamps are evidence."""

from __future__ import annotations

from datetime import datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.time import parse_timestamp


def _serialize(value: datetime) -> str:
    return value.isoformat()


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidArgument("DateTime values are ISO-8601 strings with a zone offset", field="DateTime")
    return parse_timestamp(value, "DateTime")


DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 timestamp with a time zone offset, e.g. 2026-03-01T12:00:00Z.",
    serialize=_serialize,
    parse_value=_parse,
)

# Counts and sizes that outgrow GraphQL's 32-bit Int: a 3 GB model, a table of 5 billion rows.
Long = NewType("Long", int)
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def _parse_long(value: object) -> int:
    """A 64-bit integer, as a JSON number or a decimal string (for clients whose numbers are doubles)."""
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) <= 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not LONG_MIN <= value <= LONG_MAX:
        raise InvalidArgument(f"Long values are 64-bit integers; got {str(value)[:40]}", field="Long")
    return value


def long_or_none(value: int | None) -> Long | None:
    return None if value is None else Long(value)


LONG: ScalarDefinition = strawberry.scalar(
    name="Long",
    description="A 64-bit integer (a size in bytes, a row count), sent as a JSON number or a decimal string.",
    serialize=int,
    parse_value=_parse_long,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DATETIME, Long: LONG}
