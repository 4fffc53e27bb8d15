"""Compaction (hot → cold), retention enforcement and the retention report.

See store/compaction.py for the crash-safety protocol. This layer decides what to move and when: everything
older than the hot window, in rounds of `batch` inferences (each round its own compaction, so a crash loses
at most one round's progress and memory stays bounded), then cold rows past the retention period.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from provgraph.domain.errors import Unavailable
from provgraph.domain.retention import RetentionPolicy, RetentionReport, TierReach
from provgraph.domain.time import utcnow
from provgraph.service.sealing import Sealer
from provgraph.store.compaction import CompactionRecord, CompactionStore, Pending

log = logging.getLogger("provgraph.compaction")

LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class CompactionOutcome:
    moved: int
    rounds: int
    recovered: list[str]
    deleted_before: datetime | None


class CompactionService:
    def __init__(
        self,
        store: CompactionStore,
        policy: RetentionPolicy,
        batch: int = 50_000,
        crash_at: Callable[[str], None] | None = None,
        seals: Sealer | None = None,
    ) -> None:
        self.store = store
        self.seals = seals  # finishes a seal a crashed process left (kind 'seal')
        self.policy = policy
        self.batch = batch
        self.max_files = 16  # per cold bucket before optimize() rewrites it into one
        self.rewrite_group = 8  # buckets per rewrite commit (each is read into memory whole)
        self.lease = LEASE  # how long a compaction's process is presumed alive; then another finishes it
        # Tests kill the process at a named step ("marked", "appended") to prove recovery works.
        self._crash_at = crash_at or (lambda step: None)

    async def compact(
        self, now: datetime | None = None, progress: Callable[[str], None] | None = None
    ) -> CompactionOutcome:
        """Move every inference older than the hot window to the cold tier, then apply the cold retention.
        Safe to run from several processes at once and to re-run after a crash."""
        now = now or utcnow()
        say = progress or (lambda message: None)
        cutoff = self.policy.hot_cutoff(now)
        moved, rounds, recovered = 0, 0, []
        while True:
            compaction_id = f"compaction:{uuid.uuid4()}"
            pending, marked = await self.store.begin(
                compaction_id,
                "compact",
                cutoff,
                None,
                self.batch,
                utcnow(),
                utcnow() + self.lease,
                "compaction",
            )
            if pending is not None:
                if pending.lease_until > utcnow():
                    raise Unavailable(
                        f"another compaction ({pending.id}) is running; its lease ends "
                        f"{pending.lease_until.isoformat()}"
                    )
                say(f"finishing {pending.id}, left unfinished by an earlier run")
                moved += await self._finish(pending)
                recovered.append(pending.id)
                continue
            if marked == 0:
                await self.store.discard(compaction_id)
                break
            moved += await self._move(compaction_id)
            rounds += 1
            say(f"moved {moved:,} inferences older than {cutoff.isoformat()} to the cold tier")
        deleted_before = await self._expire(now, say)
        await self.optimize(say)
        return CompactionOutcome(moved, rounds, recovered, deleted_before)

    async def optimize(self, progress: Callable[[str], None] | None = None) -> int:
        """Rewrite every cold bucket holding more than `max_files` files into one sorted file (a few
        buckets per Iceberg commit, so memory stays bounded); how many buckets were rewritten. Each
        compaction and seal adds a file per bucket it touches, and a lookup by id opens all of its bucket's
        files: this bounds that number. Rows do not change, so readers are right at any snapshot."""
        crowded = sorted(b for b, n in (await self.store.files_per_bucket()).items() if n > self.max_files)
        if not crowded:
            return 0
        operation_id = f"optimize:{uuid.uuid4()}"
        pending, _ = await self.store.begin(
            operation_id, "optimize", utcnow(), None, 0, utcnow(), utcnow() + self.lease, "compaction"
        )
        if pending is not None:
            return 0  # the tier is busy; the next run optimizes
        snapshot = (await self.store.pointer()).snapshot_id
        assert snapshot is not None
        try:
            for start in range(0, len(crowded), self.rewrite_group):
                group = crowded[start : start + self.rewrite_group]
                snapshot = await self.store.rewrite(snapshot, group, operation_id)
                self._crash_at("rewritten")
        except RuntimeError as exc:  # the table moved under us (never while the lock holds): leave it be
            log.warning("optimize skipped: %s", exc)
            await self.store.finish(operation_id, None, utcnow())
            return 0
        await self.store.finish(operation_id, snapshot, utcnow())
        if progress is not None:
            progress(f"rewrote {len(crowded)} cold buckets into one file each")
        return len(crowded)

    async def _move(self, compaction_id: str) -> int:
        self._crash_at("marked")
        rows = await self.store.marked(compaction_id)
        snapshot = await self.store.append(rows, compaction_id)
        self._crash_at("appended")
        return await self.store.finish(compaction_id, snapshot, utcnow())

    async def _finish(self, pending: Pending) -> int:
        """Complete a compaction a crash interrupted: with its snapshot if it was committed, else by
        appending its marked inferences now."""
        await self.store.renew(pending.id, utcnow() + self.lease)
        if pending.kind == "seal":
            if self.seals is None:
                raise Unavailable(f"{pending.id} is an unfinished seal and this process has no sealer")
            return await self.seals.recover(pending.id)
        snapshot = await self.store.committed(pending.id)
        if snapshot is None and pending.kind == "expire":
            assert pending.boundary is not None
            snapshot = await self.store.expire(pending.boundary, pending.id)
        elif snapshot is None:
            rows = await self.store.marked(pending.id)
            if rows.num_rows:
                snapshot = await self.store.append(rows, pending.id)
        return await self.store.finish(pending.id, snapshot, utcnow())

    async def _expire(self, now: datetime, say: Callable[[str], None]) -> datetime | None:
        boundary = self.policy.delete_before(now)
        if boundary is None:
            return None
        operation_id = f"expiry:{uuid.uuid4()}"
        pending, _ = await self.store.begin(
            operation_id, "expire", boundary, boundary, 0, utcnow(), utcnow() + self.lease, "retention"
        )
        if pending is not None:
            return None  # another process holds the tier; it will expire on its next run
        snapshot = await self.store.expire(boundary, operation_id)
        if snapshot is None:
            await self.store.discard(operation_id)
            return None
        await self.store.finish(operation_id, snapshot, utcnow())
        say(f"deleted cold inferences before {boundary.isoformat()} (retention {self.policy.cold_days} days)")
        return boundary

    async def retention(self) -> RetentionReport:
        """The policy and what each tier holds now."""
        now = utcnow()
        pointer = await self.store.pointer()
        oldest_hot, hot_count = await self.store.hot_range()
        cold = await self.store.cold_stats()
        return RetentionReport(
            policy=self.policy,
            now=now,
            hot=TierReach(hot_count, oldest_hot, None, None),
            cold=TierReach(cold.rows, cold.oldest, cold.newest, cold.bytes),
            compacted_before=pointer.compacted_before,
            deleted_before=pointer.expired_before,
            cold_location=self.store.cold.location.warehouse,
            cold_snapshot=pointer.snapshot_id,
        )

    async def history(self, limit: int = 20) -> list[CompactionRecord]:
        return await self.store.history(limit)
