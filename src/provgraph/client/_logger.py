"""The inference logger for serving paths.

`log()` checks the record, appends it to an in-memory queue and returns its key. It does no I/O on the
caller's thread, never waits for the logger's thread, and never raises for bad data. A record that breaks
the service's rules — a latency that is NaN, infinite or negative; a lone surrogate in any string; a key or
endpoint that is not a name (`[A-Za-z0-9][A-Za-z0-9._-/+]{0,127}`, so no spaces or control characters); a
naive `at`; neither model version nor endpoint; a digest longer than 256 characters — is not queued, so it
cannot spoil a batch. It is counted in `stats.rejected` and in `stats.invalid`, and passed to `on_rejected`
on the logger's thread as a `Rejection` with `index` -1 and code `INVALID_ARGUMENT`.

A background thread sends batches — by size, or when the oldest record has waited `flush_interval` — to
the service's bulk path, one attempt per batch. The service answers per record: accepted, duplicate (the
key is already recorded) or rejected with a reason (counted, passed to `on_rejected`). If the service
refuses a whole batch as malformed or too large (HTTP 400, 413, 422), the batch is split in halves until
the records it refuses are isolated: the others are delivered, those are rejected with the service's code.
If it refuses the request itself (401, 403, 404, …: a bad token or URL) the records are kept in the spool
and a warning says why; a logger with a working token delivers them later.

When an attempt fails in a way that may pass (5xx, 429, a timeout, a refused connection), the batch is
written to the on-disk spool at once, and the service counts as down: until a replay of the spool
succeeds, new batches go straight to disk without a request, so no time is spent retrying on the sender
thread. The spool is replayed after `backoff` seconds, doubling up to `spool_retry_interval`; the first
replay that succeeds ends the outage. A later process that starts a logger on the same directory replays
what this one left. Every record carries a client-generated key and the service records each key once, so
a record sent twice (an answer lost, a replayed file) still lands once.

Crash bound (kill -9, OOM kill). A record is safe once the service has acknowledged it or once it is in
a spool file (written under a temporary name, fsynced, renamed). Until then it exists only in this
process's memory. The sender thread does one thing at a time: it takes a batch once its oldest record is
`flush_interval` old (sooner when `batch_size` records wait) or, if it is busy then, as soon as it is free;
it makes the batch's single attempt and, if that fails, writes the batch to disk — or, while the service is
known to be down, writes it to disk without an attempt. With R the longest one request takes (at most
`timeout`, 10 s by default), a kill -9 therefore loses at most

  * the records logged in the last `flush_interval + 2R` seconds while the service is up or its failure
    has not been seen yet (R for the request the thread was busy with when the batch became due, R for the
    batch's own attempt);
  * the records logged in the last `flush_interval + R` seconds once the service is known to be down (the
    thread is then busy with at most one replay probe),

plus the milliseconds it takes to write and fsync one spool file. R is about 0 when the service is stopped
(connections are refused at once), about 1 s when its database is down (the service answers 503 within a
second), and reaches `timeout` only when the service hangs without answering. Two cases take more than one
request per step: a batch the service refuses whole (too large or malformed) is split, a few requests
instead of one; and a spool file holding more than `batch_size` records (written by a logger with a larger
`batch_size`) is sent in several. Records dropped because memory and spool were full are not lost
silently: `stats.dropped` counts them.

Memory and disk are bounded: at most `max_pending` records wait in memory and `max_spool_bytes` on disk;
when both are full `log()` drops the record, counts it in `stats.dropped` and warns once.

The sender thread survives any error (SystemExit and KeyboardInterrupt aside): it logs it, keeps the
records concerned on disk, waits a little (the same backoff) and carries on; `stats.alive` says whether it
runs. No lock the caller's thread takes is held during I/O: the thread keeps a count of what is on disk,
updated as it writes, replays and lists the spool, and `stats` reads that count.

This module holds `InferenceLogger` (the queue, the sender thread, spool replay, the counters) and
`LoggerStats`. Building and checking one record is in `_records`, one batch's delivery over HTTP in
`_delivery`, the on-disk spool in `_spool`; none of them imports this module.
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
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from provgraph.client import _records
from provgraph.client._client import default_token, default_url, headers_for
from provgraph.client._delivery import Delivery, Unsent, bulk_url
from provgraph.client._models import Rejection
from provgraph.client._spool import Spool, SpoolFile

log = logging.getLogger("provgraph.client.logger")

RejectionCallback = Callable[[Rejection, Mapping[str, Any]], None]


@dataclass(frozen=True)
class LoggerStats:
    """Counters since the logger started, and what waits now.

    `sent` counts records the service accepted for the first time, `duplicates` records it already had
    (re-sent after a lost answer), `rejected` records that will never land because of their content —
    refused by the service (see `on_rejected`) or by `log()` itself — and `invalid` the part of those that
    `log()` (or a spool replay) refused before sending. `spooled` counts records written to disk (some since
    sent), `dropped` records lost because memory and spool were both full, `corrupt` unreadable spool lines.

    `pending` is every record not yet delivered: in memory, in flight, and on disk (claimed files
    included). `spooled_pending` is the part on disk and `spool_files` the number of files holding it —
    counting every file in the spool directory, also those of other loggers sharing it. `alive` says whether
    the sender thread runs (False after `close()`).
    """

    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    spooled: int = 0
    dropped: int = 0
    corrupt: int = 0
    pending: int = 0
    spool_files: int = 0
    invalid: int = 0
    spooled_pending: int = 0
    alive: bool = False


@dataclass(frozen=True)
class _Job:
    invalid: list[tuple[Rejection, dict[str, Any]]]
    batch: list[dict[str, Any]]
    spool: bool


class _SpoolWriteFailed(Exception):
    """The spool could not be written; the records went back to memory."""


def default_spool_dir() -> Path:
    configured = os.environ.get("PROVGRAPH_SPOOL_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "provgraph" / "spool"


class InferenceLogger:
    """Log inference→model links without slowing the serving path.

    `log()` never raises for bad data and never blocks: an invalid record is refused (counted in
    `stats.rejected` and `stats.invalid`, passed to `on_rejected`) instead of spoiling its batch. Each
    batch gets one attempt; when it fails (5xx, 429, timeout, refused connection) the batch goes to the
    spool at once and, until a replay of the spool succeeds, later batches go straight to disk.

    Crash bound: a kill -9 loses at most the records logged in the last `flush_interval + 2R` seconds, or
    `flush_interval + R` once the service is known to be down, R being the longest one request takes (at
    most `timeout`; about 0 when the service is stopped, about 1 s when its database is down, answering
    503). Everything older is delivered or in the spool. The module docstring gives the reasoning and the
    exceptions (batches the service refuses whole are split; spool files larger than `batch_size`).

    Parameters:
        url: the service's GraphQL URL (default `PROVGRAPH_URL`); batches go to its `/v1/inferences`.
        token: bearer token (default `PROVGRAPH_TOKEN`).
        batch_size: records per request; a batch is also sent when its oldest record is `flush_interval`
            seconds old.
        spool_dir: where undeliverable batches wait (default `PROVGRAPH_SPOOL_DIR` or ~/.cache/provgraph/spool).
        max_pending: records held in memory at most.
        max_spool_bytes: bytes the spool may hold at most.
        retries: accepted for compatibility and ignored: a batch goes to disk after its first failed
            attempt, and replaying the spool is the retry.
        backoff: the first delay before replaying the spool after a failure (doubling, with jitter, up to
            `spool_retry_interval`); also the first pause after an unexpected error.
        timeout: seconds per HTTP request (ignored when `http_client` is given).
        spool_retry_interval: the longest wait between replays of the spool while the service is down,
            and between listings of the spool directory otherwise.
        on_rejected: called on the logger's thread with each rejection and the record it concerns (for
            records refused by `log()`, the fields as given). Exceptions it raises are logged.
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

        # Shared with the caller's threads, under _lock (never held during I/O).
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[dict[str, Any]] = deque()
        self._oldest_at: float | None = None  # when the oldest queued record was logged (or earlier)
        self._invalid: deque[tuple[Rejection, dict[str, Any]]] = deque()
        self._stats = LoggerStats()
        self._in_flight = 0
        self._handing_out = 0
        self._disk_records = self._spool.records
        self._disk_files = self._spool.files
        self._closing = False
        self._flush_requested = False
        self._warned_drop = False
        self._pause_until = 0.0

        # The sender thread's own state.
        self._down = False
        self._failures = 0
        self._errors = 0
        self._next_spool_at = 0.0  # replay what an earlier run left behind straight away
        self._last_scan = 0.0
        self._replay: deque[str] = deque()  # spool files to replay, oldest first (refilled by listing)
        self._memory_batch = False
        self._warn_window = 0.0
        self._warnings = 0

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
        """Queue one inference and return its key (the one given, or a new UUID). Name the model version,
        the endpoint, or both; `at` (default now) must carry a time zone.

        Never raises for bad data and never blocks: a record that breaks the service's rules is not queued
        but counted in `stats.rejected` and `stats.invalid` and passed to `on_rejected` (on the logger's
        thread, shortly after); a record that finds memory and spool full is dropped and counted in
        `stats.dropped`.
        """
        record_key: Any = uuid.uuid4().hex if key is None else key
        record, problem = _records.build(
            record_key, model_version_id, endpoint, at, input_digest, output_digest, latency_ms
        )
        warn_drop = False
        with self._lock:
            if problem is not None:
                self._stats = _add(self._stats, {"rejected": 1, "invalid": 1})
                # The callback runs on the logger's thread, like every other on_rejected call; beyond
                # max_pending waiting calls (or after close) the record is only counted.
                if not self._closing and len(self._invalid) < self.max_pending:
                    self._invalid.append((_records.invalid(record_key, problem[1], problem[0]), record))
                    self._wake.notify()
            elif self._closing or len(self._queue) >= self.max_pending:
                self._stats = _add(self._stats, {"dropped": 1})
                warn_drop, self._warned_drop = not self._warned_drop, True
            else:
                if not self._queue:
                    self._oldest_at = time.monotonic()
                    self._wake.notify()  # so the thread times the flush from this record
                self._queue.append(record)
                if len(self._queue) == self.batch_size:
                    self._wake.notify()
        if warn_drop:  # logging is I/O: never under the lock
            log.warning("inference logger is full (memory and spool) or closed; dropping records")
        return record_key if isinstance(record_key, str) else str(record_key)

    @property
    def stats(self) -> LoggerStats:
        """The counters and what waits now (see `LoggerStats`); reads cached counts, no I/O."""
        with self._lock:
            return replace(
                self._stats,
                pending=len(self._queue) + self._in_flight + self._disk_records,
                spooled_pending=self._disk_records,
                spool_files=self._disk_files,
                alive=self._thread.is_alive(),
            )

    def flush(self, timeout: float = 30.0) -> bool:
        """Send (or spool) everything queued so far, and hand out the rejections of `log()`. True when
        nothing is left in memory in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._flush_requested = True
            self._wake.notify_all()
            while self._busy() and self._thread.is_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.wait(timeout=min(remaining, 0.05))
            return not self._busy()

    def close(self, timeout: float = 30.0) -> None:
        """Flush, then stop the background thread. Records still unsent are in the spool."""
        with self._lock:
            if self._closing:
                return
        self.flush(timeout)
        with self._lock:
            self._closing = True
            self._wake.notify_all()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._spool.close()
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> InferenceLogger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _busy(self) -> bool:
        return bool(self._queue or self._in_flight or self._invalid or self._handing_out)

    # -- the logger's thread: scheduling -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                job = self._next_job()
                if job is None:
                    return
                try:
                    if job.invalid:
                        self._hand_out(job.invalid)
                    if job.batch:
                        self._deliver(job.batch)
                    elif job.spool:
                        self._spool_turn()
                    else:
                        continue  # only callbacks: the error streak (and its pause) stands
                    self._errors = 0
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException:  # the thread must survive anything a bug (or a callback) throws
                    log.exception(
                        "inference logger: unexpected error; the records concerned are kept, carrying on"
                    )
                    self._errors += 1
                    pause = self._delay(self._errors)
                    with self._lock:
                        self._pause_until = time.monotonic() + pause
                finally:
                    with self._lock:
                        self._in_flight = 0
                        self._handing_out = 0
                        self._wake.notify_all()
        finally:
            self._abandon()

    def _next_job(self) -> _Job | None:
        """Wait (under the lock, doing no I/O) until there is something to do; None when closed."""
        with self._lock:
            while True:
                now = time.monotonic()
                paused = now < self._pause_until
                if self._flush_requested and not self._queue:
                    self._flush_requested = False
                batch_due = (
                    bool(self._queue)
                    and not paused
                    and (
                        self._closing
                        or self._flush_requested
                        or len(self._queue) >= self.batch_size
                        or now - (self._oldest_at or now) >= self.flush_interval
                    )
                )
                spool_due = not self._closing and not paused and now >= self._next_spool_at
                if self._invalid or batch_due or spool_due:
                    break
                if self._closing and not self._queue:
                    return None
                wait = 1.0 if self._closing else self._next_spool_at - now
                if self._queue and self._oldest_at is not None:
                    wait = min(wait, self._oldest_at + self.flush_interval - now)
                if paused:
                    wait = self._pause_until - now
                self._wake.wait(timeout=min(max(wait, 0.001), 1.0))
            invalid = list(self._invalid)
            self._invalid.clear()
            self._handing_out = len(invalid)
            batch: list[dict[str, Any]] = []
            if batch_due:
                # Records left behind keep `_oldest_at`: they are at least that old, so they are not kept
                # waiting longer than `flush_interval`.
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
                self._in_flight = len(batch)
                if not self._queue:
                    self._oldest_at = None
            return _Job(invalid, batch, spool_due and not batch)

    def _delay(self, failures: int) -> float:
        doubled = self.backoff * float(2 ** min(failures - 1, 30))
        return min(doubled * (0.75 + random.random() / 2), self.spool_retry_interval)  # noqa: S311 - jitter

    # -- the logger's thread: memory batches ---------------------------------------------------------------
    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        self._memory_batch = True
        try:
            if self._down:
                # The service is known to be down: disk first, no request; the spool replay probes it.
                self._keep(batch)
                return
            unsent = self._attempt(batch)
            if unsent is None:
                self._service_up()
                return
            self._keep(unsent.records)
            self._service_down(unsent)
        except _SpoolWriteFailed:
            raise  # the records are back in memory
        except BaseException:
            # Keep the whole batch: some of it may have landed already, and landing twice is harmless.
            try:
                self._keep(batch)
            except Exception:
                log.exception("inference logger: cannot keep %d records after an error", len(batch))
            raise

    def _keep(self, records: list[dict[str, Any]]) -> None:
        """Put records of a memory batch on disk, or back in memory if the disk fails."""
        if not records:
            return
        try:
            name = self._spool.write(records)
        except OSError as exc:
            self._requeue(records)
            raise _SpoolWriteFailed(
                f"cannot write the spool in {self._spool.directory}; {len(records)} records back in memory"
            ) from exc
        if name is None:
            self._settled(len(records), dropped=len(records))
            log.error(
                "inference logger: spool is full (%d bytes); %d records dropped",
                self._spool.max_bytes,
                len(records),
            )
            return
        self._replay.append(name)
        with self._lock:  # one step, so `stats.pending` never counts these records twice
            self._stats = _add(self._stats, {"spooled": len(records)})
            self._in_flight = max(0, self._in_flight - len(records))
            self._disk_records, self._disk_files = self._spool.records, self._spool.files

    def _requeue(self, records: list[dict[str, Any]]) -> None:
        with self._lock:
            room = max(0, self.max_pending - len(self._queue))
            back, lost = records[:room], len(records) - min(room, len(records))
            self._queue.extendleft(reversed(back))
            self._oldest_at = time.monotonic() - self.flush_interval  # due as soon as the pause ends
            self._in_flight = max(0, self._in_flight - len(records))
            if lost:
                self._stats = _add(self._stats, {"dropped": lost})

    # -- the logger's thread: the spool --------------------------------------------------------------------
    def _spool_turn(self) -> None:
        """Replay one spool file (listing the directory first when due)."""
        now = time.monotonic()
        if not self._replay or now - self._last_scan >= self.spool_retry_interval:
            self._replay = deque(self._spool.scan())  # also takes back claims of dead processes
            self._last_scan = now
            self._publish()
        if not self._replay:
            self._next_spool_at = now + self.spool_retry_interval
            return
        spooled = self._spool.claim(self._replay.popleft())
        self._publish()
        if spooled is None:
            return  # another logger took it
        settled = False
        try:
            self._replay_file(spooled)
            settled = True
        finally:
            if not settled:  # whatever went wrong, the claim goes back
                try:
                    self._spool.release(spooled)
                except OSError:
                    log.exception("inference logger: cannot release the spool claim %s", spooled.path)
            self._publish()

    def _replay_file(self, spooled: SpoolFile) -> None:
        """Send one claimed file; finish it, shrink it to what is left, or give it back."""
        self._memory_batch = False
        if spooled.corrupt_lines:
            self._count(corrupt=spooled.corrupt_lines)
        good: list[dict[str, Any]] = []
        for record in spooled.records:  # written by an older version, or edited: check again
            problem = _records.problem(record)
            if problem is None:
                good.append(record)
            else:
                self._reject(
                    _records.invalid(record.get("key"), problem[1], problem[0]), record, invalid=True
                )
        shrunk = len(good) < len(spooled.records) or spooled.corrupt_lines > 0
        sent_any = False
        for start in range(0, len(good), self.batch_size):
            self._spool.heartbeat(spooled)
            unsent = self._attempt(good[start : start + self.batch_size])
            if unsent is None:
                sent_any = True
                continue
            left = unsent.records + good[start + self.batch_size :]
            if shrunk or len(left) < len(good):
                # Part of the file is settled: keep only the rest, so nothing is rejected twice.
                name = self._spool.replace(spooled, left)
                if name is not None:
                    self._replay.appendleft(name)
            else:
                self._spool.release(spooled)
                self._replay.appendleft(spooled.name)
            self._service_down(unsent)
            return
        self._spool.done(spooled)
        if sent_any:
            self._service_up()
        self._next_spool_at = time.monotonic()

    def _service_down(self, unsent: Unsent) -> None:
        self._failures += 1
        self._next_spool_at = time.monotonic() + self._delay(self._failures)
        if self._down:
            log.debug("inference logger: still cannot deliver (%s)", unsent.reason)
            return
        self._down = True
        if unsent.retryable:
            log.warning(
                "inference logger: cannot deliver (%s); batches go to the spool in %s until the service answers",
                unsent.reason,
                self._spool.directory,
            )
        else:
            log.warning(
                "inference logger: the service refused the request (%s) — check the token and the URL; "
                "the records are kept in the spool in %s and a logger with access will deliver them",
                unsent.reason,
                self._spool.directory,
            )

    def _service_up(self) -> None:
        if not self._down:
            return
        log.info("inference logger: the service answers again; replaying the spool")
        self._down = False
        self._failures = 0
        self._next_spool_at = min(self._next_spool_at, time.monotonic())

    def _publish(self) -> None:
        with self._lock:
            self._disk_records, self._disk_files = self._spool.records, self._spool.files

    # -- the logger's thread: HTTP -------------------------------------------------------------------------
    def _attempt(self, batch: list[dict[str, Any]]) -> Unsent | None:
        """Send a batch once (splitting it if the service refuses it whole). None when every record is
        settled: accepted, duplicate or rejected."""
        return Delivery(self._send, reject=self._reject, settle=self._settled).attempt(batch)

    def _send(self, body: bytes) -> httpx.Response:
        return self._http.post(self.url, content=body, headers=self._headers)

    # -- the logger's thread: accounting and callbacks -----------------------------------------------------
    def _hand_out(self, invalid: list[tuple[Rejection, dict[str, Any]]]) -> None:
        for rejection, record in invalid:  # already counted by log()
            self._note(rejection)
            self._call_back(rejection, record)

    def _reject(self, rejection: Rejection, record: Mapping[str, Any], *, invalid: bool) -> None:
        self._settled(1, rejected=1, invalid=int(invalid))
        self._note(rejection)
        self._call_back(rejection, record)

    def _call_back(self, rejection: Rejection, record: Mapping[str, Any]) -> None:
        if self.on_rejected is None:
            return
        try:
            self.on_rejected(rejection, record)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException:
            log.exception("inference logger: the on_rejected callback failed")

    def _note(self, rejection: Rejection) -> None:
        """Warn about a rejection, at most 20 times a minute (the counter has them all)."""
        now = time.monotonic()
        if now - self._warn_window > 60:
            self._warn_window, self._warnings = now, 0
        self._warnings += 1
        if self._warnings <= 20:
            where = f" (field {rejection.field})" if rejection.field else ""
            log.warning(
                "inference %r rejected: %s%s %s", rejection.key, rejection.code, where, rejection.reason
            )
        elif self._warnings == 21:
            log.warning("inference logger: more rejections this minute; see stats.rejected and on_rejected")

    def _settled(self, records: int, **increments: int) -> None:
        with self._lock:
            self._stats = _add(self._stats, increments)
            if self._memory_batch:
                self._in_flight = max(0, self._in_flight - records)

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = _add(self._stats, increments)

    def _abandon(self) -> None:
        """The thread is ending: whatever is still in memory goes to the spool (normally nothing)."""
        with self._lock:
            rest = list(self._queue)
            self._queue.clear()
            self._oldest_at = None
            self._in_flight = len(rest)
        try:
            if rest:
                self._memory_batch = True
                self._keep(rest)
        except BaseException:
            log.exception("inference logger: stopping; %d records could not be kept", len(rest))
        finally:
            with self._lock:
                self._in_flight = 0
                self._wake.notify_all()


def _close_at_exit(ref: weakref.ref[InferenceLogger]) -> None:
    logger = ref()
    if logger is not None:
        logger.close()


def _add(stats: LoggerStats, increments: Mapping[str, int]) -> LoggerStats:
    return replace(stats, **{k: getattr(stats, k) + v for k, v in increments.items() if v})
