"""The inference logger's own batching, retry and spool logic, against a fake transport.

(The logger against the real service is in tests/e2e/test_sdk.py and tests/e2e/test_logger_faults.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from provgraph.client import InferenceLogger
from provgraph.client._models import Rejection
from provgraph.client._spool import Spool

GOOD = "modelVersion:m:1"
AT = "2026-06-01T00:00:00+00:00"


class FakeService:
    """Answers the bulk path like the service: each key is recorded once; can be told to fail."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.requests = 0
        self.failing = False
        self.status: int | None = None  # answer every request with this status (401, 403, …)
        self.max_batch: int | None = None
        self.reject_models: set[str] = set()
        self.poison_keys: set[str] = set()  # a batch holding one of these is refused whole, with 400
        self.raise_next: list[BaseException] = []  # raised by the transport, one per request
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.gate.wait(10)
        with self.lock:
            self.requests += 1
            if self.raise_next:
                raise self.raise_next.pop(0)
            if self.failing:
                return httpx.Response(503, json={"error": {"code": "UNAVAILABLE"}})
            if self.status is not None:
                return httpx.Response(self.status, json={"error": {"code": "UNAUTHENTICATED"}})
            # Stricter than json.loads: NaN, Infinity or a lone surrogate would fail here, as they must
            # never leave the logger.
            items = json.loads(request.content.decode("utf-8"), parse_constant=_no_constants)["inferences"]
            if self.max_batch is not None and len(items) > self.max_batch:
                return httpx.Response(400, json={"error": {"code": "LIMIT_EXCEEDED"}})
            if any(item["key"] in self.poison_keys for item in items):
                return httpx.Response(
                    400,
                    json={"error": {"code": "INVALID_ARGUMENT", "message": "poison", "field": "inferences"}},
                )
            accepted = duplicates = 0
            rejected = []
            for index, item in enumerate(items):
                if item.get("modelVersionId") in self.reject_models:
                    rejected.append(
                        {
                            "index": index,
                            "key": item["key"],
                            "code": "NOT_FOUND",
                            "reason": "no such version",
                            "field": "modelVersionId",
                        }
                    )
                elif item["key"] in self.keys:
                    duplicates += 1
                else:
                    self.keys.append(item["key"])
                    accepted += 1
            return httpx.Response(
                200, json={"accepted": accepted, "duplicates": duplicates, "rejected": rejected}
            )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@pytest.fixture
def service() -> FakeService:
    return FakeService()


def make_logger(service: FakeService, tmp_path: Path, **options: Any) -> InferenceLogger:
    settings: dict[str, Any] = {
        "batch_size": 10,
        "flush_interval": 0.05,
        "spool_dir": tmp_path / "spool",
        "retries": 1,
        "backoff": 0.01,
        "spool_retry_interval": 0.1,
        "http_client": httpx.Client(transport=httpx.MockTransport(service.handle)),
    }
    settings.update(options)
    return InferenceLogger("http://service.test/graphql", **settings)


def test_log_returns_a_key_and_close_flushes(service: FakeService, tmp_path: Path) -> None:
    logger = make_logger(service, tmp_path, batch_size=1000, flush_interval=60)
    keys = [logger.log(model_version_id="modelVersion:m:1") for _ in range(25)]
    assert len(set(keys)) == 25
    logger.close()
    assert sorted(service.keys) == sorted(keys)
    assert logger.stats.sent == 25 and logger.stats.pending == 0


def test_batches_by_size(service: FakeService, tmp_path: Path) -> None:
    with make_logger(service, tmp_path, batch_size=10, flush_interval=60) as logger:
        for _ in range(30):
            logger.log(model_version_id="modelVersion:m:1")
        assert logger.flush(5)
    assert service.requests == 3


