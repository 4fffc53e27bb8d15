"""`recordProvenance` at scale, the filter's size, and registering 10M record keys (issue 15, parts 1 and 3).

The issue's goals: `recordProvenance` p99 < 100 ms over 10,000 dataset versions with filters of 1M keys
each; a filter ≤ 3% of the dataset's size; registration of 10M keys in under a minute on this machine.

Setup (not through HTTP: 10,000 registrations of 1M keys would be 10^10 key insertions, about an hour):
`--distinct` real key sets of `--keys` random 16-byte hashes (what HMAC-SHA256 truncated to 16 bytes looks
like) go through `build_filter`, and `--versions` - 1 filter slots are tiled from them (slot i holds set
i mod distinct), written as whole shard files in the interleaved layout `KeyFiles.candidates` reads; the
last slot holds a set of its own, written through `KeyFiles.write_filter`. Before anything is timed the
layout is checked: `candidates()` must find a member of every set in every slot that holds it. The graph
gets, by UNWIND through the driver, the datasets, the dataset versions (VERSION_OF, FROM_SOURCE,
`hasRecordKeys`), one `RecordKeys` node per version with the properties a real registration writes
(KEYS_OF, KEYS_FROM) and the `RecordKeySlots` counter; no ledger entries are written for them. Sources,
runs that used some of the versions, the model versions they trained (some promoted and deployed) and a
few inferences go through the API, so the answers walk somewhere real.

Measured over HTTP GraphQL against one `provgraph serve` process (its own Neo4j, `neo4j-bench`):
`recordProvenance` for members of a tiled set (each held by about versions / distinct versions), for
members of the set held by one version only, and for random non-members — reported separately, after
the shard files are dropped from the page cache. Then one registration of `--register-keys` keys through
the real path: keys HMAC-hashed on the client, `POST /v1/record-keys`.

    .venv/bin/python -m bench.records                    # full scale: ~30 GB under --dir, see docs
    .venv/bin/python -m bench.records --versions 300 --distinct 4 --keys 150000 --register-keys 200000 \\
        --dir /tmp/records-bench --tier smoke            # a few minutes' check

The records directory is emptied first (only a directory this bench made, marked by `.provgraph-bench`)
and removed at the end unless `--keep` (the Neo4j instance is stopped; it is emptied by the next bench run).
The API's log is kept under /tmp/provgraph-records-bench-* only when the run fails. Results:
bench/results/records-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from neo4j import GraphDatabase

from bench import measure
from bench.servers import ROOT, Api, fresh_neo4j
from provgraph.admin import create_token
from provgraph.client import Client, inference_input
from provgraph.domain import membership as m
from provgraph.neo4j_local import NEO4J_VERSION
from provgraph.neo4j_local.launcher import Connection
from provgraph.store.membership import RESOLVE, SLOTS, KeyFiles, slot_key
from provgraph.store.record_reach import reach_query

DEFAULT_DIR = Path("/work/big/records-bench")
MARKER = ".provgraph-bench"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = 16
VERSIONS_PER_DATASET = 10
SECRET = b"bench-records-secret"  # the client's HMAC secret for the registration measurement
BATCH = 1000  # rows per UNWIND
CHUNK_BLOCKS = 2048  # blocks per write of a shard file (2048 × 256 × 64 bytes = 32 MiB)
MARGIN = 2 * 1024**3  # free disk to leave beyond the estimate
SAMPLE = 64  # member keys kept per set for the queries

QUESTION = """query($h: String!) { recordProvenance(keyHash: $h) {
  holders { dataId certainty basis sourceId falsePositiveRate via }
  stopped { dataId derivedFrom }
  runs { runId certainty dataIds }
  modelVersions { modelVersion { id } stage certainty runIds inferences liveDeployments { id } }
  inferences } }"""

CREATE_DATASETS = """
UNWIND $rows AS row
CREATE (d:Dataset {id: row.id})
SET d.name = row.name, d.recordedAt = $now, d.recordedBy = $actor, d.recordedIn = $writeId
"""

# What catalog.MERGE_DATASET_VERSION and membership.REGISTER leave behind for a new version and its keys.
CREATE_VERSIONS = """
UNWIND $rows AS row
MATCH (d:Dataset {id: row.datasetId})
MATCH (s:Source {id: row.sourceId})
CREATE (v:DatasetVersion {id: row.id})
SET v.datasetId = row.datasetId, v.version = row.version, v.digest = row.digest, v.uri = row.uri,
    v.rowCount = row.rowCount, v.createdAt = row.createdAt, v.validFrom = row.createdAt,
    v.recordedAt = $now, v.recordedBy = $actor, v.recordedIn = $writeId, v.hasRecordKeys = true
