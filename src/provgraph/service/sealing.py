"""Sealing: landed inferences become cold-tier rows, visible to every query exactly once.

Each closed landing segment is sealed on its own (store/sealing.py has the crash-safe protocol). Before its
rows are committed, repeats are dropped: within the segment, against inferences in the graph, and against
cold rows of the same period (a retry carries the inference's own time, so only the files whose time
bounds overlap the segment's are read). A repeat with the facts already recorded is a duplicate and writes
nothing; one with other facts is a conflict, dropped too, and counted on the tier with its id kept on the
seal. The seal's rollup increments and ledger entry are committed with the pointer move.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from provgraph.domain.errors import Unavailable
from provgraph.domain.time import utcnow
from provgraph.store.cold import SCHEMA
from provgraph.store.landing import LandingLog, Segment
from provgraph.store.sealing import SealCounts, SealStore

log = logging.getLogger("provgraph.sealing")

LEASE = timedelta(minutes=10)
_SAME_FACTS = ("at", "model_version_id", "deployment_id")  # what makes a repeat a duplicate (graph path)


@dataclass(frozen=True)
class SealOutcome:
    segments: int
    sealed: int
    duplicates: int
    conflicts: int


class Sealer:
    """Seals the landing log's closed segments (one process's, or any a crashed process left)."""

    def __init__(
        self, store: SealStore, landing: LandingLog, crash_at: Callable[[str], None] | None = None
    ) -> None:
        self.store = store
        self.landing = landing
        self.lease = LEASE
        self._crash_at = crash_at or (lambda step: None)
        self._lock = asyncio.Lock()  # one seal at a time in this process (the tier's lock spans processes)

    async def seal(self) -> SealOutcome:
        """Close the open segment and seal every segment ready. Raises Unavailable while another process's
        compaction or seal holds the tier (the next call carries on)."""
        async with self._lock:
            await asyncio.to_thread(self.landing.rotate)
            segments, sealed, duplicates, conflicts = 0, 0, 0, 0
            for segment in await asyncio.to_thread(self.landing.ready):
                outcome = await self._seal(segment)
                segments += 1
                sealed += outcome.sealed
                duplicates += outcome.duplicates
                conflicts += outcome.conflicts
            return SealOutcome(segments, sealed, duplicates, conflicts)

    async def recover(self, seal_id: str) -> int:
        """Finish a seal a crashed process left after its Iceberg commit; before it, forget the seal (its
        segment is still on disk and is sealed again)."""
        snapshot = await self.store.committed(seal_id)
        if snapshot is None:
            await self.store.drop(seal_id, 0, 0)
            return 0
        return await self.store.finish(seal_id, snapshot, utcnow())

    async def _seal(self, segment: Segment) -> SealOutcome:
        seal_id = f"seal:{segment.id}"
        now = utcnow()
        pending, state = await self.store.begin(seal_id, str(segment.path), now, now + self.lease)
        if pending is not None:
            if pending.lease_until > utcnow():
                raise Unavailable(f"the cold tier is busy with {pending.id}; sealing waits for it")
            log.warning("finishing %s, left unfinished by a crashed process", pending.id)
            if pending.kind == "seal":
                await self.recover(pending.id)
            raise Unavailable(f"{pending.id} was left unfinished; sealing again on the next round")
        if state == "done":
            return await self._done(segment, seal_id, SealOutcome(1, 0, 0, 0))
        if state == "moving":  # this process crashed mid-seal before: finish from the snapshot if it exists
            snapshot = await self.store.committed(seal_id)
            if snapshot is not None:
                sealed = await self.store.finish(seal_id, snapshot, utcnow())
                return await self._done(segment, seal_id, SealOutcome(1, sealed, 0, 0))
        started = time.perf_counter()
        rows = await asyncio.to_thread(self.landing.read, segment)
        fresh, duplicates, conflict_ids = await self._without_repeats(rows)
        if fresh.num_rows == 0:
            await self.store.drop(seal_id, duplicates, len(conflict_ids))
            await asyncio.to_thread(self.landing.remove, segment)
            return SealOutcome(1, 0, duplicates, len(conflict_ids))
        recorded_at = utcnow()
        cold_rows = _cold_rows(fresh, seal_id, recorded_at)
        counts = await asyncio.to_thread(_counts, cold_rows, seal_id, recorded_at, duplicates, conflict_ids)
        await self.store.record(seal_id, counts)
        self._crash_at("recorded")
        snapshot = await self.store.append(cold_rows, seal_id)
        self._crash_at("appended")
        sealed = await self.store.finish(seal_id, snapshot, utcnow())
        log.info("seal %s: %d inferences in %.2f s", seal_id, sealed, time.perf_counter() - started)
        if conflict_ids:
            log.warning(
                "seal %s dropped %d conflicting repeats, e.g. %s",
                seal_id,
                len(conflict_ids),
                conflict_ids[:3],
            )
        return await self._done(segment, seal_id, SealOutcome(1, sealed, duplicates, len(conflict_ids)))

    async def _done(self, segment: Segment, seal_id: str, outcome: SealOutcome) -> SealOutcome:
        await asyncio.to_thread(self.landing.remove, segment)  # the file first: its seal's node says "done"
        await self.store.forget(seal_id)
        return outcome

    async def _without_repeats(self, rows: pa.Table) -> tuple[pa.Table, int, list[str]]:
        """The rows not recorded before, how many were duplicates, and the ids of conflicting repeats."""
        rows = rows.sort_by([("id", "ascending"), ("landed_at", "ascending")])
        ids = rows.column("id").combine_chunks()
        first = np.ones(rows.num_rows, dtype=bool)
        if rows.num_rows > 1:
            first[1:] = pc.not_equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
        repeats = rows.filter(pa.array(~first))
        rows = rows.filter(pa.array(first))
        earlier: list[pa.Table] = []
        if repeats.num_rows:
            earlier.append(rows)  # a repeat within the segment is compared with its first landing
        if rows.num_rows:
            first_at = rows.column("at").combine_chunks()
            lo = pc.min(first_at).as_py()
            hi = pc.max(first_at).as_py()
            hot = await self.store.hot_existing(rows.column("id").to_pylist(), lo, hi)
            if hot:
                earlier.append(_as_rows(hot))
            cold = await self.store.cold_existing(rows.column("id").combine_chunks(), lo, hi)
            if cold.num_rows:
                earlier.append(cold.select(["id", *_SAME_FACTS]))
        duplicates, conflicts = 0, []
        for recorded in earlier:
            against = recorded.select(["id", *_SAME_FACTS])
            candidates = repeats if recorded is rows else rows
            same, other = _compare(candidates, against)
            duplicates += same
            conflicts += other
            if recorded is not rows:
                rows = rows.join(against.select(["id"]), "id", join_type="left anti")
        return rows, duplicates, sorted(conflicts)


def _compare(candidates: pa.Table, recorded: pa.Table) -> tuple[int, list[str]]:
    """Of `candidates` whose id is in `recorded`: how many carry the same facts, and the ids of the others."""
    joined = candidates.select(["id", *_SAME_FACTS]).join(
        recorded.rename_columns(["id", *(f"_{c}" for c in _SAME_FACTS)]), "id", join_type="inner"
    )
    if joined.num_rows == 0:
        return 0, []
    same = pc.equal(joined.column("at"), joined.column("_at"))
    for column in _SAME_FACTS[1:]:
        left = pc.fill_null(joined.column(column), "")
        right = pc.fill_null(joined.column(f"_{column}"), "")
        same = pc.and_(same, pc.equal(left, right))
    mask = same.to_numpy(zero_copy_only=False) if isinstance(same, pa.Array) else np.asarray(same)
    other = joined.filter(pa.array(~mask)).column("id").to_pylist()
    return int(mask.sum()), other


def _as_rows(found: list[dict[str, object]]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([r["id"] for r in found], pa.string()),
            "at": pa.array([_utc(r["at"]) for r in found], pa.timestamp("us", tz="UTC")),
            "model_version_id": pa.array([r["model_version_id"] for r in found], pa.string()),
            "deployment_id": pa.array([r["deployment_id"] for r in found], pa.string()),
        }
    )


def _utc(value: object) -> datetime:
    to_native = getattr(value, "to_native", None)
    moment = to_native() if to_native else value
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC)


def _cold_rows(fresh: pa.Table, seal_id: str, recorded_at: datetime) -> pa.Table:
    n = fresh.num_rows
    table = fresh.drop_columns(["landed_at"])
    table = table.append_column(
        "recorded_at", pa.repeat(pa.scalar(recorded_at, pa.timestamp("us", tz="UTC")), n)
    )
    table = table.append_column("recorded_in", pa.repeat(pa.scalar(seal_id), n))
    return table.select([f.name for f in SCHEMA.fields])


_LINE = json.JSONEncoder(separators=(",", ":")).encode
# What json.dumps writes as is inside quotes: printable ASCII but the quote and the backslash.
_NEEDS_ESCAPING = r'[^\x20-\x7e]|["\\]'
_TEXT_COLUMNS = ("id", "model_version_id", "deployment_id", "input_digest", "output_digest", "recorded_by")


def _iso(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC times as `datetime.isoformat()` writes them (no fraction when it is zero, `+00:00`). Cast from
    the zone-less value, which is the UTC one: thirty times faster than formatting in the zone."""
    text = pc.cast(column.cast(pa.timestamp("us")), pa.string())  # "2026-11-24 10:00:00.000120"
    text = pc.replace_substring(pc.replace_substring(text, " ", "T"), ".000000", "")
    return pc.binary_join_element_wise(text, "+00:00", "")