def test_an_outage_spools_and_everything_lands_once_when_the_service_is_back(
    service: FakeService, tmp_path: Path
) -> None:
    logger = make_logger(service, tmp_path)
    keys = [logger.log(model_version_id="modelVersion:m:1") for _ in range(15)]
    assert logger.flush(5)
    service.failing = True
    keys += [logger.log(model_version_id="modelVersion:m:1") for _ in range(25)]
    assert logger.flush(5)
    assert logger.stats.spooled == 25
    assert logger.stats.spool_files >= 1
    service.failing = False
    for _ in range(100):
        if logger.stats.spool_files == 0:
            break
        threading.Event().wait(0.05)
    logger.close()
    assert sorted(service.keys) == sorted(keys)  # every key exactly once
    assert logger.stats.sent == 40


def test_a_spool_left_by_an_earlier_run_is_replayed_and_corrupt_lines_are_skipped(
    service: FakeService, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    lines = [
        json.dumps({"key": f"k{n}", "at": "2026-06-01T00:00:00+00:00", "modelVersionId": "modelVersion:m:1"})
        for n in range(3)
    ]
    (spool / "00000000000000000001-old.ndjson").write_text(
        "\n".join([lines[0], "{not json", lines[1], '"a string"', lines[2]]) + "\n"
    )
    logger = make_logger(service, tmp_path)
    for _ in range(100):
        if logger.stats.spool_files == 0 and service.keys:
            break
        threading.Event().wait(0.05)
    logger.close()
    assert sorted(service.keys) == ["k0", "k1", "k2"]
    assert logger.stats.corrupt == 2
    assert list(spool.glob("*.ndjson*")) == []


def test_rejections_reach_the_callback_and_the_counter(service: FakeService, tmp_path: Path) -> None:
    service.reject_models = {"modelVersion:m:9"}
    seen: list[tuple[Rejection, dict[str, Any]]] = []
    with make_logger(
        service, tmp_path, on_rejected=lambda r, record: seen.append((r, dict(record)))
    ) as logger:
        good = logger.log(model_version_id="modelVersion:m:1")
        bad = logger.log(model_version_id="modelVersion:m:9")
    assert service.keys == [good]
    assert logger.stats.rejected == 1
    assert [(r.key, r.code, record["modelVersionId"]) for r, record in seen] == [
        (bad, "NOT_FOUND", "modelVersion:m:9")
    ]


def test_a_batch_too_large_for_the_server_is_split(service: FakeService, tmp_path: Path) -> None:
    service.max_batch = 4
    with make_logger(service, tmp_path, batch_size=10, flush_interval=60) as logger:
        for _ in range(10):
            logger.log(model_version_id="modelVersion:m:1")
    assert len(service.keys) == 10


def test_memory_is_bounded_and_drops_are_counted(service: FakeService, tmp_path: Path) -> None:
    service.gate.clear()  # the first request hangs, so records pile up in memory
    logger = make_logger(service, tmp_path, batch_size=5, max_pending=20, flush_interval=0.01)
    logger.log(model_version_id="modelVersion:m:1")
    for _ in range(200):
        if logger.stats.pending == 1 and service.requests == 0:
            threading.Event().wait(0.05)  # wait for the sender to pick the first record up
            break
    for _ in range(40):
        logger.log(model_version_id="modelVersion:m:1")
    assert logger.stats.dropped >= 40 - 20
    service.gate.set()
    logger.close()
    assert len(service.keys) + logger.stats.dropped == 41


def test_a_full_spool_drops_and_says_so(service: FakeService, tmp_path: Path) -> None:
    service.failing = True
    with make_logger(service, tmp_path, max_spool_bytes=300) as logger:
        for _ in range(30):
            logger.log(model_version_id="modelVersion:m:1")
    assert logger.stats.dropped > 0
    assert logger.stats.spooled + logger.stats.dropped == 30


def test_logging_after_close_is_dropped_not_lost_silently(service: FakeService, tmp_path: Path) -> None:
    logger = make_logger(service, tmp_path)
    logger.close()
    logger.log(model_version_id="modelVersion:m:1")
    assert logger.stats.dropped == 1


# -- helpers for the fault tests ---------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def record(key: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "at": AT, "modelVersionId": GOOD, **fields}


def write_spool(directory: Path, name: str, lines: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def spool_names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


class _Boom(BaseException):
    """Not an Exception: what a misbehaving library (or a cancelled greenlet) might raise."""


class _BrokenDatetime(datetime):
    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        raise RuntimeError("broken")


# -- 1. one bad record never loses its batch ---------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("latency NaN", {"latency_ms": float("nan")}, "latencyMs"),
    ("latency inf", {"latency_ms": float("inf")}, "latencyMs"),
    ("latency -inf", {"latency_ms": float("-inf")}, "latencyMs"),
    ("latency 1e999", {"latency_ms": float("1e999")}, "latencyMs"),
    ("latency negative", {"latency_ms": -1.0}, "latencyMs"),
    ("latency bool", {"latency_ms": True}, "latencyMs"),
    ("latency string", {"latency_ms": "12"}, "latencyMs"),
    ("latency int too large for a float", {"latency_ms": 10**400}, "latencyMs"),
    ("surrogate input digest", {"input_digest": "sha256:\ud800"}, "inputDigest"),
    ("surrogate output digest", {"output_digest": "\udfff"}, "outputDigest"),
    ("digest too long", {"input_digest": "x" * 257}, "inputDigest"),
    ("surrogate key", {"key": "k\ud800"}, "key"),
    ("key with a trailing newline", {"key": "abc\n"}, "key"),
    ("key with a control character", {"key": "a\x00b"}, "key"),
    ("key with leading space", {"key": " abc"}, "key"),
    ("key with trailing space", {"key": "abc "}, "key"),
    ("empty key", {"key": ""}, "key"),
    ("key starting with a dash", {"key": "-abc"}, "key"),
    ("key too long", {"key": "k" * 129}, "key"),
    ("surrogate endpoint", {"endpoint": "ep\ud800"}, "endpoint"),
    ("endpoint with a newline", {"endpoint": "ep\n"}, "endpoint"),
    ("endpoint with a tab", {"endpoint": "ep\t"}, "endpoint"),
    ("endpoint with leading space", {"endpoint": " ep"}, "endpoint"),
    ("surrogate model version", {"model_version_id": "modelVersion:m:\ud800"}, "modelVersionId"),
    ("model version with a newline", {"model_version_id": "modelVersion:m:1\n"}, "modelVersionId"),
    ("model version not a string", {"model_version_id": 42}, "modelVersionId"),
    ("neither model version nor endpoint", {"model_version_id": None}, "modelVersionId"),
    ("naive at", {"at": datetime(2026, 6, 1, 12, 0)}, "at"),
    ("at not a datetime", {"at": "2026-06-01T00:00:00+00:00"}, "at"),
    ("at whose isoformat fails", {"at": _BrokenDatetime(2026, 6, 1, tzinfo=UTC)}, "inference"),
]


@pytest.mark.parametrize(("bad", "field"), [(c[1], c[2]) for c in INVALID], ids=[c[0] for c in INVALID])
def test_an_invalid_record_is_rejected_alone_and_its_batch_lands(
    service: FakeService, tmp_path: Path, bad: dict[str, Any], field: str
) -> None:
    seen: list[tuple[Rejection, dict[str, Any]]] = []
    logger = make_logger(
        service,
        tmp_path,
        batch_size=100,
        flush_interval=60,
        on_rejected=lambda r, rec: seen.append((r, dict(rec))),
    )
    good = [logger.log(model_version_id=GOOD) for _ in range(5)]
    returned = logger.log(**cast(Any, {"model_version_id": GOOD, **bad}))  # must not raise
    good += [logger.log(model_version_id=GOOD) for _ in range(5)]
    logger.close()
    assert sorted(service.keys) == sorted(good)
    assert service.requests == 1  # the ten good ones went in one batch
    stats = logger.stats
    assert (stats.sent, stats.rejected, stats.invalid, stats.pending, stats.spooled) == (10, 1, 1, 0, 0)
    assert len(seen) == 1
    rejection, rejected_record = seen[0]
    assert (rejection.index, rejection.code, rejection.field) == (-1, "INVALID_ARGUMENT", field)
    assert rejection.key == returned == rejected_record["key"]
    assert rejection.reason
    assert list((tmp_path / "spool").iterdir()) == []


def test_records_a_logger_spooled_before_validation_existed_are_checked_on_replay(
    service: FakeService, tmp_path: Path
) -> None:
    # What the earlier logger wrote: json.dumps writes NaN as a bare token and escapes a lone surrogate.
    lines = [
        json.dumps(record("good-1")),
        json.dumps(record("bad-nan", latencyMs=float("nan"))),
        json.dumps(record("bad-surrogate", inputDigest="\ud800")),
        json.dumps(record("good-2")),
    ]
    write_spool(tmp_path / "spool", "00000000000000000001-1-old.ndjson", lines)
    seen: list[Rejection] = []
    logger = make_logger(service, tmp_path, on_rejected=lambda r, _: seen.append(r))
    wait_for(lambda: logger.stats.spooled_pending == 0 and len(service.keys) == 2)
    logger.close()
    assert sorted(service.keys) == ["good-1", "good-2"]
    assert sorted((r.key, r.field) for r in seen) == [
        ("bad-nan", "latencyMs"),
        ("bad-surrogate", "inputDigest"),
    ]
    assert (logger.stats.rejected, logger.stats.invalid) == (2, 2)
    assert spool_names(tmp_path / "spool") == []


def test_a_batch_the_service_refuses_whole_is_bisected(service: FakeService, tmp_path: Path) -> None:
    service.poison_keys = {"poison-1", "poison-2"}
    seen: list[tuple[Rejection, dict[str, Any]]] = []
    logger = make_logger(
        service,
        tmp_path,
        batch_size=100,
        flush_interval=60,
        on_rejected=lambda r, rec: seen.append((r, dict(rec))),
    )
    good = [logger.log(model_version_id=GOOD) for _ in range(20)]
    logger.log(model_version_id=GOOD, key="poison-1")
    good += [logger.log(model_version_id=GOOD) for _ in range(20)]
    logger.log(model_version_id=GOOD, key="poison-2")
    good += [logger.log(model_version_id=GOOD) for _ in range(3)]
    logger.close()
    assert sorted(service.keys) == sorted(good)
    assert sorted((r.key, r.code, r.field, rec["key"]) for r, rec in seen) == [
        ("poison-1", "INVALID_ARGUMENT", "inferences", "poison-1"),
        ("poison-2", "INVALID_ARGUMENT", "inferences", "poison-2"),
    ]
    stats = logger.stats
    assert (stats.sent, stats.rejected, stats.invalid, stats.spooled, stats.pending) == (43, 2, 0, 0, 0)
    assert spool_names(tmp_path / "spool") == []


def test_a_spool_file_the_service_refuses_whole_is_bisected_too(service: FakeService, tmp_path: Path) -> None:
    service.poison_keys = {"poison"}
    keys = [f"k{n}" for n in range(9)]
    lines = [json.dumps(record(k)) for k in keys[:4]] + [json.dumps(record("poison"))]
    lines += [json.dumps(record(k)) for k in keys[4:]]
    write_spool(tmp_path / "spool", "00000000000000000001-1-abc-n10.ndjson", lines)
    logger = make_logger(service, tmp_path)
    wait_for(lambda: logger.stats.spooled_pending == 0)
    logger.close()
    assert sorted(service.keys) == keys
    assert logger.stats.rejected == 1
    assert spool_names(tmp_path / "spool") == []


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_keeps_the_records_until_a_logger_with_access_sends_them(
    service: FakeService, tmp_path: Path, status: int
) -> None:
    service.status = status
    logger = make_logger(service, tmp_path, batch_size=10, spool_retry_interval=0.05)
    keys = [logger.log(model_version_id=GOOD) for _ in range(25)]
    assert logger.flush(5)
    logger.close()
    assert (logger.stats.rejected, logger.stats.dropped, logger.stats.sent) == (0, 0, 0)
    assert logger.stats.spooled_pending == 25  # on disk, not lost and not "rejected"
    service.status = None  # the token is fixed: the next logger on the directory delivers them
    again = make_logger(service, tmp_path)
    wait_for(lambda: again.stats.pending == 0)
    again.close()
    assert sorted(service.keys) == sorted(keys)


# -- 2. claims are taken back and always released ----------------------------------------------------------


def test_a_claim_of_a_dead_process_is_taken_back_at_start(service: FakeService, tmp_path: Path) -> None:
    lines = [json.dumps(record(f"k{n}")) for n in range(3)]
    write_spool(tmp_path / "spool", f"00000000000000000001-1-abc-n3.ndjson.sending-{dead_pid()}", lines)
    logger = make_logger(service, tmp_path)
    wait_for(lambda: len(service.keys) == 3 and logger.stats.spool_files == 0)
    logger.close()
    assert sorted(service.keys) == ["k0", "k1", "k2"]
    assert spool_names(tmp_path / "spool") == []


def test_a_claim_of_a_process_that_dies_later_is_taken_back_while_running(
    service: FakeService, tmp_path: Path
) -> None:
    logger = make_logger(service, tmp_path, spool_retry_interval=0.05)
    wait_for(lambda: logger.stats.alive)
    lines = [json.dumps(record(f"k{n}")) for n in range(4)]
    # Old form of a claim (no owner) and new form, both left by dead processes after this logger started.
    write_spool(tmp_path / "spool", f"00000000000000000001-1-abc-n2.ndjson.sending-{dead_pid()}", lines[:2])
    write_spool(
        tmp_path / "spool", f"00000000000000000002-1-def-n2.ndjson.sending-{dead_pid()}-0123abcd", lines[2:]
    )
    wait_for(lambda: len(service.keys) == 4 and logger.stats.spool_files == 0)
    logger.close()
    assert sorted(service.keys) == ["k0", "k1", "k2", "k3"]


def test_a_claim_with_this_pid_but_no_live_owner_is_taken_back(service: FakeService, tmp_path: Path) -> None:
    # A restarted container gets the same pid as the process that left the claim.
    lines = [json.dumps(record("k0"))]
    write_spool(tmp_path / "spool", f"00000000000000000001-1-abc-n1.ndjson.sending-{os.getpid()}", lines)
    name = f"00000000000000000002-1-abc-n1.ndjson.sending-{os.getpid()}-feed"
    write_spool(tmp_path / "spool", name, [json.dumps(record("k1"))])
    logger = make_logger(service, tmp_path)
    wait_for(lambda: len(service.keys) == 2 and logger.stats.spool_files == 0)
    logger.close()
    assert sorted(service.keys) == ["k0", "k1"]


def test_a_live_claim_is_left_alone_until_it_is_abandoned_for_too_long(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    claim = write_spool(
        directory,
        f"00000000000000000001-1-abc-n1.ndjson.sending-{os.getppid()}-0a",
        [json.dumps(record("k"))],
    )
    spool = Spool(directory, 10**6, stale_after=60)
    assert spool.scan() == []  # its process is alive and it was touched just now
    assert claim.exists() and (spool.records, spool.files) == (1, 1)
    old = time.time() - 120
    os.utime(claim, (old, old))
    assert spool.scan() == ["00000000000000000001-1-abc-n1.ndjson"]
    assert not claim.exists()
    spool.close()


def test_a_temporary_file_of_a_dead_writer_is_recovered(service: FakeService, tmp_path: Path) -> None:
    lines = [json.dumps(record("k0")), json.dumps(record("k1")), '{"key": "k2", "at": "2026']  # cut short
    write_spool(tmp_path / "spool", f".{dead_pid()}-0a1b-2c3d.tmp", lines)
    logger = make_logger(service, tmp_path)
    wait_for(lambda: len(service.keys) == 2 and logger.stats.spool_files == 0)
    logger.close()
    assert sorted(service.keys) == ["k0", "k1"]
    assert logger.stats.corrupt == 1


@pytest.mark.parametrize("error", [RuntimeError("boom"), _Boom()], ids=["Exception", "BaseException"])
def test_a_claim_is_released_when_replay_fails_unexpectedly(
    service: FakeService, tmp_path: Path, error: BaseException
) -> None:
    directory = tmp_path / "spool"
    write_spool(
        directory, "00000000000000000001-1-abc-n3.ndjson", [json.dumps(record(f"k{n}")) for n in range(3)]
    )
    service.raise_next = [error]
    # Long pauses: after the failure, nothing touches the file again during the test.
    logger = make_logger(service, tmp_path, backoff=60, spool_retry_interval=60)
    wait_for(lambda: service.requests == 1)
    wait_for(lambda: spool_names(directory) == ["00000000000000000001-1-abc-n3.ndjson"])
    stats = logger.stats
    assert (stats.alive, stats.spooled_pending, stats.pending, stats.spool_files) == (True, 3, 3, 1)
    logger.close()
    again = make_logger(service, tmp_path)
    wait_for(lambda: len(service.keys) == 3)
    again.close()
    assert spool_names(directory) == []


# -- 3. stats count what waits on disk ---------------------------------------------------------------------


def test_stats_count_records_on_disk_and_in_claimed_files(service: FakeService, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    write_spool(
        directory, "00000000000000000001-1-abc-n5.ndjson", [json.dumps(record(f"a{n}")) for n in range(5)]
    )
    write_spool(
        directory, "00000000000000000002-1-old.ndjson", [json.dumps(record(f"b{n}")) for n in range(3)]
    )
    # Claimed by a live process (this test's parent): not ours to send, but waiting all the same.
    write_spool(
        directory,
        f"00000000000000000003-1-def-n4.ndjson.sending-{os.getppid()}-0a",
        [json.dumps(record(f"c{n}")) for n in range(4)],
    )
    service.failing = True
    logger = make_logger(service, tmp_path, backoff=60, spool_retry_interval=60)
    wait_for(lambda: service.requests >= 1)  # one replay attempt failed: the service is known down
    stats = logger.stats
    assert (stats.spooled_pending, stats.pending, stats.spool_files) == (12, 12, 3)
    for _ in range(5):
        logger.log(model_version_id=GOOD)
    assert logger.stats.pending == 17  # wherever the five are (memory, in flight, disk), counted once
    assert logger.flush(5)
    stats = logger.stats
    assert (stats.spooled_pending, stats.pending, stats.spool_files, stats.spooled) == (17, 17, 4, 5)
    logger.close()
    assert logger.stats.pending == 17  # closed: all of it still on disk
    assert not logger.stats.alive


# -- 4. a failed batch is on disk after its first attempt --------------------------------------------------


def test_a_failing_service_sees_one_attempt_before_the_batches_are_on_disk(
    service: FakeService, tmp_path: Path
) -> None:
    service.failing = True
    logger = make_logger(service, tmp_path, batch_size=10, retries=5, backoff=60, spool_retry_interval=60)
    for _ in range(30):
        logger.log(model_version_id=GOOD)
    assert logger.flush(5)
    # The first batch got one attempt; then the service counted as down and the rest went straight to disk.
    assert service.requests == 1
    assert (logger.stats.spooled, logger.stats.spooled_pending, logger.stats.pending) == (30, 30, 30)
    for _ in range(10):
        logger.log(model_version_id=GOOD)
    assert logger.flush(5)
    assert service.requests == 1
    assert logger.stats.spooled_pending == 40
    logger.close()


def test_the_spool_replay_ends_the_outage(service: FakeService, tmp_path: Path) -> None:
    service.failing = True
    logger = make_logger(service, tmp_path, batch_size=10, backoff=0.01, spool_retry_interval=0.05)
    keys = [logger.log(model_version_id=GOOD) for _ in range(30)]
    assert logger.flush(5)
    assert logger.stats.spooled == 30
    service.failing = False
    keys += [logger.log(model_version_id=GOOD) for _ in range(10)]
    wait_for(lambda: logger.stats.pending == 0)
    logger.close()
    assert sorted(service.keys) == sorted(keys)


# -- 5. the sender thread survives, and holds no lock the caller needs during I/O --------------------------


@pytest.mark.parametrize("error", [RuntimeError("boom"), _Boom()], ids=["Exception", "BaseException"])
def test_the_thread_survives_an_error_in_the_transport_and_keeps_the_batch(
    service: FakeService, tmp_path: Path, error: BaseException
) -> None:
    service.raise_next = [error]
    logger = make_logger(service, tmp_path, backoff=0.01, spool_retry_interval=0.05)
    keys = [logger.log(model_version_id=GOOD) for _ in range(10)]
    wait_for(lambda: service.requests >= 1)
    keys += [logger.log(model_version_id=GOOD) for _ in range(10)]
    wait_for(lambda: len(service.keys) == 20 and logger.stats.pending == 0)
    assert logger.stats.alive
    logger.close()
    assert sorted(service.keys) == sorted(keys)
    assert logger.stats.spooled == 10  # the batch that met the error waited on disk


def test_the_thread_survives_a_callback_that_raises(service: FakeService, tmp_path: Path) -> None:
    def callback(rejection: Rejection, record: Any) -> None:
        raise _Boom()

    logger = make_logger(service, tmp_path, on_rejected=callback)
    logger.log(model_version_id=GOOD, latency_ms=float("nan"))
    assert logger.flush(5)
    good = logger.log(model_version_id=GOOD)
    assert logger.flush(5)
    assert logger.stats.alive
    logger.close()
    assert service.keys == [good]


def _blocked(
    real: Callable[..., Any], inside: threading.Event, release: threading.Event
) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        release.wait(10)
        return real(*args, **kwargs)

    return slow


def _caller_is_not_held_up(logger: InferenceLogger) -> None:
    """log() and stats, from another thread, finish while the sender thread is stuck in disk I/O."""
    done = threading.Event()

    def caller() -> None:
        for _ in range(50):
            logger.log(model_version_id=GOOD)
        logger.stats  # noqa: B018 - reading it is the test
        done.set()

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(5)
    assert done.is_set(), "log() or stats waited for the sender thread's disk I/O"


def test_listing_the_spool_holds_no_lock_log_needs(service: FakeService, tmp_path: Path) -> None:
    logger = make_logger(service, tmp_path, spool_retry_interval=0.02)
    inside, release = threading.Event(), threading.Event()
    spool = logger._spool
    spool.scan = _blocked(spool.scan, inside, release)  # type: ignore[method-assign]
    assert inside.wait(5)  # the sender thread is listing the directory, slowly
    _caller_is_not_held_up(logger)
    release.set()
    logger.close()
    assert len(service.keys) == 50


def test_writing_the_spool_holds_no_lock_log_needs(service: FakeService, tmp_path: Path) -> None:
    service.failing = True
    logger = make_logger(service, tmp_path, batch_size=10, backoff=60, spool_retry_interval=60)
    inside, release = threading.Event(), threading.Event()
    spool = logger._spool
    spool.write = _blocked(spool.write, inside, release)  # type: ignore[method-assign]
    for _ in range(10):
        logger.log(model_version_id=GOOD)
    assert inside.wait(5)  # the sender thread is writing the failed batch to disk, slowly
    _caller_is_not_held_up(logger)
    release.set()
    assert logger.flush(5)
    logger.close()
    assert logger.stats.spooled_pending == 60