CREATE (v)-[:VERSION_OF {validFrom: row.createdAt, recordedAt: $now}]->(d)
CREATE (v)-[:FROM_SOURCE {validFrom: row.createdAt, recordedAt: $now}]->(s)
CREATE (rk:RecordKeys {id: 'recordKeys:' + row.id + '|' + row.sourceId})
SET rk += row.keys, rk.recordedAt = $now, rk.recordedBy = $actor, rk.writeId = $writeId
CREATE (rk)-[:KEYS_OF]->(v)
CREATE (rk)-[:KEYS_FROM]->(s)
"""

SET_SLOTS = "MERGE (c:RecordKeySlots {shape: $shape}) SET c.next = $next"


def say(message: str) -> None:
    print(message, flush=True)


# --- pure helpers (tests/unit/bench/test_records.py) ------------------------------------------------------


def tiling(versions: int, distinct: int) -> npt.NDArray[np.int64]:
    """Which key set each filter slot holds: slot i holds set i mod `distinct`, except the last slot, which
    holds set `distinct` (a set used once)."""
    if distinct < 1 or versions < distinct + 1:
        raise ValueError(f"need at least distinct + 1 versions ({distinct + 1}); got {versions}")
    sets = np.arange(versions, dtype=np.int64) % distinct
    sets[-1] = distinct
    return sets


def interleave(
    filters: npt.NDArray[np.uint8], sets: npt.NDArray[np.int64], first: int, last: int
) -> npt.NDArray[np.uint8]:
    """Blocks `first`..`last - 1` of one shard, as laid out on disk: for each block, the block of slot 0,
    slot 1, … slot SLOTS - 1 side by side. `filters` has shape (sets, blocks, 64); `sets[j]` is the set slot
    j holds, -1 for a slot left empty (zeros), and slots beyond `len(sets)` are empty too."""
    out = np.zeros((last - first, SLOTS, m.BLOCK_BYTES), dtype=np.uint8)
    for slot, chosen in enumerate(sets):
        if chosen >= 0:
            out[:, slot, :] = filters[chosen, first:last]
    return out


def shard_name(shape: m.FilterShape, shard: int) -> str:
    return f"b{shape.blocks}-k{shape.hashes}-s{shard}.bits"


def disk_needed(versions: int, keys: int, register_keys: int, rate: float) -> int:
    """Bytes the run writes under the records directory: every shard file of the tiled filters in full, plus
    the registration's shard — sparse, but its one filter touches one 4 KiB page in every 16 KiB run of the
    interleaved layout, so it costs 64 times the filter."""
    shape = m.shape_for(keys, rate)
    total = math.ceil(versions / SLOTS) * SLOTS * shape.bytes
    if register_keys:
        total += 64 * m.shape_for(register_keys, rate).bytes
    return total


def hex_of(words: m.Hashes) -> list[str]:
    """Each hash (a row of two words) as the 32-character hex a client sends."""
    return [m.hashes_to_bytes(words[i : i + 1]).hex() for i in range(len(words))]


# --- setup ------------------------------------------------------------------------------------------------


@dataclass
class Sets:
    shape: m.FilterShape
    filters: npt.NDArray[np.uint8]  # (distinct + 1, blocks, 64)
    digests: list[str]
    members: list[list[str]]  # a sample of each set's hashes, hex
    exact: bool


def build_sets(distinct: int, keys: int, rate: float, files: KeyFiles, seed: int) -> Sets:
    """`distinct` + 1 sets of random hashes and their filters (and their exact sets when a real
    registration would keep them)."""
    shape = m.shape_for(keys, rate)
    exact = keys <= m.EXACT_LIMIT
    filters = np.empty((distinct + 1, shape.blocks, m.BLOCK_BYTES), dtype=np.uint8)
    digests, members = [], []
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    for s in range(distinct + 1):
        words = m.unique_sorted(rng.integers(0, 2**64, size=(keys, 2), dtype=np.uint64))
        assert len(words) == keys
        filters[s] = m.build_filter(words, shape)
        digest = m.digest_of(words)
        digests.append(digest)
        if exact:
            files.write_exact(digest, words)
        members.append(hex_of(words[rng.choice(keys, size=SAMPLE, replace=False)]))
        if s % 8 == 7:
            say(f"  {s + 1} of {distinct + 1} key sets built ({time.monotonic() - started:.0f}s)")
    return Sets(shape, filters, digests, members, exact)


def write_shards(files: KeyFiles, sets: Sets, tiled: npt.NDArray[np.int64]) -> float:
    """Write every shard file whole; the last slot is left empty (written through KeyFiles after)."""
    files.filters.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    shape = sets.shape
    slots = tiled.copy()
    slots[-1] = -1
    shards = math.ceil(len(slots) / SLOTS)
    for shard in range(shards):
        chosen = slots[shard * SLOTS : (shard + 1) * SLOTS]
        path = files.filters / shard_name(shape, shard)
        with path.open("wb") as handle:
            for first in range(0, shape.blocks, CHUNK_BLOCKS):
                last = min(shape.blocks, first + CHUNK_BLOCKS)
                handle.write(interleave(sets.filters, chosen, first, last).data)
            handle.flush()
            os.fsync(handle.fileno())
        if shard % 4 == 3 or shard == shards - 1:
            say(f"  {shard + 1} of {shards} shard files written ({time.monotonic() - started:.0f}s)")
    unique = len(tiled) - 1
    files.write_filter(shape, unique, sets.filters[tiled[unique]])
    return time.monotonic() - started


def check_layout(files: KeyFiles, sets: Sets, tiled: npt.NDArray[np.int64]) -> None:
    """candidates() finds a member of each set in every slot holding that set (and few others)."""
    for s, sample in enumerate(sets.members):
        expected = {slot_key(sets.shape, int(n)) for n in np.flatnonzero(tiled == s)}
        for one in sample[:3]:
            found = set(files.candidates(m.as_words(bytes.fromhex(one))))
            assert expected <= found, f"set {s}: {len(expected - found)} holding slots not found"
            assert len(found - expected) <= 5 + len(tiled) * 0.01, f"set {s}: {len(found - expected)} extra"


def version_rows(
    tiled: npt.NDArray[np.int64], sets: Sets, keys: int, rate: float
) -> Iterator[dict[str, Any]]:
    shape = sets.shape
    fpr = shape.false_positive_rate(keys)
    for n, s in enumerate(tiled):
        dataset = f"rec-{n // VERSIONS_PER_DATASET:05d}"
        version = f"v{n % VERSIONS_PER_DATASET}"
        vid = f"datasetVersion:{dataset}:{version}"
        source = f"source:rec-src-{n % SOURCES:02d}"
        yield {
            "id": vid,
            "datasetId": f"dataset:{dataset}",
            "version": version,
            "digest": f"sha256:{n:064x}",
            "uri": f"s3://records-bench/{dataset}/{version}",
            "rowCount": keys,
            "createdAt": EPOCH + timedelta(minutes=n),
            "sourceId": source,
            "keys": {
                "subjectId": vid,
                "sourceId": source,
                "digest": sets.digests[s],
                "keys": keys,
                "exact": sets.exact,
                "falsePositiveRate": fpr,
                "requestedFalsePositiveRate": rate,
                "blocks": shape.blocks,
                "hashes": shape.hashes,
                "number": n,
                "slot": slot_key(shape, n),
                "bytes": shape.bytes + (keys * m.KEY_HASH_BYTES if sets.exact else 0),
            },
        }


def load_graph(driver: Any, tiled: npt.NDArray[np.int64], sets: Sets, keys: int, rate: float) -> float:
    started = time.monotonic()
    stamp = {
        "now": datetime.now(UTC) - timedelta(minutes=5),
        "actor": "bench",
        "writeId": "write:bench-records",
    }
    datasets = math.ceil(len(tiled) / VERSIONS_PER_DATASET)
    rows = [{"id": f"dataset:rec-{d:05d}", "name": f"rec-{d:05d}"} for d in range(datasets)]
    for i in range(0, len(rows), BATCH):
        driver.execute_query(CREATE_DATASETS, {"rows": rows[i : i + BATCH], **stamp}, database_="neo4j")
    batch: list[dict[str, Any]] = []
    for row in version_rows(tiled, sets, keys, rate):
        batch.append(row)
        if len(batch) == BATCH:
            driver.execute_query(CREATE_VERSIONS, {"rows": batch, **stamp}, database_="neo4j")
            batch = []
    if batch:
        driver.execute_query(CREATE_VERSIONS, {"rows": batch, **stamp}, database_="neo4j")
    shape = sets.shape
    driver.execute_query(
        SET_SLOTS, {"shape": f"{shape.blocks}:{shape.hashes}", "next": len(tiled)}, database_="neo4j"
    )
    return time.monotonic() - started


def downstream(pg: Client, versions: int, runs: int, seed: int) -> dict[str, int]:
    """Runs that used some versions, the model versions they trained, some in production and deployed,
    and inferences served there."""
    rng = random.Random(seed)
    ids = [
        f"datasetVersion:rec-{n // VERSIONS_PER_DATASET:05d}:v{n % VERSIONS_PER_DATASET}"
        for n in range(versions)
    ]
    start = EPOCH + timedelta(days=10)
    production = []
    used = set()
    for i in range(runs):
        inputs = rng.sample(ids, k=min(3, len(ids)))
        used.update(inputs)
        at = start + timedelta(minutes=10 * i)
        pg.register_run(
            f"rec-run-{i:04d}",
            inputs=inputs,
            status="FINISHED",
            started_at=at,
            ended_at=at + timedelta(minutes=5),
        )
        model = f"rec-model-{i % 5}"
        pg.register_model(model)
        version = pg.register_model_version(
            model,
            f"s3://records-bench/{model}/{i}",
            trained_by=f"rec-run-{i:04d}",
            created_at=at + timedelta(minutes=6),
        )
        if i % 3 == 0:
            pg.transition_stage(version.id, "STAGING", at=at + timedelta(minutes=7))
            pg.transition_stage(version.id, "PRODUCTION", at=at + timedelta(minutes=8))
            production.append(version.id)
    live = start + timedelta(days=10)
    endpoints = min(4, len(production))
    for e in range(endpoints):
        pg.register_endpoint(f"rec-ep-{e}")
        pg.deploy(f"rec-ep-{e}", production[e], started_at=live)
    inferences = 0
    if endpoints:
        items = [
            inference_input(
                f"rec-inf-{n:05d}", at=live + timedelta(seconds=1 + n), endpoint=f"rec-ep-{n % endpoints}"
            )
            for n in range(2000)
        ]
        outcome = pg.log_inferences(items)
        assert not outcome.rejected, outcome.rejected[:3]
        inferences = outcome.accepted
    return {
        "runs": runs,
        "used_versions": len(used),
        "production": len(production),
        "endpoints": endpoints,
        "inferences": inferences,
    }


# --- measurement ------------------------------------------------------------------------------------------


def drop_cache(files: KeyFiles) -> None:
    """Ask the kernel to forget the shard files' cached pages, so lookups read the disk."""
    for path in files.filters.iterdir():
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def query_all(
    http: httpx.Client, kinds: dict[str, list[str]], expected: Callable[[str, str], set[str]], warmup: int
) -> dict[str, Any]:
    """Time each question, in a shuffled order across kinds; check each answer's holders."""
    order = [(kind, key) for kind, keys in kinds.items() for key in keys]
    random.Random(7).shuffle(order)
    warm = order[:warmup]
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    holders: dict[str, list[int]] = {kind: [] for kind in kinds}
    runs: dict[str, list[int]] = {kind: [] for kind in kinds}
    models: dict[str, list[int]] = {kind: [] for kind in kinds}
    sizes: dict[str, list[int]] = {kind: [] for kind in kinds}
    for counted, (kind, key) in [(False, p) for p in warm] + [(True, p) for p in order]:
        began = time.perf_counter()
        response = http.post("/graphql", json={"query": QUESTION, "variables": {"h": key}})
        body = response.json()
        spent = time.perf_counter() - began
        assert "errors" not in body, str(body)[:500]
        answer = body["data"]["recordProvenance"]
        found = {h["dataId"] for h in answer["holders"]}
        missing = expected(kind, key) - found
        assert not missing, f"{kind}: {len(missing)} holders missing, e.g. {sorted(missing)[:3]}"
        if counted:
            samples[kind].append(spent)
            holders[kind].append(len(found))
            runs[kind].append(len(answer["runs"]))
            models[kind].append(len(answer["modelVersions"]))
            sizes[kind].append(len(response.content))
    return {
        kind: {
            **measure.percentiles(samples[kind]),
            "holders_mean": round(float(np.mean(holders[kind])), 2),
            "holders_max": max(holders[kind]),
            "runs_mean": round(float(np.mean(runs[kind])), 2),
            "model_versions_mean": round(float(np.mean(models[kind])), 2),
            "response_bytes_mean": int(np.mean(sizes[kind])),
        }
        for kind in kinds
    }