def _json_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.fill_null(pc.binary_join_element_wise('"', column, '"', ""), "null")


def batch_digest(rows: pa.Table) -> str:
    """The digest `facts.inferences_logged` computes over these cold rows — the one the audit recomputes —
    worked out on whole columns: each row's canonical line is the JSON array `facts.inference_line`
    writes, built with string kernels; a row holding text JSON must escape is encoded by the JSON encoder
    itself. Lines are ASCII (the encoder escapes the rest), so Arrow's byte order is Python's str order."""
    columns = {name: rows.column(name).cast(pa.string()) for name in _TEXT_COLUMNS}
    latency = [
        "null" if v is None else repr(v) for v in rows.column("latency_ms").to_pylist()
    ]  # repr is how json writes a float
    fields = [
        _json_text(columns["id"]),
        _json_text(_iso(rows.column("at"))),
        _json_text(columns["model_version_id"]),
        _json_text(columns["deployment_id"]),
        _json_text(columns["input_digest"]),
        _json_text(columns["output_digest"]),
        pa.array(latency, pa.string()),
        _json_text(_iso(rows.column("recorded_at"))),
        _json_text(columns["recorded_by"]),
    ]
    inner = pc.binary_join_element_wise(*fields, ",")
    lines = pc.binary_join_element_wise("[", inner, "]", "").combine_chunks()
    escaped = np.zeros(rows.num_rows, dtype=bool)
    for column in columns.values():
        found = pc.fill_null(pc.match_substring_regex(column, _NEEDS_ESCAPING), False)
        escaped |= found.to_numpy(zero_copy_only=False)
    if escaped.any():
        patched = lines.to_pylist()
        for row in np.flatnonzero(escaped):
            patched[row] = _line(rows.slice(int(row), 1).to_pylist()[0])
        lines = pa.array(patched, pa.string())
    ordered = lines.take(pc.sort_indices(lines))
    # Every line followed by a newline, read straight from the Arrow buffer; the digest has none at the end.
    text = pc.binary_join_element_wise(ordered, "\n", "").cast(pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    joined = text.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1]) - 1] if len(text) else b""
    return hashlib.sha256(joined).hexdigest()


