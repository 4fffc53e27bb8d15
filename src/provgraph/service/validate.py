"""Input checks shared by the use cases. Each raises InvalidArgument naming the offending field."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind, check_name, parse_id
from provgraph.domain.records import Caller, Stamp
from provgraph.domain.time import LATEST, require_aware, utcnow

# Patterns are applied with fullmatch: `re.match` with `$` also accepts a trailing newline, which let
# `source:acme-reviews\n` be registered beside `source:acme-reviews`.
_TOKEN = re.compile(r"[a-z][a-z0-9_\-]{0,31}")
# C0 controls other than tab, line feed and carriage return, DEL, and lone surrogates (which cannot be
# encoded as UTF-8, so Neo4j could never store them).
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Single-line values (URIs, owners, digests, versions of things) allow no control character at all.
_NOT_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def new_stamp(caller: Caller) -> Stamp:
    """The stamp of one write: who, when (the request's pinned time, if it has one) and a fresh write id."""
    now = utcnow()
    return Stamp(actor=caller.name, now=now, write_id=uuid.uuid4().hex, at=caller.now or now)


def text(value: str | None, field: str, max_len: int) -> str | None:
    """Free text (a description, a reason): bounded, and free of characters that are not text."""
    if value is None:
        return None
    if len(value) > max_len:
        raise InvalidArgument(f"{field} is longer than {max_len} characters", field=field)
    if _NOT_TEXT.search(value):
        raise InvalidArgument(
            f"{field} holds a control character or an unpaired surrogate, which text may not contain",
            field=field,
        )
    return value


def line(value: str | None, field: str, max_len: int) -> str | None:
    """A one-line value (a URI, an owner, a digest, a licence): no control characters, no surrounding
    whitespace, not empty — two values that look the same must be the same."""
    if value is None:
        return None
    if len(value) > max_len:
        raise InvalidArgument(f"{field} is longer than {max_len} characters", field=field)
    if _NOT_LINE.search(value):
        raise InvalidArgument(
            f"{field} holds a control character or an unpaired surrogate; it must be one line of text",
            field=field,
        )
    if value != value.strip() or not value:
        raise InvalidArgument(f"{field} must not be empty or start or end with whitespace", field=field)
    return value


def required_text(value: str, field: str, max_len: int) -> str:
    if not value.strip():
        raise InvalidArgument(f"{field} must not be empty", field=field)
    checked = text(value, field, max_len)
    assert checked is not None
    return checked


def required_line(value: str, field: str, max_len: int) -> str:
    checked = line(value, field, max_len)
    if checked is None:
        raise InvalidArgument(f"{field} must not be empty", field=field)
    return checked


def token(value: str, field: str) -> str:
    """A lower-case keyword chosen by the client (a source kind, an environment, a role)."""
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
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


def known_at(value: datetime | None, field: str = "knownAt") -> datetime:
    """A transaction time to answer as of; without one, everything recorded so far counts. (Not "now" on
    this replica's clock: a fact just recorded by a replica whose clock runs ahead must still be seen.)"""
    return aware(value, field) or LATEST


def ids(values: Iterable[str], field: str, *kinds: Kind) -> tuple[str, ...]:
    checked = tuple(parse_id(v, field, *kinds).id for v in values)
    if len(set(checked)) != len(checked):
        raise InvalidArgument(f"{field} lists the same id twice", field=field)
    return checked


def one_id(value: str, field: str, *kinds: Kind) -> str:
    return parse_id(value, field, *kinds).id


def opt_id(value: str | None, field: str, *kinds: Kind) -> str | None:
    return None if value is None else one_id(value, field, *kinds)


_KEY = re.compile(r"[A-Za-z0-9_.\-/]{1,128}")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-:]{0,63}")
_ALIAS = re.compile(r"[a-z][a-z0-9_\-]{0,63}")
FUTURE_SLACK_SECONDS = 300


def key_values(values: dict[str, str], field: str, max_items: int = 500) -> dict[str, str]:
    """Parameter-like maps: bounded, with safe keys and bounded values."""
    if len(values) > max_items:
        raise InvalidArgument(f"{field} has more than {max_items} entries", field=field)
    for key, value in values.items():
        if not _KEY.fullmatch(key):
            raise InvalidArgument(
                f"{field} key {key!r} must be 1-128 of letters, digits, _ . - /", field=field
            )
        text(value, field, 4096)
    return values


def measurements(values: dict[str, float], field: str, max_items: int = 500) -> dict[str, float]:
    if len(values) > max_items:
        raise InvalidArgument(f"{field} has more than {max_items} entries", field=field)
    for key, value in values.items():
        if not _KEY.fullmatch(key):
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
        if not _TAG.fullmatch(tag):
            raise InvalidArgument(f"{field} entry {tag!r} is not a valid tag", field=field)
    return tuple(sorted(set(checked)))


def alias(value: str, field: str = "alias") -> str:
    if not _ALIAS.fullmatch(value):
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
