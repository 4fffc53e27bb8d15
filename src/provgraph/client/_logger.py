"""The inference logger for serving paths.

`log()` only appends a small dict to an in-memory queue (no I/O on the caller's thread). A background
thread sends batches — by size or age — to the service's bulk path, retrying 5xx and timeouts with backoff.
When the service stays unreachable, batches go to an on-disk spool and are replayed later. Every record
carries a client-generated key, and the service records each key once, so a batch sent twice (a retry
after a lost answer, a replayed spool file) still lands exactly once.

Bounded memory, documented policy: at most `max_pending` records wait in memory. When the service is
down they move to the spool (at most `max_spool_bytes` on disk). When both are full, `log()` drops the
record, counts it in `stats.dropped` and warns; it never blocks the serving path.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from provgraph.client._client import default_token, default_url, headers_for
from provgraph.client._models import Rejection
from provgraph.client._spool import Spool, SpoolFile

log = logging.getLogger("provgraph.client.logger")

RejectionCallback = Callable[[Rejection, Mapping[str, Any]], None]


@dataclass(frozen=True)
class LoggerStats:
    """Counters since the logger started. `sent` counts records the service accepted for the first time,
    `duplicates` records it already had (re-sent after a lost answer), `rejected` records it refused with
    a reason (see `on_rejected`), `spooled` records written to disk (some later sent), `dropped` records
    lost because memory and spool were both full, `corrupt` unreadable spool lines skipped."""

    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    spooled: int = 0
    dropped: int = 0
    corrupt: int = 0
    pending: int = 0
    spool_files: int = 0


class _Retryable(Exception):
    """The batch may succeed later (5xx, timeout, refused connection)."""


class _Refused(Exception):
    """The service refused the whole batch (bad token, malformed); retrying as-is will not help now."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


def bulk_url(url: str) -> str:
    """The bulk path beside a GraphQL URL (`…/graphql` → `…/v1/inferences`)."""
    base = url.rstrip("/")
    if base.endswith("/graphql"):
        base = base[: -len("/graphql")]
    return base + "/v1/inferences"


