"""Conversions between Neo4j values and domain values, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import neo4j.time

from provgraph.domain.records import Recorded, Stamp


def as_datetime(value: Any) -> datetime:
    if isinstance(value, str):  # projections send times as ISO strings (see fragments.py)
        return datetime.fromisoformat(value)
    if isinstance(value, neo4j.time.DateTime):
        native = value.to_native()
        assert isinstance(native, datetime)
        return native
    if isinstance(value, datetime):
        return value
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
