"""The cold tier on a local directory and on an object store (moto's S3 server on loopback: the same
pyiceberg/pyarrow S3 code path a team uses against AWS, MinIO or R2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pyarrow as pa
import pytest
from moto.server import ThreadedMotoServer

from provgraph.domain.retention import ColdLocation
from provgraph.store.cold import SCHEMA, ColdTier

BASE = datetime(2026, 1, 1, 10, tzinfo=UTC)


def _rows(n: int, prefix: str = "k") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "id": f"inference:{prefix}{i}",
                "at": BASE + timedelta(seconds=7 * i),
                "model_version_id": "modelVersion:m:1",
                "deployment_id": "deployment:e:1" if i % 2 else None,
                "input_digest": None,
                "output_digest": f"out-{i}",
                "latency_ms": i / 8,
                "recorded_at": BASE + timedelta(days=1, seconds=i % 3),
                "recorded_by": "tester",
                "recorded_in": "write:1",
            }
            for i in range(n)
        ],
        schema=SCHEMA.as_arrow(),
    )


@pytest.fixture(scope="module")
def s3() -> Iterator[ColdLocation]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="cold")
    yield ColdLocation(
        warehouse="s3://cold/warehouse",
        catalog_uri="sqlite:///:memory:",
        properties={
            "s3.endpoint": endpoint,
            "s3.access-key-id": "test",
            "s3.secret-access-key": "test",
            "s3.region": "us-east-1",
        },
    )
    server.stop()


@pytest.fixture(params=["local", "s3"])
def tier(request: pytest.FixtureRequest, tmp_path: object) -> ColdTier:
    if request.param == "s3":
        return ColdTier(request.getfixturevalue("s3"))
    return ColdTier(ColdLocation.local(str(tmp_path)))


def test_rows_come_back_by_id_and_are_counted_by_hour(tier: ColdTier) -> None:
    snapshot = tier.append("t1", _rows(1000), "compaction:1")
    assert tier.snapshot_of("t1", "compaction:1") == snapshot
    assert tier.snapshot_of("t1", "compaction:other") is None
    found = tier.by_ids("t1", ["inference:k5", "inference:k999", "inference:absent"], snapshot)
    assert set(found) == {"inference:k5", "inference:k999"}
    assert (
        found["inference:k5"]["latency_ms"] == 5 / 8
        and found["inference:k5"]["deployment_id"] == "deployment:e:1"
    )
    assert found["inference:k5"]["at"] == BASE + timedelta(seconds=35)
    # The first hour holds inferences 0..514 (7 s apart); by 10:30, 0..257; the odd ones are on a deployment.
    counts = tier.count_hours(
        "t1",
        [("modelVersion:m:1", "deployment:e:1", BASE), ("modelVersion:m:1", None, BASE)],
        snapshot,
        BASE + timedelta(minutes=30),
        BASE + timedelta(days=2),
    )
    assert counts == {0: 129, 1: 129}
    assert tier.stats("t1", snapshot).rows == 1000


def test_a_snapshot_is_read_as_it_was_and_an_uncommitted_one_is_never_seen(tier: ColdTier) -> None:
    first = tier.append("t2", _rows(10, "a"), "compaction:a")
    second = tier.append("t2", _rows(10, "b"), "compaction:b")
    assert set(tier.by_ids("t2", ["inference:a1", "inference:b1"], first)) == {"inference:a1"}
    assert set(tier.by_ids("t2", ["inference:a1", "inference:b1"], second)) == {
        "inference:a1",
        "inference:b1",
    }
    assert tier.by_ids("t2", ["inference:a1"], None) == {}


def test_expiry_deletes_only_rows_before_the_boundary(tier: ColdTier) -> None:
    tier.append("t3", _rows(1000), "compaction:1")
    expired = tier.expire_before("t3", BASE + timedelta(hours=1), "expiry:1")
    assert expired is not None
    stats = tier.stats("t3", expired)
    assert stats.rows == 1000 - 515 and stats.oldest == BASE + timedelta(hours=1, seconds=5)
    assert tier.expire_before("t3", BASE, "expiry:2") is None  # nothing that old: no new snapshot
