"""Where record keys are kept: the filters and exact sets on disk, what each registration is in the graph.

Filters of one shape (blocks × hashes, domain/membership.py) live side by side in shard files of `SLOTS`
filters each, interleaved by block: block `b` of every filter in a shard is one contiguous run of
`SLOTS * 64` bytes. A lookup computes the key's block once per shape and reads that run from each shard —
one `pread` per 256 filters — then checks the key's bits in all of them at once. Shard files are sparse:
a slot costs disk only once written.

The graph holds one `(:RecordKeys)` node per registration (subject × source) with its counts, digest,
shape and slot, linked to the dataset version or slice (`KEYS_OF`) and to the source (`KEYS_FROM`). A slot
is allocated in the graph first, written and synced on disk next, and only then named by a registration
node; a slot left behind by a crash between the two is never named, so lookups ignore it.

Small registrations also keep their sorted hashes (`exact/<digest>.keys`, content-addressed), which turn a
filter hit into DEFINITELY or into no answer at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from provgraph.domain import membership as m
from provgraph.domain.records import Stamp
from provgraph.store.graph import Graph, Tx
from provgraph.store.values import as_datetime

SLOTS = 256
_SHARD_NAME = re.compile(r"b(\d+)-k(\d+)-s(\d+)\.bits")


@dataclass(frozen=True)
class Registration:
    """One registration of record keys, as the graph records it."""

    id: str
    subject_id: str  # the dataset version or slice
    source_id: str
    digest: str
    keys: int
    exact: bool
    false_positive_rate: float  # the filter's own rate, for its key count and shape
    shape: m.FilterShape
    number: int  # the filter's place among filters of its shape
    bytes: int  # what the registration stores on disk (filter, plus the exact set if kept)
    recorded_at: datetime
    recorded_by: str


def slot_key(shape: m.FilterShape, number: int) -> str:
    return f"{shape.blocks}:{shape.hashes}:{number}"


class KeyFiles:
    """The filters and exact sets under one directory (`PROVGRAPH_RECORDS_DIR`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filters = root / "filters"
        self.exact = root / "exact"

    def _shard(self, shape: m.FilterShape, shard: int) -> Path:
        return self.filters / f"b{shape.blocks}-k{shape.hashes}-s{shard}.bits"

    def write_filter(self, shape: m.FilterShape, number: int, bits: npt.NDArray[np.uint8]) -> None:
        """Put a filter in its slot and sync it to disk."""
        self.filters.mkdir(parents=True, exist_ok=True)
        shard, slot = divmod(number, SLOTS)
        path = self._shard(shape, shard)
        size = shape.blocks * SLOTS * m.BLOCK_BYTES
        with path.open("ab") as handle:  # create it if needed; never shrink it
            if handle.tell() < size:
                handle.truncate(size)
        mapped = np.memmap(path, dtype=np.uint8, mode="r+", shape=(shape.blocks, SLOTS, m.BLOCK_BYTES))
        mapped[:, slot, :] = bits
        mapped.flush()
        del mapped
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def write_exact(self, digest: str, words: m.Hashes) -> None:
        """Keep the sorted hashes (content-addressed by their digest: a repeat writes the same file)."""
        self.exact.mkdir(parents=True, exist_ok=True)
        path = self._exact(digest)
        if path.exists():
            return
        partial = path.with_suffix(".partial")
        with partial.open("wb") as handle:
            handle.write(m.hashes_to_bytes(words))
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)

    def _exact(self, digest: str) -> Path:
        return self.exact / (digest.removeprefix("sha256:") + ".keys")

    def holds_exactly(self, digest: str, one: m.Hashes) -> bool:
        path = self._exact(digest)
        if not path.exists() or path.stat().st_size == 0:
            return False
        words = np.memmap(path, dtype=">u8", mode="r").reshape(-1, 2)
        return m.holds_exactly(words, one)

    def candidates(self, one: m.Hashes) -> list[str]:
        """The slots (`slot_key`) whose filter has every bit of the hash set: one read per shard."""
        if not self.filters.is_dir():
            return []
        found: list[str] = []
        probed: dict[tuple[int, int], tuple[int, npt.NDArray[np.uint64]]] = {}
        for name in os.listdir(self.filters):
            parsed = _SHARD_NAME.fullmatch(name)
            if parsed is None:
                continue
            shape = m.FilterShape(int(parsed[1]), int(parsed[2]))
            shard = int(parsed[3])
            if (shape.blocks, shape.hashes) not in probed:
                blocks, bit_positions = m.probes(one, shape)
                probed[shape.blocks, shape.hashes] = (int(blocks[0]), bit_positions[0])
            block, positions = probed[shape.blocks, shape.hashes]
            run = SLOTS * m.BLOCK_BYTES
            descriptor = os.open(self.filters / name, os.O_RDONLY)
            try:
                raw = os.pread(descriptor, run, block * run)
            finally:
                os.close(descriptor)
            if len(raw) < run:  # a shard file shorter than its shape (never synced): nothing in it yet
                continue
            rows = np.frombuffer(raw, dtype=np.uint8).reshape(SLOTS, m.BLOCK_BYTES)
            for slot in np.flatnonzero(m.rows_hold(rows, positions)):
                found.append(slot_key(shape, shard * SLOTS + int(slot)))
        return found