def _keys(count: int) -> Iterator[str]:
    return (f"user-{i:09d}" for i in range(count))


def _sdk_hashing() -> Callable[[Iterable[str], bytes], bytes] | None:
    """The SDK's own hashing of a whole registration, if it has one (to time it apart from the upload)."""
    try:
        from provgraph.client import _membership
    except ImportError:
        return None
    found = getattr(_membership, "hash_keys", None)
    return found if callable(found) else None


def register(api: Api, token: str, count: int, records_bytes: int) -> dict[str, Any]:
    """One registration of `count` keys through the real path: keys HMAC-hashed on the client, then
    `POST /v1/record-keys` — through the SDK's `register_record_keys` when it has one (its hashing is
    also timed alone, as `hash_s`), else hashed here and posted with httpx."""
    result: dict[str, Any] = {"keys": count}
    with Client(api.url, token=token, timeout=600) as pg:
        pg.register_source("rec-register", "database")
        pg.register_dataset("rec-register")
        version = pg.register_dataset_version(
            "rec-register", "v1", sources=["rec-register"], created_at=EPOCH
        )
        sdk = getattr(pg, "register_record_keys", None)
        hashing = _sdk_hashing()
        if sdk is not None:
            if hashing is not None:
                began = time.perf_counter()
                body = hashing(_keys(count), SECRET)
                result["hash_s"] = round(time.perf_counter() - began, 3)
                assert bytes(body[: m.KEY_HASH_BYTES]).hex() == m.key_hash(SECRET, "user-000000000")
                del body
            began = time.perf_counter()
            answer = sdk(version.id, "source:rec-register", _keys(count), secret=SECRET)
            total = time.perf_counter() - began
            assert answer.created and answer.keys == count, answer
            filter_bytes, rate = int(answer.bytes), float(answer.false_positive_rate)
            result["path"] = "SDK Client.register_record_keys (hashing + POST /v1/record-keys)"
            if "hash_s" in result:
                result["request_s"] = round(total - result["hash_s"], 3)
        else:
            began = time.perf_counter()
            body = b"".join(
                [hmac.digest(SECRET, key.encode(), "sha256")[: m.KEY_HASH_BYTES] for key in _keys(count)]
            )
            result["hash_s"] = round(time.perf_counter() - began, 3)
            assert body[: m.KEY_HASH_BYTES].hex() == m.key_hash(SECRET, "user-000000000")
            response = httpx.post(
                api.base + "/v1/record-keys",
                params={"subject": version.id, "source": "source:rec-register"},
                content=body,
                headers={"authorization": f"Bearer {token}", "content-type": "application/octet-stream"},
                timeout=600,
            )
            total = time.perf_counter() - began
            assert response.status_code == 201, response.text[:500]
            filter_bytes, rate = int(response.json()["bytes"]), float(response.json()["falsePositiveRate"])
            result["path"] = "hmac here + httpx POST /v1/record-keys (the SDK has no register_record_keys)"
            result["request_s"] = round(total - result["hash_s"], 3)
    return {
        **result,
        "total_s": round(total, 3),
        "keys_per_s": round(count / total),
        "filter_bytes": filter_bytes,
        "false_positive_rate": rate,
        "filter_bytes_per_key": round(filter_bytes / count, 3),
        "ratio_to_records": round(filter_bytes / records_bytes, 5),
    }


