"""The cold tier at volume: bytes per inference and the latency of finding one cold inference by id.

Writes `--rows` inferences straight into a fresh cold tier (no graph involved) as `--compactions` appends,
the way six months of daily compactions would leave them, with realistic fields: a UUID key, SHA-256 hex
input and output digests, a latency, one of 8 deployments, times spread over 183 days, recorded 30 days
later. Then looks up `--lookups` random existing ids one at a time (what `inference(id)` and
`traceInference` do for a cold inference before the graph part of the trace), plus ids that do not exist.

    .venv/bin/python -m bench.cold --rows 10000000              # about 3 minutes here
    .venv/bin/python -m bench.cold --rows 100000000 --dir /big  # the issue's 100M: a manual run (~10 GB)

Results are printed and written to bench/results/cold-<rows>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from provgraph.domain.retention import ColdLocation
from provgraph.store.cold import SCHEMA, ColdTier

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 183
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _strings(prefix: bytes, raw: np.ndarray) -> pa.Array:
    """Fixed-width strings `prefix + hex(raw row)`, built without a Python loop."""
    n, width = raw.shape
    digits = np.empty((n, width * 2), dtype=np.uint8)
    digits[:, 0::2] = HEX[raw >> 4]
    digits[:, 1::2] = HEX[raw & 15]
    body = np.concatenate([np.tile(np.frombuffer(prefix, dtype=np.uint8), (n, 1)), digits], axis=1)
    size = body.shape[1]
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(body.tobytes()))


def _chunk(rng: np.random.Generator, n: int, day: int, digests: bool) -> pa.Table:
    micros = rng.integers(0, 86_400_000_000, n) + day * 86_400_000_000
    at = pa.array(np.datetime64(START.replace(tzinfo=None), "us") + micros.astype("timedelta64[us]"))
    deployment = rng.integers(0, 8, n)
    return pa.table(
        {
            "id": _strings(b"inference:", rng.integers(0, 256, (n, 16), dtype=np.uint8)),
            "at": at.cast(pa.timestamp("us", tz="UTC")),
            "model_version_id": pa.array([f"modelVersion:scorer:{d // 2 + 1}" for d in range(8)]).take(
                pa.array(deployment)
            ),
            "deployment_id": pa.array([f"deployment:scoring-{d}:1" for d in range(8)]).take(
                pa.array(deployment)
            ),
            "input_digest": _strings(b"", rng.integers(0, 256, (n, 32), dtype=np.uint8))
            if digests
            else pa.nulls(n, pa.string()),
            "output_digest": _strings(b"", rng.integers(0, 256, (n, 32), dtype=np.uint8))
            if digests
            else pa.nulls(n, pa.string()),
            "latency_ms": pa.array(rng.gamma(2.0, 20.0, n)),
            "recorded_at": pa.array([START + timedelta(days=day + 30)] * n, pa.timestamp("us", tz="UTC")),
            "recorded_by": pa.array(["sdk"] * n),
            "recorded_in": pa.array([f"write:{day}:{i // 1000}" for i in range(0, n, 1)]),
        }
    ).cast(SCHEMA.as_arrow())


def _sample_ids(tier: ColdTier, snapshot: int) -> list[str]:
    """Ids of an existing tier: three from one random row group of each file."""
    import pyarrow.parquet as pq

    from provgraph.store.cold import _fs_path

    picked: list[str] = []
    pick = random.Random(7)
    for f in tier.files("inferences", snapshot):
        handle = pq.ParquetFile(_fs_path(f.path))
        group = handle.read_row_group(pick.randrange(handle.metadata.num_row_groups), columns=["id"])
        picked += pick.sample(group.column("id").to_pylist(), 3)
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--compactions", type=int, default=DAYS)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--no-digests", action="store_true", help="inferences logged without digests")
    parser.add_argument(
        "--optimize",
        action="store_true",
        help="then rewrite every bucket into one sorted file (what `provgraph compact` does to buckets past "
        "16 files) and measure the lookups again",
    )
    parser.add_argument(
        "--dir", default=None, help="where to write the tier (default: a temporary directory)"
    )
    parser.add_argument(
        "--existing",
        action="store_true",
        help="measure the lookups of the tier already in --dir (written by an earlier run) instead of writing one",
    )
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="provgraph-cold-"))
    tier = ColdTier(ColdLocation.local(str(directory)))
    rng = np.random.default_rng(13)
    per = args.rows // args.compactions
    sample: list[str] = []
    started = time.monotonic()
    snapshot = 0
    for day in range(0 if args.existing else args.compactions):
        rows = _chunk(
            rng, per if day < args.compactions - 1 else args.rows - per * day, day, not args.no_digests
        )
        sample += random.Random(day).sample(rows.column("id").to_pylist(), 3)
        snapshot = tier.append("inferences", rows, f"bench:{day}")
        if day % 20 == 0:
            print(f"  {per * (day + 1):,} rows written ({time.monotonic() - started:.0f}s)", flush=True)
    write_s = time.monotonic() - started
    if args.existing:
        current = tier.table("inferences").current_snapshot()
        assert current is not None, f"no cold tier in {directory}"
        snapshot = current.snapshot_id
        sample = _sample_ids(tier, snapshot)
    stats = tier.stats("inferences", snapshot)
    print(f"{stats.rows:,} rows in {stats.files:,} files, {stats.bytes / stats.rows:.1f} bytes each")

    def timed(ids: list[str]) -> list[float]:
        spent = []
        for one in ids:
            t0 = time.perf_counter()
            found = tier.by_ids("inferences", [one], snapshot)
            spent.append((time.perf_counter() - t0) * 1000)
            assert (one in found) == (not one.endswith("-absent")), one
        return spent

    def lookups() -> tuple[list[float], list[float]]:
        timed(sample[:20])  # plan the snapshot's files and open their footers once, as a running service has
        existing = [random.choice(sample) for _ in range(args.lookups)]
        return timed(existing), timed(
            [f"inference:{random.getrandbits(64):016x}-absent" for _ in range(args.lookups // 3)]
        )

    hits, misses = lookups()

    def summary(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
            "max_ms": round(ordered[-1], 2),
        }

    result = {
        "rows": stats.rows,
        "digests": not args.no_digests,
        "compactions": None if args.existing else args.compactions,
        "measured_existing": str(directory) if args.existing else None,
        "files": stats.files,
        "bytes": stats.bytes,
        "bytes_per_inference": round(stats.bytes / stats.rows, 1),
        "write_s": None if args.existing else round(write_s, 1),
        "write_rows_per_s": None if args.existing else round(stats.rows / write_s),
        "lookup_hit": summary(hits),
        "lookup_miss": summary(misses),
        "load_average": os.getloadavg()[0],
        "at": datetime.now(UTC).isoformat(),
    }
    if args.optimize:
        began = time.monotonic()
        for start in range(0, 64, 8):
            snapshot = tier.rewrite(
                "inferences", snapshot, list(range(start, start + 8)), f"bench:optimize:{start}"
            )
        after = tier.stats("inferences", snapshot)
        hits, misses = lookups()
        result["optimized"] = {
            "rewrite_s": round(time.monotonic() - began, 1),
            "files": after.files,
            "bytes_per_inference": round(after.bytes / after.rows, 1),
            "lookup_hit": summary(hits),
            "lookup_miss": summary(misses),
        }
    print(json.dumps(result, indent=2))
    out = Path("bench/results") / f"cold-{stats.rows}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out} (the tier itself: {directory})")


if __name__ == "__main__":
    main()