def default_spool_dir() -> Path:
    configured = os.environ.get("PROVGRAPH_SPOOL_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "provgraph" / "spool"


class InferenceLogger:
    """Log inference→model links without slowing the serving path.

    Parameters:
        url: the service's GraphQL URL (default `PROVGRAPH_URL`); batches go to its `/v1/inferences`.
        token: bearer token (default `PROVGRAPH_TOKEN`).
        batch_size: records per request; a batch is also sent when its oldest record is `flush_interval`
            seconds old.
        spool_dir: where undeliverable batches wait (default `PROVGRAPH_SPOOL_DIR` or ~/.cache/provgraph/spool).
        max_pending: records held in memory at most.
        max_spool_bytes: bytes the spool may hold at most.
        retries / backoff: attempts per batch before it is spooled, and the first delay (doubling).
        spool_retry_interval: seconds between attempts to replay the spool while the service is down.
        on_rejected: called (on the logger's thread) with each rejection and the record it concerns.
        http_client: an httpx.Client to send with (tests, proxies).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        spool_dir: str | Path | None = None,
        max_pending: int = 100_000,
        max_spool_bytes: int = 512 * 1024 * 1024,
        retries: int = 2,
        backoff: float = 0.2,
        timeout: float = 10.0,
        spool_retry_interval: float = 5.0,
        on_rejected: RejectionCallback | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if batch_size < 1 or max_pending < batch_size:
            raise ValueError("batch_size must be at least 1 and at most max_pending")
        self.url = bulk_url(url or default_url())
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.retries = retries
        self.backoff = backoff
        self.spool_retry_interval = spool_retry_interval
        self.on_rejected = on_rejected
        self._headers = headers_for(token or default_token())
        self._http = http_client or httpx.Client(timeout=timeout)
        self._owns_http = http_client is None
        self._spool = Spool(Path(spool_dir) if spool_dir else default_spool_dir(), max_spool_bytes)
        self._queue: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stats = LoggerStats()
        self._in_flight = 0
        self._closing = False
        self._flush_requested = False
        self._next_spool_attempt = 0.0  # replay what an earlier run left behind straight away
        self._warned_drop = False
        self._thread = threading.Thread(target=self._run, name="provgraph-inference-logger", daemon=True)
        self._thread.start()
        # Flush at interpreter exit, without keeping the logger alive just for that.
        atexit.register(_close_at_exit, weakref.ref(self))

    # -- the caller's side ---------------------------------------------------------------------------------
    def log(
        self,
        *,
        model_version_id: str | None = None,
        endpoint: str | None = None,
        at: datetime | None = None,
        key: str | None = None,
        input_digest: str | None = None,
        output_digest: str | None = None,
        latency_ms: float | None = None,
    ) -> str:
        """Queue one inference; returns its key. Name the model version, the endpoint, or both."""
        record: dict[str, Any] = {
            "key": key or uuid.uuid4().hex,
            "at": (at or datetime.now(UTC)).isoformat(),
        }
        if model_version_id is not None:
            record["modelVersionId"] = model_version_id
        if endpoint is not None:
            record["endpoint"] = endpoint
        if input_digest is not None:
            record["inputDigest"] = input_digest
        if output_digest is not None:
            record["outputDigest"] = output_digest
        if latency_ms is not None:
            record["latencyMs"] = latency_ms
        with self._lock:
            if len(self._queue) >= self.max_pending or self._closing:
                self._stats = _add(self._stats, {"dropped": 1})
                if not self._warned_drop:
                    self._warned_drop = True
                    log.warning("inference logger is full (memory and spool) or closed; dropping records")
                return str(record["key"])
            self._queue.append(record)
            if len(self._queue) >= self.batch_size:
                self._wake.notify()
        return str(record["key"])

    @property
    def stats(self) -> LoggerStats:
        with self._lock:
            return replace(
                self._stats,
                pending=len(self._queue) + self._in_flight,
                spool_files=self._spool.pending_files(),
            )

    def flush(self, timeout: float = 30.0) -> bool:
        """Send (or spool) everything queued so far. True when nothing is left in memory in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._flush_requested = True
            self._wake.notify()
            while (self._queue or self._in_flight) and time.monotonic() < deadline:
                self._wake.wait(timeout=0.05)
            return not self._queue and not self._in_flight

    def close(self, timeout: float = 30.0) -> None:
        """Flush, then stop the background thread. Records still unsent are in the spool."""
        if self._closing:
            return
        self.flush(timeout)
        with self._lock:
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout)
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> InferenceLogger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the logger's thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        oldest_since = time.monotonic()
        while True:
            with self._lock:
                while not self._closing and not self._flush_requested and len(self._queue) < self.batch_size:
                    waited = time.monotonic() - oldest_since
                    if self._queue and waited >= self.flush_interval:
                        break
                    if self._spool_due():
                        break
                    self._wake.wait(timeout=min(self.flush_interval, 0.25))
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
                self._in_flight = len(batch)
                if not self._queue:
                    self._flush_requested = False
                closing = self._closing
            oldest_since = time.monotonic()
            try:
                if batch:
                    self._deliver(batch)
                if self._spool_due():
                    self._replay_spool()
            except Exception:  # the thread must survive anything a bug could throw
                log.exception("inference logger: unexpected error; spooling the batch")
                self._to_spool(batch)
            finally:
                with self._lock:
                    self._in_flight = 0
                    self._wake.notify_all()
            if closing and not batch:
                return

    def _spool_due(self) -> bool:
        return time.monotonic() >= self._next_spool_attempt and self._spool.pending_files() > 0

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        try:
            self._send_with_retries(batch)
        except (_Retryable, _Refused) as exc:
            log.warning(
                "inference logger: cannot deliver %d records now (%s); spooling them", len(batch), exc
            )
            self._to_spool(batch)
            self._next_spool_attempt = time.monotonic() + self.spool_retry_interval

    def _send_with_retries(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(self.retries + 1):
            try:
                self._send(batch)
                return
            except _Retryable:
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff * (2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter

    def _send(self, batch: list[dict[str, Any]]) -> None:
        try:
            response = self._http.post(self.url, json={"inferences": batch}, headers=self._headers)
        except httpx.TransportError as exc:
            raise _Retryable(str(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            body = response.text
            if "LIMIT_EXCEEDED" in body and len(batch) > 1:  # the server takes smaller batches: split
                half = len(batch) // 2
                self._send(batch[:half])
                self._send(batch[half:])
                return
            raise _Refused(response.status_code, body)
        result = response.json()
        rejections = [Rejection(**r) for r in result.get("rejected", [])]
        self._count(
            sent=int(result.get("accepted", 0)),
            duplicates=int(result.get("duplicates", 0)),
            rejected=len(rejections),
        )
        for rejection in rejections:
            log.warning("inference %s rejected: %s %s", rejection.key, rejection.code, rejection.reason)
            if self.on_rejected is not None:
                try:
                    self.on_rejected(rejection, batch[rejection.index])
                except Exception:
                    log.exception("inference logger: the on_rejected callback failed")

    def _to_spool(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        if self._spool.write(batch):
            self._count(spooled=len(batch))
        else:
            self._count(dropped=len(batch))
            log.error(
                "inference logger: spool is full (%d bytes); %d records dropped",
                self._spool.max_bytes,
                len(batch),
            )

    def _replay_spool(self) -> None:
        for spooled in self._spool.claim():
            if spooled.corrupt_lines:
                self._count(corrupt=spooled.corrupt_lines)
            if not self._replay_file(spooled):
                self._spool.release(spooled)
                self._next_spool_attempt = time.monotonic() + self.spool_retry_interval
                return
            self._spool.done(spooled)
        self._next_spool_attempt = time.monotonic() + self.spool_retry_interval

    def _replay_file(self, spooled: SpoolFile) -> bool:
        for start in range(0, len(spooled.records), self.batch_size):
            try:
                self._send_with_retries(spooled.records[start : start + self.batch_size])
            except (_Retryable, _Refused) as exc:
                log.info("inference logger: spool replay paused (%s)", exc)
                return False
        return True

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = _add(self._stats, increments)


def _close_at_exit(ref: weakref.ref[InferenceLogger]) -> None:
    logger = ref()
    if logger is not None:
        logger.close()


def _add(stats: LoggerStats, increments: Mapping[str, int]) -> LoggerStats:
    return replace(stats, **{k: getattr(stats, k) + v for k, v in increments.items()})