def stages(driver: Any, files: KeyFiles, keys: list[str], depth: int) -> dict[str, Any]:
    """Where a member's answer spends its time, outside the API: the filter scan (`KeyFiles.candidates`,
    in this process), the Cypher that resolves the hit slots to registrations, and the Cypher of the walk
    downstream from the holders (raw driver, same statements the service runs)."""
    scan, resolve, reach = [], [], []
    for one in keys:
        now = datetime.now(UTC)
        began = time.perf_counter()
        slots = files.candidates(m.as_words(bytes.fromhex(one)))
        scan.append(time.perf_counter() - began)
        began = time.perf_counter()
        rows, _, _ = driver.execute_query(RESOLVE, {"slots": slots, "knownAt": now}, database_="neo4j")
        resolve.append(time.perf_counter() - began)
        holders = sorted({str(r["node"]["subjectId"]) for r in rows})
        began = time.perf_counter()
        driver.execute_query(
            reach_query(depth), {"holders": holders, "asOf": now, "knownAt": now}, database_="neo4j"
        )
        reach.append(time.perf_counter() - began)
    _, summary, _ = driver.execute_query(
        "EXPLAIN " + RESOLVE, {"slots": ["0:0:0"], "knownAt": datetime.now(UTC)}, database_="neo4j"
    )
    return {
        "resolve_plan": _plan_operators(summary.plan),
        "filter_scan": measure.percentiles(scan),
        "resolve_cypher": measure.percentiles(resolve),
        "reach_cypher": measure.percentiles(reach),
    }


