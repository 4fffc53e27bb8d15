"""Moving inferences from the graph (hot) to the cold tier, crash-safe, and reading across both tiers.

A compaction is three steps, each atomic on its own:

1. *mark* (one graph transaction): a `Compaction {state: 'moving'}` node, and up to `limit` inferences older
   than the cutoff stamped with its id;
2. *append* (one Iceberg commit): those inferences as one snapshot tagged with the compaction id;
3. *finish* (one graph transaction): the marked nodes deleted, their rollup buckets flagged as partly cold,
   the compaction 'done' and the `ColdTier` node pointing at its snapshot.

Readers use the cold snapshot the `ColdTier` node names, so rows of a snapshot whose compaction has not
finished are invisible while their nodes still answer from the graph: at every instant each inference is
answered from exactly one tier. A compaction killed between steps is picked up by the next one: if its
snapshot exists (found by its tag) it is finished with it, otherwise its marked inferences are appended
again. The `ColdTier` node is the lock: one compaction at a time per graph, across processes; a
`moving` compaction younger than its lease belongs to a live process and is left alone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from provgraph.domain.serving import Inference
from provgraph.store.cold import SCHEMA, ColdStats, ColdTier
from provgraph.store.graph import Graph, Tx
from provgraph.store.values import as_datetime, opt_datetime

# Take the lock, then say what is pending: the tier's pointer and any unfinished compaction.
LOCK_TIER = """
MERGE (t:ColdTier {id: 'inferences'})
ON CREATE SET t.table = $table
SET t._lock = true REMOVE t._lock
WITH t
OPTIONAL MATCH (c:Compaction {state: 'moving'})
RETURN t.table AS table, t.snapshotId AS snapshotId, c.id AS pending, c.leaseUntil AS leaseUntil, c.kind AS kind,
       c.boundary AS boundary
"""

BEGIN = """
CREATE (c:Compaction {id: $id, kind: $kind, state: 'moving', cutoff: $cutoff, boundary: $boundary,
                      startedAt: $now, leaseUntil: $leaseUntil, startedBy: $actor})
WITH c
CALL (c) {
  MATCH (i:Inference) WHERE i.at < $cutoff AND i.compactionId IS NULL
  WITH i ORDER BY i.at LIMIT $limit
  SET i.compactionId = c.id
  RETURN count(i) AS marked
}
SET c.marked = marked
RETURN marked
"""

RENEW = "MATCH (c:Compaction {id: $id, state: 'moving'}) SET c.leaseUntil = $leaseUntil"

MARKED = """
MATCH (i:Inference {compactionId: $id})
RETURN i.id AS id, i.at AS at, i.modelVersionId AS model_version_id, i.deploymentId AS deployment_id,
       i.inputDigest AS input_digest, i.outputDigest AS output_digest, i.latencyMs AS latency_ms,
       i.recordedAt AS recorded_at, i.recordedBy AS recorded_by, i.recordedIn AS recorded_in
"""

# Step 3. The rollup buckets whose inferences leave are flagged, so a bound that cuts through one is
# recounted from both tiers (store/rollups.py).
FINISH = """
MATCH (t:ColdTier {id: 'inferences'})
SET t._lock = true REMOVE t._lock
WITH t
MATCH (c:Compaction {id: $id, state: 'moving'})
CALL (c) {
  MATCH (i:Inference {compactionId: c.id})
  WITH i, i.modelVersionId + '|' + coalesce(i.deploymentId, '') + '|'
          + toString(datetime.truncate('hour', datetime({epochSeconds: i.at.epochSeconds}))) AS key
  DETACH DELETE i
  WITH DISTINCT key
  MATCH (b:InferenceRollup {key: key})
  SET b.cold = true
  RETURN count(*) AS buckets
}
SET c.state = 'done', c.snapshotId = $snapshotId, c.finishedAt = $now, c.moved = c.marked,
    t.snapshotId = coalesce($snapshotId, t.snapshotId),
    t.compactedBefore = CASE WHEN c.kind = 'compact' AND (t.compactedBefore IS NULL OR c.cutoff > t.compactedBefore)
                             THEN c.cutoff ELSE t.compactedBefore END,
    t.expiredBefore = CASE WHEN c.kind = 'expire' THEN c.boundary ELSE t.expiredBefore END
