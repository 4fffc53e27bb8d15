"""Verifying what auditors rely on: has any recorded fact been altered, removed or inserted?

Three layers, each catching what the one before cannot:

1. Chains. Every model's registry events and every ledger's entries are hash-chained: recomputing each hash
   from its content and its predecessor's finds an edited, removed or inserted record, and a head that does
   not match the last record finds a truncation that forgot to rewind the head.
2. Seals. Each record also carries an HMAC of its hash under the audit key, which is not in the database:
   a forger who edits a record and recomputes every hash after it still cannot produce the seals.
3. Checkpoints. A signed list of every chain's head, kept by the auditor outside the database. Verifying
   against it finds what chains and seals alone cannot: a truncated chain whose head was rewound, a chain
   deleted with everything in it (a model and all its events), a rewrite by someone who had the key.

Beyond the records themselves, the graph the API serves is compared with what the ledgers recorded — a
deployment end moved, a FROM_SOURCE edge dropped, an inference deleted or inserted directly — and a model
version's stage and aliases are served from the event chain itself, so they cannot be forged apart from it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from provgraph.domain import facts as f
from provgraph.domain.audit import AuditKey, ChainHead, Checkpoint, canonical, content_hash, sign_checkpoint
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.exclusions import ErasureCase, ExclusionCase, snapshot_digest
from provgraph.domain.facts import FactKind, LedgerEntry, Scope, entry_hash
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.registry import RegistryEvent, event_hash
from provgraph.domain.runs import Run
from provgraph.domain.time import parse_timestamp, utcnow
from provgraph.service import validate as v
from provgraph.store.audit import AuditStore, GraphFacts
from provgraph.store.ledger import LedgerReader


@dataclass(frozen=True)
class ChainBreak:
    """Where verification failed: the chain (`model:<name>` or `ledger:<scope>`), the position, the record
    or entity concerned, and what is wrong."""

    chain: str
    seq: int
    event_id: str | None
    problem: str

    @property
    def model_id(self) -> str | None:
        return "model:" + self.chain.split(":", 1)[1] if self.chain.startswith("model:") else None


@dataclass(frozen=True)
class AuditReport:
    valid: bool
    models: int
    events: int
    entries: int  # ledger entries checked
    facts: int  # entities and inference batches compared with the ledgers
    sealed: bool  # whether seals were checked (an audit key is configured)
    checkpoint: Checkpoint | None  # the checkpoint verified against, if any
    breaks: list[ChainBreak]


class AuditService:
    """Parameters:
    store / ledgers: what the graph holds.
    key: the audit key (None: seals are neither written nor checked, and checkpoints cannot be signed).
    """

    def __init__(self, store: AuditStore, ledgers: LedgerReader, key: AuditKey | None) -> None:
        self.store = store
        self.ledgers = ledgers
        self.key = key

    async def verify(self, model: str | None = None, against: str | None = None) -> AuditReport:
        """Verify one model's chain, or (without `model`) everything: every chain, every seal, the graph
        against the ledgers, and — with `against`, a checkpoint's JSON — the chains against the checkpoint."""
        model_id = make_id(Kind.MODEL, v.name(model, "model")) if model else None
        checkpoint = self.parse_checkpoint(against) if against is not None else None
        breaks: list[ChainBreak] = []
        chains = await self.store.chains(model_id)
        events = 0
        for chain_model, head_seq, head_hash, chain_events in chains:
            events += len(chain_events)
            found = self._verify_model_chain(chain_model, head_seq, head_hash, chain_events)
            if found:
                breaks.append(found)
        entries = checked = 0
        if model_id is None:
            for orphan in await self.store.orphaned_chains():
                breaks.append(
                    ChainBreak(
                        "model:" + orphan.split(":", 1)[1], 0, None, f"{orphan} is gone but its events remain"
                    )
                )
            ledgers = await self.ledgers.chains()
            for scope, head_seq, head_hash, scope_entries in ledgers:
                entries += len(scope_entries)
                found = self._verify_ledger(scope, head_seq, head_hash, scope_entries)
                if found:
                    breaks.append(found)
            recorded = [entry for _, _, _, scope_entries in ledgers for entry in scope_entries]
            graph = await self.store.facts()
            fact_breaks, checked = _compare_facts(recorded, graph)
            breaks += fact_breaks
        if checkpoint is not None:
            breaks += await self._verify_checkpoint(checkpoint, model_id)
        return AuditReport(
            valid=not breaks,
            models=len(chains),
            events=events,
            entries=entries,
            facts=checked,
            sealed=self.key is not None,
            checkpoint=checkpoint,
            breaks=breaks,
        )

    async def checkpoint(self) -> Checkpoint:
        """The head of every chain now, signed: an auditor keeps it and verifies against it later."""
        if self.key is None:
            raise InvalidArgument(
                "no audit key is configured (PROVGRAPH_AUDIT_KEY), so checkpoints cannot be signed",
                field=None,
            )
        heads = [ChainHead(chain, seq, digest) for chain, seq, digest in await self.store.heads()]
        return sign_checkpoint(self.key, utcnow(), heads)

    def parse_checkpoint(self, text: str) -> Checkpoint:
        """Read a checkpoint's JSON; a malformed one is INVALID_ARGUMENT (field `against`)."""
        refused = InvalidArgument(
            "against is not a checkpoint this service issued (provgraph-checkpoint/1 JSON)", field="against"
        )
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != "provgraph-checkpoint/1":
                raise refused
            heads = tuple(
                ChainHead(str(h["chain"]), _count(h["seq"]), None if h["hash"] is None else str(h["hash"]))
                for h in data["heads"]
            )
            taken_at = parse_timestamp(str(data["takenAt"]), "takenAt")
            return Checkpoint(taken_at, heads, str(data["keyId"]), str(data["signature"]))
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            RecursionError,
            OverflowError,
            InvalidArgument,
        ):
            raise refused from None

    def _seal_problem(self, digest: str, mac: str | None, key_id: str | None) -> str | None:
        if self.key is None:
            return None
        if mac is None:
            return "not sealed (the seal was removed, or it was written without the audit key)"
        if key_id is not None and key_id != self.key.id:
            return f"sealed with another audit key ({key_id}); this service has {self.key.id}"
        if not self.key.verifies(digest, mac):
            return "its seal does not match (altered and re-hashed without the audit key)"
        return None

    def _verify_model_chain(
        self, model_id: str, head_seq: int, head_hash: str | None, events: Sequence[RegistryEvent]
    ) -> ChainBreak | None:
        """The first break in one model's chain (a later break is a consequence of the first)."""
        chain = "model:" + model_id.split(":", 1)[1]
        previous_hash: str | None = None
        for expected_seq, event in enumerate(events, start=1):
            if event.seq != expected_seq:
                return ChainBreak(
                    chain, expected_seq, event.id, f"event {expected_seq} is missing (found {event.seq} next)"
                )
            if event.prev_hash != previous_hash:
                return ChainBreak(chain, event.seq, event.id, "prevHash does not match the event before")
            if event.hash != event_hash(event):
                return ChainBreak(chain, event.seq, event.id, "content does not match its hash (altered)")
            problem = (
                self._seal_problem(event.hash, event.mac, event.key_id) if event.hash_version >= 2 else None
            )
            if problem:
                return ChainBreak(chain, event.seq, event.id, problem)
            previous_hash = event.hash
        if head_seq != len(events) or head_hash != previous_hash:
            return ChainBreak(
                chain,
                len(events) + 1,
                None,
                f"the model records {head_seq} events but {len(events)} are stored (events were removed)",
            )
        return None

    def _verify_ledger(
        self, scope: Scope, head_seq: int, head_hash: str | None, entries: Sequence[LedgerEntry]
    ) -> ChainBreak | None:
        chain = "ledger:" + scope.value
        previous: str | None = None
        for expected_seq, entry in enumerate(entries, start=1):
            if entry.seq != expected_seq:
                return ChainBreak(
                    chain, expected_seq, entry.id, f"entry {expected_seq} is missing (found {entry.seq} next)"
                )
            if entry.prev_hash != previous:
                return ChainBreak(chain, entry.seq, entry.id, "prevHash does not match the entry before")
            recomputed = entry_hash(
                scope,
                entry.seq,
                entry.kind,
                entry.subject_id,
                entry.content,
                entry.actor,
                entry.recorded_at,
                previous,
            )
            if entry.hash != recomputed:
                return ChainBreak(chain, entry.seq, entry.id, "content does not match its hash (altered)")
            problem = self._seal_problem(entry.hash, entry.mac, entry.key_id)
            if problem:
                return ChainBreak(chain, entry.seq, entry.id, problem)
            previous = entry.hash
        if head_seq != len(entries) or head_hash != previous:
            return ChainBreak(
                chain,
                len(entries) + 1,
                None,
                f"the ledger records {head_seq} entries but {len(entries)} are stored (entries were removed)",
            )
        return None

    async def _verify_checkpoint(self, checkpoint: Checkpoint, model_id: str | None) -> list[ChainBreak]:
        breaks: list[ChainBreak] = []
        if self.key is None:
            return [
                ChainBreak(
                    "checkpoint",
                    0,
                    None,
                    "no audit key is configured: the checkpoint's signature cannot be checked",
                )
            ]
        if checkpoint.key_id != self.key.id:
            return [
                ChainBreak(
                    "checkpoint", 0, None, f"the checkpoint was signed with another key ({checkpoint.key_id})"
                )
            ]
        if not self.key.verifies(content_hash(checkpoint.payload()), checkpoint.signature):
            return [
                ChainBreak(
                    "checkpoint", 0, None, "the checkpoint's signature does not match (it was altered)"
                )
            ]
        wanted = None if model_id is None else "model:" + model_id.split(":", 1)[1]
        current = {chain: (seq, digest) for chain, seq, digest in await self.store.heads()}
        for head in checkpoint.heads:
            if wanted is not None and head.chain != wanted:
                continue
            if head.seq == 0:
                continue
            if head.chain not in current:
                breaks.append(
                    ChainBreak(
                        head.chain,
                        head.seq,
                        None,
                        f"the chain is gone; it had {head.seq} records at the checkpoint",
                    )
                )
                continue
            now_seq, _ = current[head.chain]
            if now_seq < head.seq:
                breaks.append(
                    ChainBreak(
                        head.chain,
                        head.seq,
                        None,
                        f"the chain was truncated: {now_seq} records now, {head.seq} at the checkpoint",
                    )
                )
                continue
            stored = await self.store.hash_at(head.chain, head.seq)
            if stored is None:
                breaks.append(
                    ChainBreak(head.chain, head.seq, None, "the record at the checkpoint's head is missing")
                )
            elif stored != head.hash:
                breaks.append(
                    ChainBreak(
                        head.chain,
                        head.seq,
                        None,
                        "the record at the checkpoint's head was rewritten since the checkpoint",
                    )
                )
        return breaks


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not a count")
    return value


