"""The graph side of the columnar inference path: resolving a batch, and sealing landed inferences.

A seal turns one landing segment into one cold-tier snapshot with the compaction protocol
(store/compaction.py): a `Compaction {kind: 'seal', state: 'moving'}` node taken under the `ColdTier` lock,
an Iceberg commit tagged with its id, then one graph transaction that applies the seal's rollup increments,
appends its ledger entry and moves the tier's pointer to the snapshot. Until that transaction commits the
rows are invisible; after it they are counted, traced and audited like compacted inferences. The seal's
rollup increments and ledger digest are kept on its node between the steps, so a seal interrupted after
its Iceberg commit is finished by whichever process finds it, without the segment.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from provgraph.domain import facts
from provgraph.domain.records import Stamp
from provgraph.store import rollups
from provgraph.store.compaction import CompactionStore, Pending
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger
from provgraph.store.values import as_datetime, opt_datetime

# Everything a batch's rows are resolved against, in one round trip: the model versions they name and the
# deployments of the endpoints they name.
RESOLVE = """
CALL () {
  UNWIND $modelVersionIds AS id
  MATCH (mv:ModelVersion {id: id})
  RETURN collect({id: mv.id, validFrom: mv.validFrom}) AS versions
}
CALL () {
  UNWIND $endpointIds AS id
  MATCH (e:Endpoint {id: id})
  OPTIONAL MATCH (e)<-[:ON]-(d:Deployment)
  RETURN collect({endpointId: e.id, id: d.id, modelVersionId: d.modelVersionId, startedAt: d.startedAt,
                  endedAt: d.endedAt}) AS deployments
}
RETURN versions, deployments
"""

BEGIN_SEAL = """
MATCH (t:ColdTier {id: 'inferences'})
OPTIONAL MATCH (c:Compaction {id: $id})
WITH t, c
CALL (t, c) {
  WITH t WHERE c IS NULL
  CREATE (:Compaction {id: $id, kind: 'seal', state: 'moving', segment: $segment, startedAt: $now,
                       leaseUntil: $leaseUntil, startedBy: 'sealer', marked: 0})
}
RETURN c.state AS state
"""

RECORD_SEAL = """
MATCH (c:Compaction {id: $id, state: 'moving'})
SET c.marked = $count, c.digest = $digest, c.recordedAt = $recordedAt, c.duplicates = $duplicates,
    c.conflicts = $conflicts, c.conflictIds = $conflictIds, c.bucketModelVersion = $models,
    c.bucketDeployment = $deployments, c.bucketN = $ns, c.bucketFirstAt = $firstAts, c.bucketLastAt = $lastAts
"""

FINISH_SEAL = (
    """
MATCH (t:ColdTier {id: 'inferences'})
SET t._lock = true REMOVE t._lock
WITH t
MATCH (c:Compaction {id: $id, state: 'moving', kind: 'seal'})
WITH t, c, [k IN range(0, size(c.bucketN) - 1) |
  {modelVersionId: c.bucketModelVersion[k],
   deploymentId: CASE c.bucketDeployment[k] WHEN '' THEN null ELSE c.bucketDeployment[k] END,
   n: c.bucketN[k], firstAt: c.bucketFirstAt[k], lastAt: c.bucketLastAt[k]}] AS counts
"""
    + rollups.merged_counts("counts")
    + """
SET c.state = 'done', c.snapshotId = $snapshotId, c.finishedAt = $finishedAt, c.moved = c.marked,
    t.snapshotId = $snapshotId, t.sealed = coalesce(t.sealed, 0) + c.marked,
    t.sealDuplicates = coalesce(t.sealDuplicates, 0) + c.duplicates,
    t.sealConflicts = coalesce(t.sealConflicts, 0) + c.conflicts
RETURN c.marked AS count, c.digest AS digest, c.recordedAt AS recordedAt
"""
)

# A seal that found nothing new (every row a repeat): no snapshot, no ledger entry, only the tally.
DROP_SEAL = """
MATCH (t:ColdTier {id: 'inferences'})
MATCH (c:Compaction {id: $id, state: 'moving', kind: 'seal'})
SET t.sealDuplicates = coalesce(t.sealDuplicates, 0) + $duplicates,
    t.sealConflicts = coalesce(t.sealConflicts, 0) + $conflicts