def _line(row: dict[str, object]) -> str:
    def iso(value: object) -> str:
        assert isinstance(value, datetime)
        return value.astimezone(UTC).isoformat()

    values = [row[c] for c in ("id", "model_version_id", "deployment_id", "input_digest", "output_digest")]
    return _LINE(
        [
            values[0],
            iso(row["at"]),
            *values[1:],
            row["latency_ms"],
            iso(row["recorded_at"]),
            row["recorded_by"],
        ]
    )


def _counts(
    rows: pa.Table, seal_id: str, recorded_at: datetime, duplicates: int, conflict_ids: list[str]
) -> SealCounts:
    """The seal's rollup increments (per model version, deployment and hour) and its ledger digest,
    worked out from the very rows the cold tier will hold — the digest as the audit will recompute it."""
    hours = pc.divide(rows.column("at").cast(pa.int64()), 3_600_000_000)
    grouped = (
        pa.table(
            {
                "mv": rows.column("model_version_id"),
                "dep": pc.fill_null(rows.column("deployment_id"), ""),
                "hour": hours,
                "at": rows.column("at"),
            }
        )
        .group_by(["mv", "dep", "hour"])
        .aggregate([("at", "count"), ("at", "min"), ("at", "max")])
        .sort_by([("mv", "ascending"), ("dep", "ascending"), ("hour", "ascending")])
    )
    buckets = [
        (g["mv"], g["dep"] or None, int(g["at_count"]), g["at_min"], g["at_max"]) for g in grouped.to_pylist()
    ]
    return SealCounts(
        count=rows.num_rows,
        digest=batch_digest(rows),
        recorded_at=recorded_at,
        duplicates=duplicates,
        conflicts=len(conflict_ids),
        conflict_ids=conflict_ids,
        buckets=buckets,
    )