ALLOCATE = """
MERGE (c:RecordKeySlots {shape: $shape})
ON CREATE SET c.next = 0
SET c.next = c.next + 1
RETURN c.next - 1 AS number
"""

FIND = """
OPTIONAL MATCH (rk:RecordKeys {id: $id})
RETURN rk {.*} AS node
"""

REGISTER = """
CALL (*) {
  MATCH (d:DatasetVersion {id: $subjectId}) RETURN d
  UNION
  MATCH (d:Slice {id: $subjectId}) RETURN d
}
MATCH (s:Source {id: $sourceId})
MERGE (rk:RecordKeys {id: $id})
ON CREATE SET rk += $props, rk.recordedAt = $recordedAt, rk.recordedBy = $recordedBy, rk.writeId = $writeId
WITH rk, d, s, rk.writeId = $writeId AS created
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  MERGE (rk)-[:KEYS_OF]->(d)
  MERGE (rk)-[:KEYS_FROM]->(s)
  SET d.hasRecordKeys = true)
RETURN rk {.*} AS node, created
"""

EXISTS = """
RETURN EXISTS { MATCH (:DatasetVersion {id: $subjectId}) } OR EXISTS { MATCH (:Slice {id: $subjectId}) } AS subject,
       EXISTS { MATCH (:Source {id: $sourceId}) } AS source
"""

RESOLVE = """
UNWIND $slots AS slot
MATCH (rk:RecordKeys {slot: slot}) WHERE rk.recordedAt <= $knownAt
RETURN rk {.*} AS node
"""

PRESERVE = """
MATCH (d:DatasetVersion {id: $id})
WITH d, d.keysPreservedBy IS NULL AS created
SET d.keysPreservedBy = coalesce(d.keysPreservedBy, $transform),
    d.keysPreservedAt = coalesce(d.keysPreservedAt, $recordedAt),
    d.keysPreserved = true
RETURN d.keysPreservedBy AS transform, d.keysPreservedAt AS at, created
"""


REGISTER_ROWS = """
CALL (*) {
  MATCH (d:DatasetVersion {id: $subjectId}) RETURN d
  UNION
  MATCH (d:Slice {id: $subjectId}) RETURN d
}
MATCH (s:Source {id: $sourceId})
MERGE (rr:RowRanges {id: $id})
ON CREATE SET rr.subjectId = $subjectId, rr.sourceId = $sourceId, rr.table = $table, rr.firsts = $firsts,
              rr.lasts = $lasts, rr.rows = $rows, rr.recordedAt = $recordedAt, rr.recordedBy = $recordedBy,
              rr.writeId = $writeId
WITH rr, d, s, rr.writeId = $writeId AS created
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  MERGE (rr)-[:ROWS_OF]->(d)
  MERGE (rr)-[:ROWS_FROM]->(s)
  SET d.hasRecordKeys = true)
RETURN rr.firsts AS firsts, rr.lasts AS lasts, rr.rows AS rows, rr.recordedAt AS recordedAt, created
"""

ROWS_HOLDING = """
MATCH (rr:RowRanges {table: $table}) WHERE rr.recordedAt <= $knownAt
  AND any(i IN range(0, size(rr.firsts) - 1) WHERE rr.firsts[i] <= $row AND $row <= rr.lasts[i])
RETURN rr.subjectId AS subjectId, rr.sourceId AS sourceId
"""


