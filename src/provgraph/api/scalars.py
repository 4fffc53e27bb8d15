"""Custom scalars. `DateTime` insists on a time zone: provenance timestamps are evidence."""

from __future__ import annotations

from datetime import datetime

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

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DATETIME}
