"""Time values. Provenance is evidence, so every timestamp must say which time zone it is in."""

from __future__ import annotations

from datetime import UTC, datetime

from provgraph.domain.errors import InvalidArgument

# The range of times provgraph accepts. Python's datetime spans years 1-9999, but converting an edge value
# to UTC (year 1 at +01:00) overflows, and nothing in this domain happened before 1900 or is planned
# after 2200; a value outside is a client bug (a unit or epoch mix-up) and is refused as such.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Reject naive timestamps: a time without a zone cannot be placed on an audit timeline."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidArgument(
            f"{field} must include a time zone offset (e.g. 2026-03-01T12:00:00Z)", field=field
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidArgument(
            f"{field} must lie between {EARLIEST.year} and {LATEST.year}; got {value.isoformat()}",
            field=field,
        )
    return utc


def parse_timestamp(text: str, field: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone offset."""
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidArgument(f"{field} is not an ISO-8601 timestamp", field=field)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{field} is not an ISO-8601 timestamp: {text!r}", field=field) from None
    return require_aware(value, field)