def _compare_facts(entries: Sequence[LedgerEntry], graph: GraphFacts) -> tuple[list[ChainBreak], int]:
    """Compare what the graph serves with what the ledgers recorded; returns the breaks and how many facts
    were compared."""
    breaks: list[ChainBreak] = []
    checked = 0

    def compare(kind: FactKind, current: dict[str, f.Fact]) -> None:
        nonlocal checked
        recorded = f.latest_by_subject(entries, kind)
        chain = "ledger:" + kind.scope.value
        for subject, fact in sorted(current.items()):
            checked += 1
            entry = recorded.get(subject)
            if entry is None:
                breaks.append(
                    ChainBreak(
                        chain,
                        0,
                        subject,
                        f"{subject} has no {kind.value} entry (written outside the service)",
                    )
                )
            elif canonical(entry.content) != canonical(fact.content):
                field = _first_difference(entry.content, fact.content)
                breaks.append(
                    ChainBreak(
                        chain, entry.seq, subject, f"{subject} differs from its {kind.value} entry ({field})"
                    )
                )
        for subject, entry in sorted(recorded.items()):
            if subject not in current:
                breaks.append(
                    ChainBreak(
                        chain, entry.seq, subject, f"{subject} was recorded ({kind.value}) but is gone"
                    )
                )

    compare(FactKind.SOURCE_REGISTERED, {s.id: f.source_registered(s) for s in graph.sources})
    compare(FactKind.SOURCE_EXCLUDED, {s.id: f.source_excluded(s) for s in graph.sources if s.excluded_at})
    compare(FactKind.DATASET_REGISTERED, {d.id: f.dataset_registered(d) for d in graph.datasets})
    compare(
        FactKind.DATASET_VERSION_REGISTERED,
        {x.id: f.dataset_version_registered(x) for x in graph.dataset_versions},
    )
    compare(FactKind.SLICE_REGISTERED, {s.id: f.slice_registered(s) for s in graph.slices})
    compare(FactKind.EXPERIMENT_REGISTERED, {e.id: f.experiment_registered(e) for e in graph.experiments})
    # A run as registered: before its completion, with the inputs linked then, and — when an earlier START
    # arrived later (OpenLineage) — with the start it was registered with.
    corrections = _by_subject(entries, FactKind.RUN_START_CORRECTED)

    def as_registered(r: Run) -> Run:
        registered_inputs, _ = graph.run_inputs.get(r.id, (r.inputs, ()))
        started = r.started_at
        if r.id in corrections:
            started = datetime.fromisoformat(str(corrections[r.id][0].content["previous"]))
        return replace(r.as_known(r.recorded.recorded_at), inputs=registered_inputs, started_at=started)

    compare(FactKind.RUN_REGISTERED, {r.id: f.run_registered(as_registered(r)) for r in graph.runs})
    compare(
        FactKind.RUN_START_CORRECTED,
        {
            r.id: f.run_start_corrected(
                r.id, r.started_at, datetime.fromisoformat(str(corrections[r.id][-1].content["previous"]))
            )
            for r in graph.runs
            if r.id in corrections
        },
    )
    added = _by_subject(entries, FactKind.RUN_INPUTS_ADDED)
    for run in graph.runs:
        _, now_added = graph.run_inputs.get(run.id, ((), ()))
        recorded_added = sorted({tuple(i) for e in added.get(run.id, []) for i in e.content["inputs"]})
        checked += bool(now_added or recorded_added)
        if [[i.id, i.role.value] for i in now_added] != [list(i) for i in recorded_added]:
            breaks.append(
                ChainBreak(
                    "ledger:runs",
                    0,
                    run.id,
                    f"{run.id}'s later inputs differ from its RUN_INPUTS_ADDED entries",
                )
            )
    compare(FactKind.RUN_COMPLETED, {r.id: f.run_completed(r) for r in graph.runs if r.completed_at})
    compare(FactKind.MODEL_REGISTERED, {m.id: f.model_registered(m) for m in graph.models})
    compare(
        FactKind.MODEL_VERSION_REGISTERED,
        {mv.id: f.model_version_registered(mv) for mv in graph.model_versions},
    )
    compare(FactKind.ENDPOINT_REGISTERED, {e.id: f.endpoint_registered(e) for e in graph.endpoints})
    compare(
        FactKind.DEPLOYMENT_STARTED,
        {d.id: f.deployment_started(d.as_known(d.recorded.recorded_at)) for d in graph.deployments},
    )
    ended = [d for d in graph.deployments if d.ended_at and d.end_recorded_at != d.recorded.recorded_at]
    compare(FactKind.DEPLOYMENT_ENDED, {d.id: f.deployment_ended(d) for d in ended})
    received = {}
    for event in graph.openlineage_events:
        body_id = "olevent:" + hashlib.sha256(str(event["body"]).encode()).hexdigest()
        if body_id != event["id"]:  # the body is what the id is a digest of
            breaks.append(
                ChainBreak("ledger:openlineage", 0, event["id"], f"{event['id']}'s body was altered")
            )
        received[event["id"]] = f.openlineage_event_received(
            event["id"], event["eventType"], event["eventTime"], event["runId"]
        )
    compare(FactKind.OPENLINEAGE_EVENT_RECEIVED, received)
    cases = graph.exclusion_cases
    compare(
        FactKind.EXCLUSION_CASE_OPENED,
        {c.id: f.exclusion_case_opened(c) for c in cases if isinstance(c, ExclusionCase)},
    )
    compare(
        FactKind.ERASURE_CASE_OPENED,
        {c.id: f.erasure_case_opened(c) for c in cases if isinstance(c, ErasureCase)},
    )
    compare(FactKind.EXCLUSION_DECIDED, {d.key: f.exclusion_decided(d) for c in cases for d in c.decisions})
    for case in cases:  # the snapshot a case shows is the one whose digest was recorded
        checked += 1
        if snapshot_digest(case.snapshot) != case.snapshot_digest:
            breaks.append(
                ChainBreak("ledger:exclusions", 0, case.id, f"{case.id}'s impact snapshot was altered")
            )
    compare(
        FactKind.INFERENCES_LOGGED,
        {
            str(write_id): f.inferences_logged(str(write_id), batch)
            for write_id, batch in graph.inferences_by_write.items()
        },
    )
    return breaks, checked


def _by_subject(entries: Sequence[LedgerEntry], kind: FactKind) -> dict[str, list[LedgerEntry]]:
    found: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        if entry.kind is kind:
            found.setdefault(entry.subject_id, []).append(entry)
    return found


def _first_difference(recorded: dict[str, object], current: dict[str, object]) -> str:
    for key in sorted(set(recorded) | set(current)):
        if canonical(recorded.get(key)) != canonical(current.get(key)):
            return f"{key}: recorded {recorded.get(key)!r}, now {current.get(key)!r}"
    return "content"
