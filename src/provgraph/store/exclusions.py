"""Exclusion cases in Neo4j: the exclusion of a source and the opening of its case in one transaction,
the decisions taken in a case, and the ledger entries a receipt cites. Cases opened by an erasure request
(store/erasure.py) are the same nodes with `trigger: 'ERASURE_REQUEST'` and no source; a case without a
`trigger` was opened by a source's exclusion.

    (:ExclusionCase {id, sourceId, reason, excludedAt, snapshot (JSON), snapshotDigest, affected})
        -[:EXCLUDES]->(:Source)
    (:ExclusionCase {id, trigger: 'ERASURE_REQUEST', keyHashes, reason, snapshot (JSON), snapshotDigest,
        affected})
    (:ExclusionDecision {key, caseId, modelVersionId, decision, reason, at, actor, recordedAt})
        -[:DECIDED_IN]->(:ExclusionCase), -[:ABOUT]->(:ModelVersion)

Neither edge is a provenance edge: lineage never walks them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from provgraph.domain import facts
from provgraph.domain.catalog import Source
from provgraph.domain.errors import NotFound
from provgraph.domain.exclusions import (
    AnyCase,
    Case,
    CaseDecision,
    Decision,
    DecisionSpec,
    ErasureCase,
    ExclusionCase,
    Trigger,
    impact_snapshot,
    snapshot_digest,
)
from provgraph.domain.facts import LedgerEntry, Scope
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Stamp
from provgraph.store.catalog import EXCLUDE_SOURCE, LOCK_SOURCE, source_from
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger, entry_from
from provgraph.store.lineage import LineageStore
from provgraph.store.paging import page_of, page_params
from provgraph.store.values import as_datetime, stamp_params

CASE_PROJECTION = (
    "c {.*, excludedAt: toString(c.excludedAt), recordedAt: toString(c.recordedAt), "
    "decisions: [(d:ExclusionDecision)-[:DECIDED_IN]->(c) | "
    "d {.*, at: toString(d.at), recordedAt: toString(d.recordedAt)}]}"
)

OPEN_CASE = (
    """
MATCH (s:Source {id: $sourceId})
CREATE (c:ExclusionCase)
SET c = $props, c.recordedAt = $now, c.recordedBy = $actor, c.recordedIn = $writeId
CREATE (c)-[:EXCLUDES {recordedAt: $now}]->(s)
RETURN """
    + CASE_PROJECTION
    + " AS node"
)

# The case with its write lock: decisions in one case are taken one at a time.
LOCK_CASE = (
    "MATCH (c:ExclusionCase {id: $id}) SET c._lock = true REMOVE c._lock RETURN "
    + CASE_PROJECTION
    + " AS node"
)

CASE_OF_SOURCE = "MATCH (c:ExclusionCase {sourceId: $sourceId}) RETURN " + CASE_PROJECTION + " AS node"

DECIDE = (
    """
MATCH (c:ExclusionCase {id: $caseId}), (mv:ModelVersion {id: $modelVersionId})
CREATE (d:ExclusionDecision)
SET d = $props, d.recordedAt = $now, d.recordedIn = $writeId
CREATE (d)-[:DECIDED_IN {recordedAt: $now}]->(c)
CREATE (d)-[:ABOUT {recordedAt: $now}]->(mv)
WITH c
RETURN """
    + CASE_PROJECTION
    + " AS node"
)

CASES_BY_IDS = "UNWIND $ids AS id MATCH (c:ExclusionCase {id: id}) RETURN " + CASE_PROJECTION + " AS node"

# Cases ordered by id; with $undecided, only those with an affected version not decided yet; with
# $trigger, only the cases it opened.
LIST_CASES = (
    """
