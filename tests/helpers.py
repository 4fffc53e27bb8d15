"""Small assertions shared by the tests."""

from __future__ import annotations

from typing import Any


def data(body: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a response that must have no errors."""
    assert not body.get("errors"), body.get("errors")
    result: dict[str, Any] = body["data"]
    return result


def error(body: dict[str, Any]) -> dict[str, Any]:
    """The single error of a response that must have failed."""
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    first: dict[str, Any] = errors[0]
    return first
