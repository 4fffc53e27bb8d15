"""The inference logger against the real service, under faults: bad records among good ones, a spool
poisoned by an earlier logger, and a logger killed with SIGKILL in the middle of an outage."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from neo4j import Driver

from conftest import Tokens
from provgraph.client import Client, InferenceLogger
from provgraph.client._models import Rejection

from .conftest import ApiServer

T0 = datetime(2026, 3, 1, tzinfo=UTC)
VERSION = "modelVersion:m:1"


def _model_with_endpoint(url: str, token: str) -> None:
    with Client(url, token=token) as pg:
        pg.register_model("m")
        version = pg.register_model_version("m", "s3://m/1", created_at=T0)
        pg.register_endpoint("ep")
        pg.deploy("ep", version.id, started_at=T0)


def _landed(driver: Driver) -> list[str]:
    """The keys of the inferences stored in Neo4j."""
    records, _, _ = driver.execute_query("MATCH (i:Inference) RETURN i.id AS id", database_="neo4j")
    return [str(r["id"]).removeprefix("inference:") for r in records]


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_bad_records_are_refused_alone_and_the_good_ones_land(
    api_server: ApiServer, clean_graph: Driver, tmp_path: Path, tokens: Tokens
) -> None:
    _model_with_endpoint(api_server.url, tokens.writer)
    seen: list[tuple[Rejection, dict[str, object]]] = []
    with InferenceLogger(
        api_server.url,
        token=tokens.writer,
        spool_dir=tmp_path / "spool",
        batch_size=500,
        flush_interval=60,  # everything below goes in one batch
        on_rejected=lambda r, record: seen.append((r, dict(record))),
    ) as logger:
        at = T0 + timedelta(days=1)
        good = [logger.log(endpoint="ep", at=at + timedelta(seconds=n), latency_ms=3.5) for n in range(100)]
        nan = logger.log(endpoint="ep", at=at, latency_ms=float("nan"))
        good += [logger.log(model_version_id=VERSION, at=at + timedelta(seconds=n)) for n in range(100)]
        surrogate = logger.log(endpoint="ep", at=at, input_digest="sha256:\ud800")
    assert sorted(_landed(clean_graph)) == sorted(good)
    stats = logger.stats
    assert (stats.sent, stats.rejected, stats.invalid, stats.spooled, stats.pending) == (200, 2, 2, 0, 0)
    assert sorted((r.key, r.code, r.field) for r, _ in seen) == sorted(
        [(nan, "INVALID_ARGUMENT", "latencyMs"), (surrogate, "INVALID_ARGUMENT", "inputDigest")]
    )
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_spool_poisoned_by_an_earlier_logger_is_delivered_except_the_poison(
    api_server: ApiServer, clean_graph: Driver, tmp_path: Path, tokens: Tokens
) -> None:
    _model_with_endpoint(api_server.url, tokens.writer)
    spool = tmp_path / "spool"
    spool.mkdir()
    at = (T0 + timedelta(days=1)).isoformat()
    good = [f"good-{n}" for n in range(50)]
    # What an earlier logger left: json.dumps writes NaN as a bare token and escapes a lone surrogate; and
    # the file is still claimed by the process that was killed while replaying it.
    lines = [json.dumps({"key": k, "at": at, "endpoint": "ep"}) for k in good[:25]]
    lines.append(json.dumps({"key": "bad-nan", "at": at, "endpoint": "ep", "latencyMs": float("nan")}))
    lines.append(json.dumps({"key": "bad-surrogate", "at": at, "endpoint": "ep", "outputDigest": "\ud800"}))
    lines += [json.dumps({"key": k, "at": at, "endpoint": "ep"}) for k in good[25:]]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid that is certainly dead
    (spool / f"00000000000000000001-{child.pid}-0abc.ndjson.sending-{child.pid}").write_text("\n".join(lines))
    rejected: list[Rejection] = []
    logger = InferenceLogger(
        api_server.url, token=tokens.writer, spool_dir=spool, on_rejected=lambda r, _: rejected.append(r)
    )
    _wait(lambda: logger.stats.pending == 0)
    logger.close()
    assert sorted(_landed(clean_graph)) == sorted(good)
    assert sorted(r.key for r in rejected) == ["bad-nan", "bad-surrogate"]
    assert list(spool.iterdir()) == []


# The child logs at a steady rate and notes each key with the time just before log() was called.
CHILD = r"""
import sys, time
from provgraph.client import InferenceLogger

url, token, spool, out_path, prefix, flush_interval = sys.argv[1:7]
# Retry settings that, before batches went to disk after one failed attempt, kept each batch in memory
# for seconds of backoff: they must not widen the loss window.
logger = InferenceLogger(
    url, token=token, spool_dir=spool, batch_size=50, flush_interval=float(flush_interval),
    retries=2, backoff=1.0, spool_retry_interval=0.5, timeout=5,
)
with open(out_path, "w", buffering=1) as out:  # line-buffered: each line reaches the kernel at once
    out.write("ready\n")
    n = 0
    while True:
        before = time.time()
        key = f"{prefix}-{n:06d}"
        logger.log(endpoint="ep", key=key)
        out.write(f"{key} {before!r}\n")
        n += 1
        time.sleep(0.005)
"""

FLUSH_INTERVAL = 0.2
# The documented bound with the service stopped (connections refused at once, so R ≈ 0) is the records
# logged in the last flush_interval; the slack covers the fsync and scheduling in a loaded test machine.
SLACK = 0.5


def _spooled_keys(spool: Path) -> set[str]:
    """Every key in the spool directory: files, claims, and temporary files."""
    keys = set()
    for path in spool.iterdir():
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):  # a line cut short by the kill
                keys.add(json.loads(line)["key"])
    return keys


def test_a_logger_killed_during_an_outage_loses_only_its_last_flush_interval(
    api_server: ApiServer, clean_graph: Driver, tmp_path: Path, tokens: Tokens
) -> None:
    _model_with_endpoint(api_server.url, tokens.writer)
    spool, out = tmp_path / "spool", tmp_path / "logged.txt"
    api_server.stop()  # the outage: connections are refused
    prefix = uuid.uuid4().hex[:8]
    args = [api_server.url, tokens.writer, str(spool), str(out), prefix, str(FLUSH_INTERVAL)]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], env={**os.environ})
    try:
        _wait(lambda: out.exists() and out.read_text().startswith("ready\n"), timeout=20)
        time.sleep(3)
        killed_at = time.time()
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    logged: dict[str, float] = {}
    for line in out.read_text().splitlines()[1:]:
        key, _, when = line.partition(" ")
        if when:  # the last line may have been cut short by the kill
            logged[key] = float(when)
    assert len(logged) > 300, "the child did not log through the outage"
    spooled = _spooled_keys(spool)
    assert spooled, "nothing reached the spool during the outage"

    api_server.start()
    logger = InferenceLogger(
        api_server.url, token=tokens.writer, spool_dir=spool, backoff=0.05, spool_retry_interval=0.2
    )
    _wait(lambda: logger.stats.pending == 0)
    logger.close()
    landed = set(_landed(clean_graph))

    assert spooled <= landed  # everything the killed process had on disk is delivered
    assert len(landed - set(logged)) <= 1  # at most the key logged between its log() and its note
    lost = set(logged) - landed
    window = FLUSH_INTERVAL + SLACK
    allowed = {key for key, when in logged.items() if when > killed_at - window}
    assert lost <= allowed, (
        f"lost {len(lost)} records, {len(lost - allowed)} of them logged more than {window}s before the kill"
    )
    assert (logger.stats.rejected, logger.stats.dropped) == (0, 0)