CALL () {
  MATCH (c:ExclusionCase)
  WHERE ($trigger IS NULL OR coalesce(c.trigger, 'SOURCE_EXCLUSION') = $trigger)
    AND (NOT $undecided
     OR any(v IN c.affected WHERE NOT EXISTS {
          MATCH (:ExclusionDecision {caseId: c.id, modelVersionId: v}) }))
  RETURN c
}
WITH collect(c) AS matching
CALL (matching) {
  UNWIND matching AS c
  WITH c WHERE $after IS NULL OR c.id > $after
  WITH c ORDER BY c.id LIMIT $limit
  RETURN collect("""
    + CASE_PROJECTION
    + """) AS nodes
}
RETURN nodes, size(matching) AS total
"""
)

# The ledger entries of one case (its opening and its decisions), for a receipt.
CASE_ENTRIES = """
MATCH (x:LedgerEntry {scope: 'exclusions'})
WHERE x.subjectId = $caseId OR x.subjectId STARTS WITH $caseId + '#'
RETURN x {.*, recordedAt: toString(x.recordedAt)} AS entry ORDER BY x.seq
"""
LEDGER_HEAD = "MATCH (l:Ledger {scope: 'exclusions'}) RETURN l.seq AS seq, l.head AS head"
ENTRY_HASH = "MATCH (x:LedgerEntry {scope: 'exclusions', seq: $seq}) RETURN x.hash AS hash"


def case_from(props: Mapping[str, Any]) -> AnyCase:
    common: dict[str, Any] = {
        "id": props["id"],
        "reason": props["reason"],
        "opened_by": props["recordedBy"],
        "opened_at": as_datetime(props["recordedAt"]),
        "snapshot": json.loads(props["snapshot"]),
        "snapshot_digest": props["snapshotDigest"],
        "decisions": tuple(
            sorted((decision_from(d) for d in props.get("decisions") or ()), key=lambda d: d.model_version_id)
        ),
    }
    if props.get("trigger") == Trigger.ERASURE_REQUEST.value:
        return ErasureCase(key_hashes=tuple(props["keyHashes"]), **common)
    return ExclusionCase(source_id=props["sourceId"], excluded_at=as_datetime(props["excludedAt"]), **common)


def source_case_from(props: Mapping[str, Any]) -> ExclusionCase:
    case = case_from(props)
    assert isinstance(case, ExclusionCase), f"{case.id} was not opened by a source's exclusion"
    return case


def decision_from(props: Mapping[str, Any]) -> CaseDecision:
    return CaseDecision(
        case_id=props["caseId"],
        model_version_id=props["modelVersionId"],
        decision=Decision(props["decision"]),
        reason=props["reason"],
        at=as_datetime(props["at"]),
        actor=props["actor"],
        recorded_at=as_datetime(props["recordedAt"]),
    )


class ExclusionStore:
    def __init__(self, graph: Graph, ledger: Ledger, lineage: LineageStore) -> None:
        self.graph = graph
        self.ledger = ledger
        self.lineage = lineage

    async def exclude_and_open(
        self,
        source_id: str,
        at: datetime,
        reason: str,
        stamp: Stamp,
        depth: int,
        decide: Callable[[Source], bool],
    ) -> tuple[Source, ExclusionCase | None, bool]:
        """Exclude a source and open its case, in one transaction: the case's snapshot is the impact report
        as of the moment the exclusion is recorded, as known then. `decide(current)` runs with the source
        locked (False: a repeat — nothing written; raising refuses). Returns the source, its case (None for
        an exclusion recorded before cases existed) and whether this call wrote."""

        async def work(tx: Tx) -> tuple[Source, ExclusionCase | None, bool]:
            record = await (await tx.run(LOCK_SOURCE, id=source_id)).single()
            if record is None:
                raise NotFound(f"source {source_id!r} does not exist", field="sourceId")
            current = source_from(record["node"])
            if not decide(current):
                return current, await self._case_of(tx, source_id), False
            result = await tx.run(EXCLUDE_SOURCE, id=source_id, at=at, reason=reason, **stamp_params(stamp))
            excluded = source_from((await result.single(strict=True))["node"])
            report = await self.lineage.impact_report_in(tx, source_id, stamp.now, depth, stamp.now)
            snapshot = impact_snapshot(report)
            props = {
                "id": make_id(Kind.EXCLUSION_CASE, source_id.split(":", 1)[1]),
                "sourceId": source_id,
                "reason": reason,
                "excludedAt": at,
                "snapshot": json.dumps(snapshot, sort_keys=True),
                "snapshotDigest": snapshot_digest(snapshot),
                "affected": snapshot["modelVersionIds"],
            }
            opened = await tx.run(OPEN_CASE, sourceId=source_id, props=props, **stamp_params(stamp))
            case = source_case_from((await opened.single(strict=True))["node"])
            await self.ledger.record(
                tx, stamp, [facts.source_excluded(excluded), facts.exclusion_case_opened(case)]
            )
            return excluded, case, True

        return await self.graph.write(work)

    async def _case_of(self, tx: Tx, source_id: str) -> ExclusionCase | None:
        record = await (await tx.run(CASE_OF_SOURCE, sourceId=source_id)).single()
        return None if record is None else source_case_from(record["node"])

    async def decide(
        self,
        spec: DecisionSpec,
        stamp: Stamp,
        plan: Callable[[Case], CaseDecision | None],
    ) -> tuple[AnyCase, CaseDecision, bool]:
        """Record a decision in a case, with the case locked. `plan(case)` returns the decision already
        recorded when this one repeats it (nothing is written), None to record it, or raises to refuse."""

        async def work(tx: Tx) -> tuple[AnyCase, CaseDecision, bool]:
            record = await (await tx.run(LOCK_CASE, id=spec.case_id)).single()
            if record is None:
                what = "erasure" if spec.case_id.startswith("erasureCase:") else "exclusion"
                raise NotFound(f"{what} case {spec.case_id!r} does not exist", field="caseId")
            case = case_from(record["node"])
            recorded = plan(case)
            if recorded is not None:
                return case, recorded, False
            decision = CaseDecision(
                case_id=case.id,
                model_version_id=spec.model_version_id,
                decision=spec.decision,
                reason=spec.reason,
                at=spec.at or stamp.at,
                actor=stamp.actor,
                recorded_at=stamp.now,
            )
            props = {
                "key": decision.key,
                "caseId": decision.case_id,
                "modelVersionId": decision.model_version_id,
                "decision": decision.decision.value,
                "reason": decision.reason,
                "at": decision.at,
                "actor": decision.actor,
            }
            result = await tx.run(
                DECIDE,
                caseId=case.id,
                modelVersionId=spec.model_version_id,
                props=props,
                **stamp_params(stamp),
            )
            updated = case_from((await result.single(strict=True))["node"])
            stored = next(d for d in updated.decisions if d.model_version_id == spec.model_version_id)
            await self.ledger.record(tx, stamp, [facts.exclusion_decided(stored)])
            return updated, stored, True

        return await self.graph.write(work)

    async def cases_by_ids(self, ids: Sequence[str]) -> dict[str, AnyCase]:
        records = await self.graph.read(CASES_BY_IDS, {"ids": list(ids)})
        return {r["node"]["id"]: case_from(r["node"]) for r in records}

    async def list_cases(self, undecided: bool, trigger: Trigger | None, page: PageRequest) -> Page[AnyCase]:
        params = {"undecided": undecided, "trigger": trigger.value if trigger else None, **page_params(page)}
        record = await self.graph.read_one(LIST_CASES, params)
        assert record is not None
        return page_of([case_from(n) for n in record["nodes"]], page, int(record["total"]))

    async def case_entries(self, case_id: str) -> tuple[list[LedgerEntry], int, str | None]:
        """The ledger entries of a case (opening, decisions) and the exclusions ledger's head."""
        entries = [entry_from(r["entry"]) for r in await self.graph.read(CASE_ENTRIES, {"caseId": case_id})]
        head = await self.graph.read_one(LEDGER_HEAD)
        return entries, int(head["seq"]) if head else 0, head["head"] if head else None

    async def entry_hash(self, seq: int) -> str | None:
        record = await self.graph.read_one(ENTRY_HASH, {"seq": seq, "scope": Scope.EXCLUSIONS.value})
        return None if record is None else record["hash"]
