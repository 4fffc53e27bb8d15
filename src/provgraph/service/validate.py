"""Input checks shared by the use cases. Each raises InvalidArgument naming the offending field."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind, check_name, parse_id
from provgraph.domain.records import Stamp
from provgraph.domain.time import require_aware, utcnow

_TOKEN = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")


def new_stamp(actor: str) -> Stamp:
    return Stamp(actor=actor, now=utcnow(), write_id=uuid.uuid4().hex)


def text(value: str | None, field: str, max_len: int) -> str | None:
    if value is None:
        return None
    if len(value) > max_len:
        raise InvalidArgument(f"{field} is longer than {max_len} characters", field=field)
    return value


def required_text(value: str, field: str, max_len: int) -> str:
    if not value.strip():
        raise InvalidArgument(f"{field} must not be empty", field=field)
    checked = text(value, field, max_len)
    assert checked is not None
    return checked


def token(value: str, field: str) -> str:
    """A lower-case keyword chosen by the client (a source kind, an environment, a role)."""
    if not _TOKEN.match(value):
        raise InvalidArgument(
            f"{field} must be lower-case letters, digits, '_' or '-', starting with a letter; got {value!r}",
            field=field,
        )
    return value


def name(value: str, field: str) -> str:
    return check_name(value, field)


def non_negative(value: int | None, field: str) -> int | None:
    if value is not None and value < 0:
        raise InvalidArgument(f"{field} must not be negative; got {value}", field=field)
    return value


def json_text(value: str | None, field: str, max_len: int = 65536) -> str | None:
    if value is None:
        return None
    text(value, field, max_len)
    try:
        json.loads(value)
    except ValueError:
        raise InvalidArgument(f"{field} must be valid JSON", field=field) from None
    return value


def aware(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else require_aware(value, field)


def ids(values: Iterable[str], field: str, *kinds: Kind) -> tuple[str, ...]:
    checked = tuple(parse_id(v, field, *kinds).id for v in values)
    if len(set(checked)) != len(checked):
        raise InvalidArgument(f"{field} lists the same id twice", field=field)
    return checked


def one_id(value: str, field: str, *kinds: Kind) -> str:
    return parse_id(value, field, *kinds).id


def opt_id(value: str | None, field: str, *kinds: Kind) -> str | None:
    return None if value is None else one_id(value, field, *kinds)


_KEY = re.compile(r"^[A-Za-z0-9_.\-/]{1,128}$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-:]{0,63}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")
FUTURE_SLACK_SECONDS = 300


def key_values(values: dict[str, str], field: str, max_items: int = 500) -> dict[str, str]:
    """Parameter-like maps: bounded, with safe keys and bounded values."""
    if len(values) > max_items:
        raise InvalidArgument(f"{field} has more than {max_items} entries", field=field)
    for key, value in values.items():
        if not _KEY.match(key):
            raise InvalidArgument(
                f"{field} key {key!r} must be 1-128 of letters, digits, _ . - /", field=field
            )
        text(value, field, 4096)
    return values


def measurements(values: dict[str, float], field: str, max_items: int = 500) -> dict[str, float]:
    if len(values) > max_items:
        raise InvalidArgument(f"{field} has more than {max_items} entries", field=field)
    for key, value in values.items():
        if not _KEY.match(key):
            raise InvalidArgument(
                f"{field} key {key!r} must be 1-128 of letters, digits, _ . - /", field=field
            )
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidArgument(f"{field} {key!r} must be a finite number", field=field)
    return values


def tags(values: Iterable[str], field: str = "tags") -> tuple[str, ...]:
    checked = tuple(values)
    if len(checked) > 50:
        raise InvalidArgument(f"{field} has more than 50 entries", field=field)
    for tag in checked:
        if not _TAG.match(tag):
            raise InvalidArgument(f"{field} entry {tag!r} is not a valid tag", field=field)
    return tuple(sorted(set(checked)))


def alias(value: str, field: str = "alias") -> str:
    if not _ALIAS.match(value):
        raise InvalidArgument(
            f"{field} must be lower-case letters, digits, '_' or '-', starting with a letter; got {value!r}",
            field=field,
        )
    return value


def not_in_future(value: datetime | None, field: str) -> datetime | None:
    """Facts are recorded after they happen; a time far in the future is a client clock or unit error."""
    checked = aware(value, field)
    if checked is not None and (checked - utcnow()).total_seconds() > FUTURE_SLACK_SECONDS:
        raise InvalidArgument(f"{field} is in the future ({checked.isoformat()})", field=field)
    return checked


def depth(value: int | None, maximum: int, field: str = "maxDepth") -> int:
    if value is None:
        return maximum
    if not 1 <= value <= maximum:
        raise InvalidArgument(f"{field} must be between 1 and {maximum}; got {value}", field=field)
    return value


def fraction(value: float, field: str) -> float:
    if not 0 < value <= 1:
        raise InvalidArgument(f"{field} must be greater than 0 and at most 1; got {value}", field=field)
    return value
