"""One batch's delivery to the service's bulk path: the single attempt, and what the answer means.

An attempt encodes each record on its own (one that cannot be encoded is rejected alone) and posts the
batch once. The answer is sorted into three outcomes:

  * settled — HTTP 200: each record accepted, duplicate or rejected with the service's reason;
  * refused content — HTTP 400, 413, 422: the batch is split in halves until the records the service
    refuses are isolated; the others are delivered, those are rejected with the service's code;
  * unsent — the records come back as `Unsent`, `retryable` when the failure may pass (5xx, 408, 425, 429,
    a transport error, an unreadable answer), not when the service refused the request itself (401, 403,
    404, …: a bad token or URL).

A `Delivery` reports each settled record as it learns of it, through the `reject` and `settle` callbacks
the logger gives it; it keeps no counts and no state beyond one attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from provgraph.client import _records
from provgraph.client._models import Rejection

log = logging.getLogger("provgraph.client.logger")

# Statuses worth retrying later, besides 5xx.
_RETRYABLE = frozenset({408, 425, 429})
# Statuses by which the service refuses the content of the whole request: split the batch to find out.
_CONTENT_REFUSED = frozenset({400, 413, 422})

Send = Callable[[bytes], httpx.Response]
"""Posts one request body to the bulk path and returns the answer (raising httpx.TransportError)."""


class Reject(Protocol):
    """Called for each record that will never land; `invalid` when it was refused before sending."""

    def __call__(self, rejection: Rejection, record: Mapping[str, Any], *, invalid: bool) -> None: ...


class Settle(Protocol):
    """Called when the service has answered for a batch: `records` of it are settled besides those it
    rejected (each reported to `Reject`); `sent` were new to it, `duplicates` it already had."""

    def __call__(self, records: int, *, sent: int, duplicates: int) -> None: ...


@dataclass(frozen=True)
class Unsent:
    """Records an attempt could not settle, and why. `retryable`: the service may take them later as they
    are; otherwise it refused the request itself (token, URL) and someone has to fix that."""

    records: list[dict[str, Any]]
    reason: str
    retryable: bool


def bulk_url(url: str) -> str:
    """The bulk path beside a GraphQL URL (`…/graphql` → `…/v1/inferences`)."""
    base = url.rstrip("/")
    if base.endswith("/graphql"):
        base = base[: -len("/graphql")]
    return base + "/v1/inferences"


class Delivery:
    """The delivery of one batch: `attempt` sends it once (splitting it if the service refuses it whole)."""

    def __init__(self, send: Send, *, reject: Reject, settle: Settle) -> None:
        self._send = send
        self._reject = reject
        self._settle = settle

    def attempt(self, batch: list[dict[str, Any]]) -> Unsent | None:
        """Send the batch once. None when every record is settled: accepted, duplicate or rejected."""
        encoded: list[bytes] = []
        sendable: list[dict[str, Any]] = []
        for record in batch:
            try:
                # Each record on its own: one that cannot be encoded is refused alone (never the batch).
                encoded.append(_records.encode(record))
                sendable.append(record)
            except (ValueError, TypeError) as exc:
                reason = f"the record cannot be encoded as JSON: {exc}"
                self._reject(_records.invalid(record.get("key"), reason, None), record, invalid=True)
        if not sendable:
            return None
        return self._post(sendable, encoded)

    def _post(self, batch: list[dict[str, Any]], encoded: list[bytes]) -> Unsent | None:
        body = b'{"inferences":[' + b",".join(encoded) + b"]}"
        try:
            response = self._send(body)
        except httpx.TransportError as exc:  # refused, reset, timed out
            return Unsent(batch, f"{type(exc).__name__}: {exc}", retryable=True)
        status = response.status_code
        if status == 200:
            return self._settle_answer(batch, response)
        if status >= 500 or status in _RETRYABLE:
            return Unsent(batch, f"HTTP {status}", retryable=True)
        if status not in _CONTENT_REFUSED:
            return Unsent(batch, f"HTTP {status}: {_error_of(response)[1]}", retryable=False)
        code, message, field = _error_of(response)
        if len(batch) == 1:
            self._reject(
                Rejection(-1, str(batch[0].get("key")), code, message, field), batch[0], invalid=False
            )
            return None
        log.info("inference logger: the service refused a batch of %d (%s); splitting it", len(batch), code)
        half = len(batch) // 2
        first = self._post(batch[:half], encoded[:half])
        if first is not None:  # the service went away meanwhile: keep everything not settled
            return Unsent(first.records + batch[half:], first.reason, first.retryable)
        return self._post(batch[half:], encoded[half:])

    def _settle_answer(self, batch: list[dict[str, Any]], response: httpx.Response) -> Unsent | None:
        try:
            result = response.json()
            accepted = int(result.get("accepted", 0))
            duplicates = int(result.get("duplicates", 0))
            rejections = [_rejection(item) for item in result.get("rejected") or []]
        except (ValueError, TypeError, AttributeError, KeyError):
            # Not the service's answer (a proxy?): keep the records; sending them again is harmless.
            return Unsent(batch, f"an unreadable answer: {response.text[:200]!r}", retryable=True)
        self._settle(max(0, len(batch) - len(rejections)), sent=accepted, duplicates=duplicates)
        for rejection in rejections:
            self._reject(rejection, _record_for(batch, rejection), invalid=False)
        return None


def _error_of(response: httpx.Response) -> tuple[str, str, str | None]:
    """The (code, message, field) of an error answer."""
    default = "LIMIT_EXCEEDED" if response.status_code == 413 else "INVALID_ARGUMENT"
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return default, f"HTTP {response.status_code}: {response.text[:200]}", None
    field = error.get("field")
    return (
        str(error.get("code") or default),
        str(error.get("message") or f"HTTP {response.status_code}"),
        field if isinstance(field, str) else None,
    )


def _rejection(item: Mapping[str, Any]) -> Rejection:
    field = item.get("field")
    return Rejection(
        index=int(item.get("index", -1)),
        key=str(item["key"]),
        code=str(item.get("code") or "INVALID_ARGUMENT"),
        reason=str(item.get("reason") or ""),
        field=field if isinstance(field, str) else None,
    )


def _record_for(batch: list[dict[str, Any]], rejection: Rejection) -> Mapping[str, Any]:
    if 0 <= rejection.index < len(batch) and batch[rejection.index].get("key") == rejection.key:
        return batch[rejection.index]
    return next((r for r in batch if r.get("key") == rejection.key), {"key": rejection.key})