# --- the run ----------------------------------------------------------------------------------------------


def prepare_dir(directory: Path, need: int) -> None:
    """Refuse a directory this bench did not make, and a disk without room; empty the bench's own."""
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise SystemExit(
            f"{directory} is not empty and not a records-bench directory (no {MARKER}); refusing"
        )
    probe = directory
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if directory.exists():
        free += sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())
    if free < need + MARGIN:
        raise SystemExit(
            f"not enough disk under {probe}: this run writes ~{need / 1e9:.1f} GB and keeps {MARGIN / 1e9:.0f} GB "
            f"free, but {free / 1e9:.1f} GB are available; use --dir elsewhere or fewer --versions"
        )
    for sub in ("filters", "exact"):
        shutil.rmtree(directory / sub, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by bench/records.py; removed at the end unless --keep\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=10_000, help="dataset versions, one filter each")
    parser.add_argument(
        "--distinct", type=int, default=32, help="distinct key sets the filters are tiled from"
    )
    parser.add_argument("--keys", type=int, default=1_000_000, help="keys per set")
    parser.add_argument(
        "--rate", type=float, default=m.DEFAULT_FALSE_POSITIVE_RATE, help="false-positive rate"
    )
    parser.add_argument("--queries", type=int, default=300, help="questions per kind of key")
    parser.add_argument("--record-bytes", type=int, default=100, help="bytes per record, for the size ratio")
    parser.add_argument("--register-keys", type=int, default=10_000_000)
    parser.add_argument("--skip-register", action="store_true")
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help="the records directory (PROVGRAPH_RECORDS_DIR)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the records directory in place")
    parser.add_argument("--tier", choices=("smoke", "standard"), default="standard", help="Neo4j sizing")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    directory: Path = args.dir.resolve()
    register_keys = 0 if args.skip_register else args.register_keys
    need = disk_needed(args.versions, args.keys, register_keys, args.rate)
    prepare_dir(directory, need)
    tiled = tiling(args.versions, args.distinct)
    files = KeyFiles(directory)
    results: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    }
    results["setup"] = {
        "description": f"{args.versions:,} filters: {args.versions - 1:,} tiled from {args.distinct} distinct "
        f"{args.keys:,}-key sets, 1 from a set of its own",
        "disk_estimate_bytes": need,
    }
    say(results["setup"]["description"])
    try:
        began = time.monotonic()
        sets = build_sets(args.distinct, args.keys, args.rate, files, args.seed)
        results["setup"]["build_filters_s"] = round(time.monotonic() - began, 1)
        shape = sets.shape
        results["filter"] = {
            "keys": args.keys,
            "blocks": shape.blocks,
            "hashes": shape.hashes,
            "bytes": shape.bytes,
            "bytes_per_key": round(shape.bytes / args.keys, 3),
            "bits_per_key": round(shape.bytes * 8 / args.keys, 2),
            "false_positive_rate": shape.false_positive_rate(args.keys),
            "record_bytes": args.record_bytes,
            "ratio_to_records": round(shape.bytes / (args.keys * args.record_bytes), 5),
            "exact_set_kept": sets.exact,
        }
        say(
            f"filter: {shape.bytes:,} bytes for {args.keys:,} keys ({results['filter']['bits_per_key']} bits/key), "
            f"{results['filter']['ratio_to_records']:.2%} of {args.record_bytes}-byte records"
        )
        results["setup"]["write_shards_s"] = round(write_shards(files, sets, tiled), 1)
        check_layout(files, sets, tiled)
        say("layout checked: candidates() finds every holding slot")
        results["setup"]["shard_files"] = len(list(files.filters.iterdir()))
        results["setup"]["filters_disk_bytes"] = sum(
            p.stat().st_blocks * 512 for p in files.filters.iterdir()
        )
        measured(args, directory, files, sets, tiled, register_keys, results)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
            say(f"removed {directory}")
    results["load_average"] = os.getloadavg()[0]
    results["at"] = datetime.now(UTC).isoformat()
    out = ROOT / "bench" / "results" / f"records-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    summary(results)
    say(f"written to {out}")


