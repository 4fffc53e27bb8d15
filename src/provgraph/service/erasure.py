"""Opening an erasure case: a person's records (by keyed hashes), where they were at that moment, and which
model versions learned from them. Decisions, listings and receipts are those of every case
(service/exclusions.py): one mechanism, two triggers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from provgraph.domain import erasure as e
from provgraph.domain import membership as m
from provgraph.domain.errors import Conflict
from provgraph.domain.exclusions import AnyCase, ErasureCase, snapshot_digest
from provgraph.domain.records import Caller
from provgraph.service import validate as v
from provgraph.service.membership import MembershipService
from provgraph.store.erasure import ErasureStore
from provgraph.store.exclusions import ExclusionStore

# Record answers asked at once while a case is opened (each is a few reads; a case has up to 1000).
CONCURRENT_ANSWERS = 8


@dataclass(frozen=True)
class Opened:
    case: ErasureCase
    created: bool


class ErasureService:
    def __init__(self, store: ErasureStore, cases: ExclusionStore, membership: MembershipService) -> None:
        self.store = store
        self.cases = cases
        self.membership = membership

    async def open_case(self, key_hashes: Sequence[str], reason: str, caller: Caller) -> Opened:
        """Open the case for an erasure request with a snapshot of the record answers for its key hashes,
        as of the moment it is recorded. The same hashes (in any order, repeats ignored) with the same
        reason return the recorded case and write nothing; with another reason they are a CONFLICT."""
        hashes = e.key_hash_set(key_hashes)
        reason = v.required_text(reason, "reason", 2048)
        case_id = e.erasure_case_id(hashes)
        recorded = (await self.cases.cases_by_ids([case_id])).get(case_id)
        if recorded is not None:
            return Opened(self._repeat(recorded, hashes, reason), False)
        stamp = v.new_stamp(caller)
        answers = await self._answers(hashes, stamp.now)
        snapshot = e.erasure_snapshot(answers, stamp.now, stamp.now)
        props = {
            "keyHashes": list(hashes),
            "reason": reason,
            "snapshot": snapshot,
            "snapshotDigest": snapshot_digest(snapshot),
            "affected": snapshot["modelVersionIds"],
        }
        case, created = await self.store.open(case_id, props, stamp)
        return Opened(case if created else self._repeat(case, hashes, reason), created)

    async def _answers(self, hashes: Sequence[str], now: datetime) -> dict[str, m.RecordProvenance]:
        """`recordProvenance` for each hash as of `now`, as known at `now`."""
        gate = asyncio.Semaphore(CONCURRENT_ANSWERS)

        async def one(key_hash: str) -> m.RecordProvenance:
            async with gate:
                return await self.membership.record_provenance(key_hash, now, now)

        found = await asyncio.gather(*(one(h) for h in hashes))
        return dict(zip(hashes, found, strict=True))

    @staticmethod
    def _repeat(recorded: AnyCase, hashes: tuple[str, ...], reason: str) -> ErasureCase:
        """The recorded case when the request repeats it; a CONFLICT when it differs."""
        if not isinstance(recorded, ErasureCase) or recorded.key_hashes != hashes:
            # 64 bits of digest in the id: a different set with the same id is not expected, but refused
            raise Conflict(
                f"{e.erasure_case_id(hashes)} is already recorded for other key hashes", field="keyHashes"
            )
        if recorded.reason != reason:
            raise Conflict(
                f"{recorded.id} was already opened for these key hashes by {recorded.opened_by} at "
                f"{recorded.opened_at.isoformat()} with another reason ({recorded.reason!r})",
                field="reason",
            )
        return recorded