DELETE c
"""

# Once its segment is gone, a finished seal's node is not needed: the graph stays the same size however
# many seals run (the tier node keeps the tallies, the snapshot summary the seal's id).
FORGET_SEAL = "MATCH (c:Compaction {id: $id, kind: 'seal', state: 'done'}) DELETE c"

HOT_IN_PERIOD = "RETURN EXISTS { MATCH (i:Inference) WHERE i.at >= $first AND i.at <= $last } AS any"

HOT_EXISTING = """
UNWIND $ids AS id
MATCH (i:Inference {id: id})
RETURN i.id AS id, i.at AS at, i.modelVersionId AS model_version_id, i.deploymentId AS deployment_id
"""


def _utc(moment: datetime) -> datetime:
    """As an offset, never a named zone: Neo4j orders `…Z[UTC]` apart from `…Z` (see store/rollups.py), and
    pyarrow hands out datetimes with a named UTC zone."""
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Resolution:
    """What a batch is resolved against: model versions' valid-from times, and each endpoint's
    deployments as (id, model version, start, end) — an endpoint without deployments maps to []."""

    versions: dict[str, datetime]
    deployments: dict[str, list[tuple[str, str, datetime, datetime | None]]]


@dataclass(frozen=True)
class SealCounts:
    """What a seal lands: rollup increments per (model version, deployment, hour) and the ledger digest."""

    count: int
    digest: str
    recorded_at: datetime
    duplicates: int
    conflicts: int
    conflict_ids: list[str]
    buckets: list[tuple[str, str | None, int, datetime, datetime]]  # mv, deployment, n, first at, last at


class SealStore:
    def __init__(self, graph: Graph, tiers: CompactionStore, ledger: Ledger) -> None:
        self.graph = graph
        self.tiers = tiers
        self.ledger = ledger

    async def resolution(self, model_version_ids: list[str], endpoint_ids: list[str]) -> Resolution:
        record = await self.graph.read_one(
            RESOLVE, {"modelVersionIds": model_version_ids, "endpointIds": endpoint_ids}
        )
        assert record is not None
        versions = {v["id"]: as_datetime(v["validFrom"]) for v in record["versions"]}
        deployments: dict[str, list[tuple[str, str, datetime, datetime | None]]] = {}
        for d in record["deployments"]:
            found = deployments.setdefault(d["endpointId"], [])
            if d["id"] is not None:
                found.append(
                    (d["id"], d["modelVersionId"], as_datetime(d["startedAt"]), opt_datetime(d["endedAt"]))
                )
        return Resolution(versions, deployments)

    async def begin(
        self, seal_id: str, segment: str, now: datetime, lease_until: datetime
    ) -> tuple[Pending | None, str | None]:
        """Take the tier for a seal: (the unfinished compaction or seal in the way, None), or (None, the
        state of this seal's node if it already existed: 'done' means its segment was sealed)."""

        async def work(tx: Tx) -> tuple[Pending | None, str | None]:
            _, pending = await self.tiers.lock_and_pending(tx)
            if pending is not None and pending.id != seal_id:
                return pending, None
            record = await (
                await tx.run(BEGIN_SEAL, id=seal_id, segment=segment, now=now, leaseUntil=lease_until)
            ).single(strict=True)
            return None, record["state"]

        return await self.graph.write(work)

    async def hot_existing(self, ids: list[str], first: datetime, last: datetime) -> list[dict[str, Any]]:
        """Graph inferences among `ids` — looked up only when the graph holds any of the period at all
        (with the columnar path on, new inferences are not graph nodes, so this is one index probe)."""
        found = await self.graph.read_one(HOT_IN_PERIOD, {"first": _utc(first), "last": _utc(last)})
        if found is None or not found["any"]:
            return []
        return [dict(r) for r in await self.graph.read(HOT_EXISTING, {"ids": ids})]

    async def cold_existing(self, ids: pa.Array, first: datetime, last: datetime) -> pa.Table:
        pointer = await self.tiers.pointer()
        if pointer.table is None:
            return pa.table({"id": pa.array([], pa.string())})
        return await asyncio.to_thread(
            self.tiers.cold.existing, pointer.table, ids, first, last, pointer.snapshot_id
        )

    async def record(self, seal_id: str, counts: SealCounts) -> None:
        params: dict[str, Any] = {
            "id": seal_id,
            "count": counts.count,
            "digest": counts.digest,
            "recordedAt": counts.recorded_at,
            "duplicates": counts.duplicates,
            "conflicts": counts.conflicts,
            "conflictIds": counts.conflict_ids[:20],
            "models": [b[0] for b in counts.buckets],
            "deployments": [b[1] or "" for b in counts.buckets],
            "ns": [b[2] for b in counts.buckets],
            "firstAts": [_utc(b[3]) for b in counts.buckets],
            "lastAts": [_utc(b[4]) for b in counts.buckets],
        }
        await self.graph.write(lambda tx: tx.run(RECORD_SEAL, **params))

    async def finish(self, seal_id: str, snapshot_id: int, finished_at: datetime) -> int:
        """Step 3: rollups, ledger entry and pointer in one transaction. 0 if the seal was finished before."""

        async def work(tx: Tx) -> int:
            record = await (
                await tx.run(
                    FINISH_SEAL,
                    id=seal_id,
                    snapshotId=snapshot_id,
                    finishedAt=finished_at,
                    now=await self._recorded_at(tx, seal_id),
                )
            ).single()
            if record is None:
                return 0
            stamp = Stamp(actor="sealer", now=finished_at, write_id=seal_id, at=finished_at)
            fact = facts.inferences_counted(seal_id, int(record["count"]), str(record["digest"]))
            await self.ledger.record(tx, stamp, [fact])
            return int(record["count"])

        return await self.graph.write(work)

    @staticmethod
    async def _recorded_at(tx: Tx, seal_id: str) -> Any:
        found = await (
            await tx.run("MATCH (c:Compaction {id: $id}) RETURN c.recordedAt AS at", id=seal_id)
        ).single()
        return None if found is None else found["at"]

    async def drop(self, seal_id: str, duplicates: int, conflicts: int) -> None:
        await self.graph.write(
            lambda tx: tx.run(DROP_SEAL, id=seal_id, duplicates=duplicates, conflicts=conflicts)
        )

    async def forget(self, seal_id: str) -> None:
        await self.graph.write(lambda tx: tx.run(FORGET_SEAL, id=seal_id))

    async def append(self, rows: pa.Table, seal_id: str) -> int:
        return await self.tiers.append(rows, seal_id)

    async def committed(self, seal_id: str) -> int | None:
        return await self.tiers.committed(seal_id)
