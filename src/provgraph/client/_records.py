"""One inference record, as the logger sends it: building it from `log()`'s arguments, checking it against
the service's rules, encoding it as a JSON line, and the `Rejection` for a record refused before sending.

A problem is `(field, reason)`. The checks catch what would spoil a batch or could never land; the service
has the last word on the rest. Nothing here does I/O or keeps state.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from provgraph.client._models import Rejection

# The service's rule for names (keys, endpoints). Used with fullmatch: `re.match` with `$` would accept a
# trailing newline.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/+]{0,127}")
NAME_RULE = "1-128 characters: letters, digits and . _ - / +, starting with a letter or digit"
# A model version id is `modelVersion:<model>:<number>`, made of names; the service checks it exactly.
# Here only what could spoil a request: non-ASCII, spaces, control characters, absurd lengths.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/+:]{0,511}")
MAX_DIGEST = 256

Problem = tuple[str, str]
"""What is wrong with a record: (field, reason)."""


def build(
    key: Any,
    model_version_id: Any,
    endpoint: Any,
    at: Any,
    input_digest: Any,
    output_digest: Any,
    latency_ms: Any,
) -> tuple[dict[str, Any], Problem | None]:
    """The record as sent, and what is wrong with it, if anything. Never raises: a value whose own methods
    fail (a broken datetime subclass, say) makes a record holding only the key, with its problem."""
    try:
        return _build(key, model_version_id, endpoint, at, input_digest, output_digest, latency_ms)
    except Exception as exc:
        return {"key": key}, ("inference", f"the record cannot be read: {exc!r}")


def _build(
    key: Any,
    model_version_id: Any,
    endpoint: Any,
    at: Any,
    input_digest: Any,
    output_digest: Any,
    latency_ms: Any,
) -> tuple[dict[str, Any], Problem | None]:
    record: dict[str, Any] = {"key": key}
    moment = datetime.now(UTC) if at is None else at
    record["at"] = moment.isoformat() if isinstance(moment, datetime) else moment
    for name, value in (
        ("modelVersionId", model_version_id),
        ("endpoint", endpoint),
        ("inputDigest", input_digest),
        ("outputDigest", output_digest),
    ):
        if value is not None:
            record[name] = value
    if latency_ms is not None:
        record["latencyMs"] = latency_ms
        if not isinstance(latency_ms, bool | str | bytes):
            # numpy and Decimal numbers too; what does not convert is left as given, for `problem` to name
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                record["latencyMs"] = float(latency_ms)
    if not isinstance(moment, datetime):
        return record, ("at", f"at must be a datetime; got {_show(moment)}")
    return record, problem(record)


def problem(record: Mapping[str, Any]) -> Problem | None:
    """What keeps a record (as sent) from landing or from being encoded; None if it looks fine. The
    service has the last word (it also checks that the model version exists, that a deployment was live,
    that `at` is not in the future)."""
    key = record.get("key")
    if not isinstance(key, str) or not _NAME.fullmatch(key):
        return "key", f"key must be {NAME_RULE}; got {_show(key)}"
    at = record.get("at")
    if not isinstance(at, str):
        return "at", f"at must be a timestamp; got {_show(at)}"
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return "at", f"at is not an ISO-8601 timestamp: {_show(at)}"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return "at", "at must carry a time zone (a naive datetime cannot be placed on the timeline)"
    version, endpoint = record.get("modelVersionId"), record.get("endpoint")
    if version is None and endpoint is None:
        return "modelVersionId", "an inference names a modelVersionId, an endpoint, or both"
    if version is not None and (not isinstance(version, str) or not _ID.fullmatch(version)):
        return "modelVersionId", f"modelVersionId is not a model version id: {_show(version)}"
    if endpoint is not None and (not isinstance(endpoint, str) or not _NAME.fullmatch(endpoint)):
        return "endpoint", f"endpoint must be {NAME_RULE}; got {_show(endpoint)}"
    for field in ("inputDigest", "outputDigest"):
        value = record.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            return field, f"{field} must be a string; got {_show(value)}"
        if len(value) > MAX_DIGEST:
            return field, f"{field} is longer than {MAX_DIGEST} characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return field, f"{field} is not valid Unicode text (a lone surrogate): {_show(value)}"
    latency = record.get("latencyMs")
    if latency is not None:
        if isinstance(latency, bool) or not isinstance(latency, int | float):
            return "latencyMs", f"latencyMs must be a number; got {_show(latency)}"
        try:
            finite = math.isfinite(latency)
        except OverflowError:
            finite = False
        if not finite:
            return "latencyMs", f"latencyMs must be a finite number; got {_show(latency)}"
        if latency < 0:
            return "latencyMs", f"latencyMs must not be negative; got {_show(latency)}"
    return None


def encode(record: Mapping[str, Any]) -> bytes:
    """The record as one compact JSON line in UTF-8. Raises ValueError or TypeError when it cannot be
    encoded (NaN, a lone surrogate, a value JSON has no form for)."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def invalid(key: Any, reason: str, field: str | None) -> Rejection:
    """The rejection of a record refused before sending: `index` -1, code `INVALID_ARGUMENT`."""
    return Rejection(-1, str(key), "INVALID_ARGUMENT", reason, field)


def _show(value: Any) -> str:
    """A value for a message: repr (so control characters and surrogates stay visible and printable)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