def measured(
    args: argparse.Namespace,
    directory: Path,
    files: KeyFiles,
    sets: Sets,
    tiled: npt.NDArray[np.int64],
    register_keys: int,
    results: dict[str, Any],
) -> None:
    work = Path(tempfile.mkdtemp(prefix="provgraph-records-bench-"))
    neo4j, connection, settings = fresh_neo4j(args.tier, say)
    results["environment"] = measure.environment(NEO4J_VERSION, neo4j.heap, neo4j.pagecache)
    try:
        token = asyncio.run(create_token(settings, "bench-records", "admin")).secret  # applies the schema
        api = Api(connection, work / "api.log", {"PROVGRAPH_RECORDS_DIR": str(directory)})
        api.start()
        say(f"API on {api.base} (log {work / 'api.log'})")
        try:
            with Client(api.url, token=token, timeout=60) as pg:
                for s in range(SOURCES):
                    pg.register_source(f"rec-src-{s:02d}", "database")
            with _driver(connection) as driver:
                results["setup"]["graph_s"] = round(load_graph(driver, tiled, sets, args.keys, args.rate), 1)
            say(f"graph: {len(tiled):,} versions with their RecordKeys ({results['setup']['graph_s']}s)")
            with Client(api.url, token=token, timeout=60) as pg:
                results["setup"]["downstream"] = downstream(
                    pg, len(tiled), max(10, len(tiled) // 100), args.seed
                )
            say(f"downstream: {results['setup']['downstream']}")
            ids = [
                f"datasetVersion:rec-{n // VERSIONS_PER_DATASET:05d}:v{n % VERSIONS_PER_DATASET}"
                for n in range(len(tiled))
            ]
            holding = {s: {ids[n] for n in np.flatnonzero(tiled == s)} for s in range(args.distinct + 1)}
            set_of = {key: s for s, sample in enumerate(sets.members) for key in sample}
            rng = np.random.default_rng(args.seed + 1)
            tiled_keys = [
                rng.choice(sets.members[int(rng.integers(args.distinct))]) for _ in range(args.queries)
            ]
            unique_keys = [rng.choice(sets.members[args.distinct]) for _ in range(args.queries)]
            absent = hex_of(rng.integers(0, 2**64, size=(args.queries, 2), dtype=np.uint64))
            kinds = {"member_tiled": tiled_keys, "member_once": unique_keys, "absent": absent}

            def expected(kind: str, key: str) -> set[str]:
                return set() if kind == "absent" else holding[set_of[key]]

            drop_cache(files)
            headers = {"authorization": f"Bearer {token}"}
            with httpx.Client(base_url=api.base, headers=headers, timeout=60) as http:
                results["record_provenance"] = query_all(http, kinds, expected, warmup=20)
            for kind, numbers in results["record_provenance"].items():
                say(f"recordProvenance {kind}: {numbers}")
            with _driver(connection) as driver:
                results["stages_member_tiled"] = stages(
                    driver, files, tiled_keys[:100], settings.max_lineage_depth
                )
            say(f"stages (member_tiled): {results['stages_member_tiled']}")
            if register_keys:
                say(f"registering {register_keys:,} keys through POST /v1/record-keys...")
                results["register"] = register(api, token, register_keys, register_keys * args.record_bytes)
                say(f"register: {results['register']}")
            results["api_rss_bytes"] = _rss(api.pid)
        finally:
            api.stop()
    finally:
        neo4j.stop()
    shutil.rmtree(work, ignore_errors=True)  # the API's log; left in place when the run failed


def _driver(connection: Connection) -> Any:
    return GraphDatabase.driver(
        connection.uri, auth=(connection.user, connection.password), notifications_min_severity="OFF"
    )


def _plan_operators(plan: Any) -> list[str]:
    """The operators of a query plan, outermost first."""
    if plan is None:
        return []
    found = [str(plan.get("operatorType", "")).split("@")[0]]
    for child in plan.get("children", []):
        found.extend(_plan_operators(child))
    return found


def _rss(pid: int) -> int | None:
    """Peak resident memory of a process (VmHWM), in bytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return None


def summary(results: dict[str, Any]) -> None:
    say("")
    say(f"== {results['setup']['description']}")
    f = results.get("filter")
    if f:
        say(
            f"filter: {f['bytes_per_key']} bytes/key, {f['ratio_to_records']:.2%} of {f['record_bytes']}-byte records "
            f"(goal ≤ 3%), false-positive rate {f['false_positive_rate']:.2g}"
        )
    for kind, n in results.get("record_provenance", {}).items():
        say(
            f"recordProvenance {kind}: p50 {n['p50_ms']} ms, p95 {n['p95_ms']} ms, p99 {n['p99_ms']} ms "
            f"(goal p99 < 100 ms), {n['holders_mean']} holders, {n['runs_mean']} runs, "
            f"{n['model_versions_mean']} model versions on average"
        )
    r = results.get("register")
    if r:
        say(
            f"register {r['keys']:,} keys: total {r['total_s']} s (goal < 60 s), {r['keys_per_s']:,} keys/s"
            + (f"; hashing {r['hash_s']} s, the rest {r['request_s']} s" if "request_s" in r else "")
            + f"; filter {r['filter_bytes_per_key']} bytes/key, {r['ratio_to_records']:.2%} of the records"
        )


if __name__ == "__main__":
    main()