def registration_from(node: Mapping[str, Any]) -> Registration:
    return Registration(
        id=str(node["id"]),
        subject_id=str(node["subjectId"]),
        source_id=str(node["sourceId"]),
        digest=str(node["digest"]),
        keys=int(node["keys"]),
        exact=bool(node["exact"]),
        false_positive_rate=float(node["falsePositiveRate"]),
        shape=m.FilterShape(int(node["blocks"]), int(node["hashes"])),
        number=int(node["number"]),
        bytes=int(node["bytes"]),
        recorded_at=as_datetime(node["recordedAt"]),
        recorded_by=str(node["recordedBy"]),
    )


class MembershipStore:
    """Registrations of record keys: files through `KeyFiles`, facts in the graph."""

    def __init__(self, graph: Graph, files: KeyFiles) -> None:
        self.graph = graph
        self.files = files

    async def find(self, registration_id: str) -> Registration | None:
        record = await self.graph.read_one(FIND, {"id": registration_id})
        node = record["node"] if record else None
        return registration_from(node) if node else None

    async def missing(self, subject_id: str, source_id: str) -> str | None:
        """Which of the two ids names nothing (checked before a slot is allocated, so a registration for
        data that does not exist writes nothing)."""
        record = await self.graph.read_one(EXISTS, {"subjectId": subject_id, "sourceId": source_id})
        if record is None or not record["subject"]:
            return subject_id
        return None if record["source"] else source_id

    async def allocate(self, shape: m.FilterShape) -> int:
        record = (await self.graph.write_statement(ALLOCATE, {"shape": f"{shape.blocks}:{shape.hashes}"}))[0]
        return int(record["number"])

    async def register(
        self, registration_id: str, props: dict[str, Any], stamp: Stamp
    ) -> tuple[Registration, bool] | None:
        """Record the registration; None when the subject or the source does not exist. A concurrent
        registration of the same subject and source that got there first is returned instead."""

        async def work(tx: Tx) -> tuple[Registration, bool] | None:
            result = await tx.run(
                REGISTER,
                id=registration_id,
                subjectId=props["subjectId"],
                sourceId=props["sourceId"],
                props=props,
                recordedAt=stamp.now,
                recordedBy=stamp.actor,
                writeId=stamp.write_id,
            )
            record = await result.single()
            if record is None:
                return None
            return registration_from(record["node"]), bool(record["created"])

        return await self.graph.write(work)

    async def register_rows(
        self, subject_id: str, source_id: str, table: str, ranges: Sequence[tuple[int, int]], stamp: Stamp
    ) -> tuple[list[tuple[int, int]], datetime, bool] | None:
        """Record a subject's row ranges in a table; returns what is recorded (the first registration's
        ranges, for the caller to compare), when, and whether this call recorded it."""
        records = await self.graph.write_statement(
            REGISTER_ROWS,
            {
                "id": f"rowRanges:{subject_id}|{source_id}|{table}",
                "subjectId": subject_id,
                "sourceId": source_id,
                "table": table,
                "firsts": [first for first, _ in ranges],
                "lasts": [last for _, last in ranges],
                "rows": sum(last - first + 1 for first, last in ranges),
                "recordedAt": stamp.now,
                "recordedBy": stamp.actor,
                "writeId": stamp.write_id,
            },
        )
        if not records:
            return None
        r = records[0]
        return (
            list(zip(r["firsts"], r["lasts"], strict=True)),
            as_datetime(r["recordedAt"]),
            bool(r["created"]),
        )

    async def rows_holding(self, table: str, row: int, known_at: datetime) -> list[tuple[str, str]]:
        """The (subject, source) pairs whose registered ranges of `table` hold `row`."""
        records = await self.graph.read(ROWS_HOLDING, {"table": table, "row": row, "knownAt": known_at})
        return [(str(r["subjectId"]), str(r["sourceId"])) for r in records]

    async def resolve(self, slots: Sequence[str], known_at: datetime) -> list[Registration]:
        records = await self.graph.read(RESOLVE, {"slots": list(slots), "knownAt": known_at})
        return [registration_from(r["node"]) for r in records]

    async def preserve(
        self, version_id: str, transform: str, stamp: Stamp
    ) -> tuple[str, datetime, bool] | None:
        """Declare that a derived version's transform keeps its parents' record keys (first declaration
        wins; the caller compares)."""
        records = await self.graph.write_statement(
            PRESERVE, {"id": version_id, "transform": transform, "recordedAt": stamp.now}
        )
        if not records:
            return None
        r = records[0]
        return str(r["transform"]), as_datetime(r["at"]), bool(r["created"])
