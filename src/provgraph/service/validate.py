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
