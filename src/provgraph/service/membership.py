"""Record keys and the question they answer: where is this record, and which models learned from it.

Registering keys stores, for a dataset version or slice and one of its sources, a Bloom filter of the
records' keyed hashes (and the sorted hashes themselves when there are at most `EXACT_LIMIT`). Repeating a
registration with the same hashes returns the recorded one and writes nothing; different hashes for the
same version and source are a CONFLICT (a version's records do not change).

`record_provenance` finds the holders (one read per filter shard, then the registrations of the hits), then
walks downstream from them (store/record_reach.py) and describes each model version reached as it was at
`asOf`: stage, live deployments, inferences served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from provgraph.domain import membership as m
from provgraph.domain.errors import Conflict, InvalidArgument, NotFound
from provgraph.domain.ids import Kind
from provgraph.domain.records import Caller
from provgraph.domain.time import utcnow
from provgraph.service import validate as v
from provgraph.store.lineage import LineageStore
from provgraph.store.membership import MembershipStore, Registration, slot_key
from provgraph.store.record_reach import RecordReach

# One registration: what the request-body limit (512 MiB, config.Limits.max_keys_body_bytes) can carry;
# a larger dataset registers per part (slice) or per source.
MAX_KEYS = 32_000_000
MAX_TRANSFORM = 200
MAX_TABLE = 512


class MembershipService:
    def __init__(
        self, store: MembershipStore, reach: RecordReach, lineage: LineageStore, max_depth: int
    ) -> None:
        self.store = store
        self.reach = reach
        self.lineage = lineage
        self.max_depth = max_depth

    async def register_keys(
        self,
        subject_id: str,
        source_id: str,
        body: bytes,
        false_positive_rate: float,
        caller: Caller,
    ) -> tuple[Registration, bool]:
        """Register the record keys (16-byte keyed hashes, concatenated) a version or slice holds from a
        source. Returns the registration and whether this call recorded it."""
        subject_id = v.one_id(subject_id, "subjectId", Kind.DATASET_VERSION, Kind.SLICE)
        source_id = v.one_id(source_id, "sourceId", Kind.SOURCE)
        shape = m.shape_for(1, false_positive_rate)  # checks the rate before any work
        if len(body) > MAX_KEYS * m.KEY_HASH_BYTES:
            raise InvalidArgument(
                f"at most {MAX_KEYS:,} keys per registration; register a large dataset per slice or source",
                field="body",
            )
        words = await asyncio.to_thread(m.hashes_from_bytes, body)
        digest = await asyncio.to_thread(m.digest_of, words)
        registration_id = f"recordKeys:{subject_id}|{source_id}"
        existing = await self.store.find(registration_id)
        if existing is not None:
            return self._repeat(existing, digest), False
        missing = await self.store.missing(subject_id, source_id)
        if missing is not None:
            field = "subjectId" if missing == subject_id else "sourceId"
            raise NotFound(f"{missing!r} does not exist (register it before its record keys)", field=field)
        shape = m.shape_for(len(words), false_positive_rate)
        bits = await asyncio.to_thread(m.build_filter, words, shape)
        exact = len(words) <= m.EXACT_LIMIT
        if exact:
            await asyncio.to_thread(self.store.files.write_exact, digest, words)
        number = await self.store.allocate(shape)
        await asyncio.to_thread(self.store.files.write_filter, shape, number, bits)
        props = {
            "subjectId": subject_id,
            "sourceId": source_id,
            "digest": digest,
            "keys": len(words),
            "exact": exact,
            "falsePositiveRate": shape.false_positive_rate(len(words)),
            "requestedFalsePositiveRate": false_positive_rate,
            "blocks": shape.blocks,
            "hashes": shape.hashes,
            "number": number,
            "slot": slot_key(shape, number),
            "bytes": shape.bytes + (len(words) * m.KEY_HASH_BYTES if exact else 0),
        }
        recorded = await self.store.register(registration_id, props, v.new_stamp(caller))
        if recorded is None:
            raise NotFound(
                f"{subject_id!r} or {source_id!r} does not exist (register the data and its source first)",
                field="subjectId",
            )
        registration, created = recorded
        return (registration, True) if created else (self._repeat(registration, digest), False)

    @staticmethod
    def _repeat(existing: Registration, digest: str) -> Registration:
        if existing.digest != digest:
            raise Conflict(
                f"{existing.subject_id} already has {existing.keys:,} record keys from {existing.source_id} "
                f"({existing.digest}); a version's records do not change — register the new data as a new version",
                field="body",
            )
        return existing

    async def declare_key_preserving(
        self, version_id: str, transform: str, caller: Caller
    ) -> tuple[str, datetime, bool]:
        """Declare that a derived version's transform keeps its parents' record keys (a filter, a dedupe, a
        split), so membership follows its DERIVED_FROM edges. Returns (transform, when, created)."""
        version_id = v.one_id(version_id, "datasetVersionId", Kind.DATASET_VERSION)
        transform = v.required_line(transform, "transform", MAX_TRANSFORM)
        declared = await self.store.preserve(version_id, transform, v.new_stamp(caller))
        if declared is None:
            raise NotFound(f"{version_id!r} does not exist", field="datasetVersionId")
        if declared[0] != transform:
            raise Conflict(
                f"{version_id} was declared key-preserving by {declared[0]!r} already", field="transform"
            )
        return declared

    async def register_row_ranges(
        self,
        subject_id: str,
        source_id: str,
        table: str,
        ranges: list[tuple[int, int]],
        caller: Caller,
    ) -> tuple[list[tuple[int, int]], datetime, bool]:
        """Register the row-id ranges a version or slice holds of a table (from one source): a record whose
        row id falls in them is held DEFINITELY. Idempotent; other ranges for the same data, source and
        table are a CONFLICT. Returns the recorded ranges, when, and whether this call recorded them."""
        subject_id = v.one_id(subject_id, "subjectId", Kind.DATASET_VERSION, Kind.SLICE)
        source_id = v.one_id(source_id, "sourceId", Kind.SOURCE)
        table = v.required_line(table, "table", MAX_TABLE)
        merged = m.row_ranges(ranges)
        recorded = await self.store.register_rows(subject_id, source_id, table, merged, v.new_stamp(caller))
        if recorded is None:
            raise NotFound(f"{subject_id!r} or {source_id!r} does not exist", field="subjectId")
        if recorded[0] != merged:
            raise Conflict(
                f"{subject_id} already has other row ranges of {table} from {source_id}; "
                "a version's rows do not change — register the new data as a new version",
                field="ranges",
            )
        return recorded

    async def record_provenance(
        self,
        key_hash: str | None,
        as_of: datetime | None,
        known_at: datetime | None = None,
        max_depth: int | None = None,
        row: tuple[str, int] | None = None,
    ) -> m.RecordProvenance:
        """Every holder of the record — found by its key hash, by its row id in a table, or both — and what
        it reaches downstream, as of `as_of` (valid time) as known at `known_at` (transaction time)."""
        if key_hash is None and row is None:
            raise InvalidArgument("name the record by keyHash, by row, or both", field="keyHash")
        one = m.as_words(m.parse_key_hash(key_hash)) if key_hash is not None else None
        as_of = v.aware(as_of, "asOf") or utcnow()
        known = v.known_at(known_at)
        depth = v.depth(max_depth, self.max_depth)
        holders: list[m.RecordHolder] = []
        if one is not None:
            slots = await asyncio.to_thread(self.store.files.candidates, one)
            registrations = await self.store.resolve(slots, known) if slots else []
            holders = await asyncio.to_thread(self._holders, registrations, one)
        by_id = {h.data_id: h for h in holders}
        if row is not None:
            table = v.required_line(row[0], "row.table", MAX_TABLE)
            if row[1] < 0:
                raise InvalidArgument("a row id is not negative", field="row.rowId")
            for subject, source in await self.store.rows_holding(table, row[1], known):
                by_id[subject] = m.RecordHolder(
                    subject, m.Certainty.DEFINITELY, m.Basis.ROW_RANGE, source, None
                )
        reached = await self.reach.reach(sorted(by_id), as_of, known, depth) if by_id else []
        # The walk starts only from data that existed at `as_of` (as known at `known_at`).
        all_holders = {r.holder: by_id[r.holder] for r in reached}
        stopped: dict[str, m.StoppedDerivation] = {}
        runs: dict[str, tuple[m.Certainty, set[str], tuple[str, ...]]] = {}
        for r in reached:
            origin = by_id[r.holder]
            if r.held != r.holder and r.held not in all_holders:
                all_holders[r.held] = m.RecordHolder(
                    r.held,
                    m.Certainty.POSSIBLY,
                    m.Basis.INHERITED,
                    None,
                    origin.false_positive_rate,
                    r.holder,
                )
            certainty = origin.certainty if r.held == r.holder else m.Certainty.POSSIBLY
            for child in r.stopped:
                stopped.setdefault(child, m.StoppedDerivation(child, r.held))
            for run_id, models in r.runs:
                before = runs.get(run_id, (m.Certainty.POSSIBLY, set(), ()))
                runs[run_id] = (m.stronger(before[0], certainty), before[1] | {r.held}, models)
        return await self._described(key_hash, row, as_of, known, all_holders, stopped, runs)

    def _holders(self, registrations: Sequence[Registration], one: m.Hashes) -> list[m.RecordHolder]:
        holders: dict[str, m.RecordHolder] = {}
        for reg in registrations:
            if reg.exact:
                if not self.store.files.holds_exactly(reg.digest, one):
                    continue  # the filter's false positive, caught by the exact set
                found = m.RecordHolder(
                    reg.subject_id, m.Certainty.DEFINITELY, m.Basis.EXACT_SET, reg.source_id, None
                )
            else:
                found = m.RecordHolder(
                    reg.subject_id,
                    m.Certainty.POSSIBLY,
                    m.Basis.FILTER,
                    reg.source_id,
                    reg.false_positive_rate,
                )
            earlier = holders.get(reg.subject_id)
            if earlier is None or (
                earlier.certainty is m.Certainty.POSSIBLY and found.certainty is m.Certainty.DEFINITELY
            ):
                holders[reg.subject_id] = found
        return list(holders.values())

    async def _described(
        self,
        key_hash: str | None,
        row: tuple[str, int] | None,
        as_of: datetime,
        known_at: datetime,
        holders: dict[str, m.RecordHolder],
        stopped: dict[str, m.StoppedDerivation],
        runs: dict[str, tuple[m.Certainty, set[str], tuple[str, ...]]],
    ) -> m.RecordProvenance:
        learned: dict[str, tuple[m.Certainty, set[str]]] = {}
        for run_id, (certainty, _, model_ids) in runs.items():
            for model_id in model_ids:
                before = learned.get(model_id, (m.Certainty.POSSIBLY, set()))
                learned[model_id] = (m.stronger(before[0], certainty), before[1] | {run_id})
        ids = sorted(learned)
        versions, counts = await asyncio.gather(
            self.lineage.affected_versions(ids, as_of, known_at),
            self.reach.inference_counts(ids, as_of, known_at),
        )
        models = tuple(
            m.RecordModel(versions[i], learned[i][0], tuple(sorted(learned[i][1])), counts.get(i, 0))
            for i in ids
            if i in versions
        )
        return m.RecordProvenance(
            key_hash=key_hash,
            row=row,
            as_of=as_of,
            known_at=known_at,
            holders=tuple(sorted(holders.values(), key=lambda h: h.data_id)),
            stopped=tuple(sorted(stopped.values(), key=lambda s: s.data_id)),
            runs=tuple(
                m.RecordRun(run_id, certainty, tuple(sorted(data)))
                for run_id, (certainty, data, _) in sorted(runs.items())
            ),
            model_versions=models,
        )