RETURN c.marked AS moved
"""

# A round that found nothing to move, or an expiry that deleted nothing, leaves no record.
DISCARD = """
MATCH (c:Compaction {id: $id, state: 'moving'}) WHERE c.marked = 0
DELETE c
"""

POINTER = """
OPTIONAL MATCH (t:ColdTier {id: 'inferences'})
RETURN t.table AS table, t.snapshotId AS snapshotId, t.compactedBefore AS compactedBefore, t.expiredBefore AS expiredBefore
"""

HOT_RANGE = """
OPTIONAL CALL () { MATCH (i:Inference) RETURN i.at AS oldest ORDER BY i.at ASC LIMIT 1 }
RETURN oldest, COUNT { (:Inference) } AS n
"""

HISTORY = """
MATCH (c:Compaction)
RETURN c.id AS id, c.kind AS kind, c.state AS state, c.cutoff AS cutoff, c.boundary AS boundary,
       c.startedAt AS startedAt, c.finishedAt AS finishedAt, coalesce(c.moved, c.marked) AS moved
ORDER BY c.startedAt DESC LIMIT $limit
"""


@dataclass(frozen=True)
class Pending:
    id: str
    kind: str  # 'compact' or 'expire'
    lease_until: datetime
    boundary: datetime | None


@dataclass(frozen=True)
class Pointer:
    """The cold table this graph owns and the snapshot its readers see."""

    table: str | None
    snapshot_id: int | None
    compacted_before: datetime | None
    expired_before: datetime | None


@dataclass(frozen=True)
class CompactionRecord:
    id: str
    kind: str
    state: str
    cutoff: datetime | None
    boundary: datetime | None
    started_at: datetime
    finished_at: datetime | None
    moved: int


# The graph property each cold column holds (MARKED reads the properties under these column names).
_PROPERTY_OF_COLUMN = {
    "id": "id",
    "at": "at",
    "model_version_id": "modelVersionId",
    "deployment_id": "deploymentId",
    "input_digest": "inputDigest",
    "output_digest": "outputDigest",
    "latency_ms": "latencyMs",
    "recorded_at": "recordedAt",
    "recorded_by": "recordedBy",
}


def cold_inference(row: dict[str, Any]) -> Inference:
    """A cold row as the domain's inference, through the same conversion as a graph node's properties."""
    from provgraph.store.serving import inference_from  # serving reads the cold tier through this module

    return inference_from({prop: row.get(column) for column, prop in _PROPERTY_OF_COLUMN.items()})


class CompactionStore:
    """The graph side of compaction and the cold tier behind it (blocking calls run in threads)."""

    def __init__(self, graph: Graph, cold: ColdTier) -> None:
        self.graph = graph
        self.cold = cold
        self._table: str | None = None  # the graph's cold table, learnt when the tier is first locked

    async def lock_and_pending(self, tx: Tx) -> tuple[str, Pending | None]:
        """Take the tier's lock (within `tx`) and say which compaction or seal, if any, is unfinished."""
        record = await (await tx.run(LOCK_TIER, table=f"inferences_{uuid.uuid4().hex[:12]}")).single(
            strict=True
        )
        self._table = str(record["table"])
        pending = None
        if record["pending"] is not None:
            pending = Pending(
                id=record["pending"],
                kind=record["kind"] or "compact",
                lease_until=as_datetime(record["leaseUntil"]),
                boundary=opt_datetime(record["boundary"]),
            )
        return str(record["table"]), pending

    async def begin(
        self,
        id: str,
        kind: str,
        cutoff: datetime,
        boundary: datetime | None,
        limit: int,
        now: datetime,
        lease_until: datetime,
        actor: str,
    ) -> tuple[Pending | None, int]:
        """Step 1, or the unfinished compaction to deal with first (`(pending, 0)`). Marks nothing and
        creates nothing when another process holds a live lease (the caller sees `pending` in the future)."""

        async def work(tx: Tx) -> tuple[Pending | None, int]:
            self._table, pending = await self.lock_and_pending(tx)
            if pending is not None:
                return pending, 0
            record = await (
                await tx.run(
                    BEGIN,
                    id=id,
                    kind=kind,
                    cutoff=cutoff,
                    boundary=boundary,
                    limit=limit,
                    now=now,
                    leaseUntil=lease_until,
                    actor=actor,
                )
            ).single(strict=True)
            return None, int(record["marked"])

        return await self.graph.write(work)

    async def renew(self, id: str, lease_until: datetime) -> None:
        await self.graph.write(lambda tx: tx.run(RENEW, id=id, leaseUntil=lease_until))

    async def marked(self, id: str) -> pa.Table:
        records = await self.graph.read(MARKED, {"id": id})
        rows = [dict(r) for r in records]
        for row in rows:
            row["at"] = as_datetime(row["at"])
            row["recorded_at"] = as_datetime(row["recorded_at"])
        return pa.Table.from_pylist(rows, schema=SCHEMA.as_arrow())

    def _name(self) -> str:
        assert self._table is not None, "begin() names the table first"
        return self._table

    async def append(self, rows: pa.Table, id: str) -> int:
        return await asyncio.to_thread(self.cold.append, self._name(), rows, id)

    async def expire(self, boundary: datetime, id: str) -> int | None:
        return await asyncio.to_thread(self.cold.expire_before, self._name(), boundary, id)

    async def rewrite(self, snapshot_id: int, buckets: Sequence[int], id: str) -> int:
        return await asyncio.to_thread(self.cold.rewrite, self._name(), snapshot_id, buckets, id)

    async def files_per_bucket(self) -> dict[int, int]:
        pointer = await self.pointer()
        if pointer.table is None:
            return {}
        return await asyncio.to_thread(self.cold.files_per_bucket, pointer.table, pointer.snapshot_id)

    async def committed(self, id: str) -> int | None:
        return await asyncio.to_thread(self.cold.snapshot_of, self._name(), id)

    async def finish(self, id: str, snapshot_id: int | None, now: datetime) -> int:
        async def work(tx: Tx) -> int:
            record = await (await tx.run(FINISH, id=id, snapshotId=snapshot_id, now=now)).single()
            return 0 if record is None else int(record["moved"] or 0)

        return await self.graph.write(work)

    async def discard(self, id: str) -> None:
        await self.graph.write(lambda tx: tx.run(DISCARD, id=id))

    async def pointer(self) -> Pointer:
        record = await self.graph.read_one(POINTER, {})
        if record is None:
            return Pointer(None, None, None, None)
        return Pointer(
            record["table"],
            record["snapshotId"],
            opt_datetime(record["compactedBefore"]),
            opt_datetime(record["expiredBefore"]),
        )

    async def hot_range(self) -> tuple[datetime | None, int]:
        record = await self.graph.read_one(HOT_RANGE, {})
        assert record is not None
        return opt_datetime(record["oldest"]), int(record["n"])

    async def history(self, limit: int) -> list[CompactionRecord]:
        records = await self.graph.read(HISTORY, {"limit": limit})
        return [
            CompactionRecord(
                id=r["id"],
                kind=r["kind"] or "compact",
                state=r["state"],
                cutoff=opt_datetime(r["cutoff"]),
                boundary=opt_datetime(r["boundary"]),
                started_at=as_datetime(r["startedAt"]),
                finished_at=opt_datetime(r["finishedAt"]),
                moved=int(r["moved"] or 0),
            )
            for r in records
        ]

    # -- reading the cold tier at the graph's pointer ----------------------------------------------------

    async def cold_by_ids(self, ids: Sequence[str]) -> dict[str, Inference]:
        pointer = await self.pointer()
        if pointer.table is None or pointer.snapshot_id is None:
            return {}
        rows = await asyncio.to_thread(self.cold.by_ids, pointer.table, ids, pointer.snapshot_id)
        return {i: cold_inference(row) for i, row in rows.items()}

    async def cold_hours(
        self, hours: Sequence[tuple[str, str | None, datetime]], as_of: datetime, known_at: datetime
    ) -> dict[int, int]:
        pointer = await self.pointer()
        if pointer.table is None:
            return {}
        return await asyncio.to_thread(
            self.cold.count_hours, pointer.table, hours, pointer.snapshot_id, as_of, known_at
        )

    async def with_cold_cuts(
        self, counts: dict[str, int], cuts: dict[str, list[list[Any]]], as_of: datetime, known_at: datetime
    ) -> dict[str, int]:
        """Counts from `rollups.counted` with the cold part of each cut bucket added: `cuts` maps a key of
        `counts` to its cut cold buckets ([modelVersionId, deploymentId, hour], as the graph returns them)."""
        hours: list[tuple[str, str | None, datetime]] = []
        owners: list[str] = []
        for key, buckets in cuts.items():
            for model_version_id, deployment_id, hour in buckets:
                hours.append((str(model_version_id), deployment_id, as_datetime(hour)))
                owners.append(key)
        if not hours:
            return counts
        added = dict(counts)
        for index, n in (await self.cold_hours(hours, as_of, known_at)).items():
            added[owners[index]] = added.get(owners[index], 0) + n
        return added

    async def cold_by_write(self) -> dict[str | None, list[Inference]]:
        pointer = await self.pointer()
        if pointer.table is None:
            return {}
        grouped = await asyncio.to_thread(self.cold.rows_by_write, pointer.table, pointer.snapshot_id)
        return {write: [cold_inference(r) for r in rows] for write, rows in grouped.items()}

    async def cold_stats(self) -> ColdStats:
        pointer = await self.pointer()
        if pointer.table is None:
            return ColdStats(None, 0, 0, 0, None, None)
        return await asyncio.to_thread(self.cold.stats, pointer.table, pointer.snapshot_id)
