"""Time values. Provenance is evidence, so every timestamp must say which time zone it is in."""

from __future__ import annotations

from datetime import UTC, datetime

from provgraph.domain.errors import InvalidArgument


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Reject naive timestamps: a time without a zone cannot be placed on an audit timeline."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidArgument(
            f"{field} must include a time zone offset (e.g. 2026-03-01T12:00:00Z)", field=field
        )
    return value.astimezone(UTC)


def parse_timestamp(text: str, field: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{field} is not an ISO-8601 timestamp: {text!r}", field=field) from None
    return require_aware(value, field)
