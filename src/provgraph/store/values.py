"""Conversions between Neo4j values and domain values, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import neo4j.time

from provgraph.domain.records import Recorded, Stamp


def as_datetime(value: Any) -> datetime:
    """A stored time as an aware datetime in UTC with a fixed offset.

    A time that was stored with a named zone (a value the driver decoded into a zone-aware datetime, then
    written back) prints as `…Z[UTC]`; reading must accept that, and writing back must never produce it
    again, so every time leaves here as a plain UTC offset."""
    if isinstance(value, str):  # projections send times as ISO strings (see fragments.py)
        text = value.split("[", 1)[0]
        return datetime.fromisoformat(text).astimezone(UTC)
    if isinstance(value, neo4j.time.DateTime):
        native = value.to_native()
        assert isinstance(native, datetime)
        return native.astimezone(UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    raise TypeError(f"expected a datetime, got {type(value).__name__}")


def opt_datetime(value: Any) -> datetime | None:
    return None if value is None else as_datetime(value)


def opt_str(props: Mapping[str, Any], key: str) -> str | None:
    value = props.get(key)
    return None if value is None else str(value)


def opt_int(props: Mapping[str, Any], key: str) -> int | None:
    value = props.get(key)
    return None if value is None else int(value)


def recorded(props: Mapping[str, Any]) -> Recorded:
    return Recorded(recorded_at=as_datetime(props["recordedAt"]), recorded_by=str(props["recordedBy"]))


def stamp_params(stamp: Stamp) -> dict[str, Any]:
    return {"now": stamp.now, "actor": stamp.actor, "writeId": stamp.write_id}


def prefixed(props: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Properties stored flat under a prefix (`param.lr`, `metric.acc`) back as a dict."""
    return {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}
