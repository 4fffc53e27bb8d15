"""The inference logger's own batching, retry and spool logic, against a fake transport.

(The logger against the real service is in tests/e2e/test_sdk.py.)"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from provgraph.client import InferenceLogger
from provgraph.client._models import Rejection


class FakeService:
    """Answers the bulk path like the service: each key is recorded once; can be told to fail."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.requests = 0
        self.failing = False
        self.max_batch: int | None = None
        self.reject_models: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.gate.wait(10)
        with self.lock:
            self.requests += 1
            if self.failing:
                return httpx.Response(503, json={"error": {"code": "UNAVAILABLE"}})
            items = json.loads(request.content)["inferences"]
            if self.max_batch is not None and len(items) > self.max_batch:
                return httpx.Response(400, json={"error": {"code": "LIMIT_EXCEEDED"}})
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
