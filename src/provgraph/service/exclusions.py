"""Excluding a source, and the case that follows: a decision per affected model version, and a receipt.
Cases opened by an erasure request (service/erasure.py) share everything here but the opening.

A receipt is what an auditor keeps: the case (its impact snapshot's digest, its decisions, what is still
undecided) with the position and hash of each of its facts in the `exclusions` ledger, signed with the audit
key. Verifying a receipt later checks the signature and that the ledger still holds those facts unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from provgraph.domain.audit import AuditKey, canonical
from provgraph.domain.catalog import Source
from provgraph.domain.errors import FailedPrecondition, InvalidArgument
from provgraph.domain.exclusions import (
    AnyCase,
    CaseDecision,
    Decision,
    DecisionSpec,
    ErasureCase,
    ExclusionCase,
    Trigger,
    plan_decision,
)
from provgraph.domain.ids import CASE_KINDS, Kind, make_id, parse_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Caller
from provgraph.domain.time import parse_timestamp, utcnow
from provgraph.service import validate as v
from provgraph.service.catalog import pick
from provgraph.store.exclusions import ExclusionStore

RECEIPT_FORMAT = "provgraph-exclusion-receipt/1"


@dataclass(frozen=True)
class Excluded:
    source: Source
    case: ExclusionCase | None  # None only for an exclusion recorded before cases existed
    created: bool


@dataclass(frozen=True)
class Decided:
    case: AnyCase
    decision: CaseDecision
    created: bool


@dataclass(frozen=True)
class ReceiptCheck:
    valid: bool
    problems: list[str]
    case_id: str | None


class ExclusionService:
    def __init__(self, store: ExclusionStore, max_depth: int, key: AuditKey | None) -> None:
        self.store = store
        self.max_depth = max_depth
        self.key = key

    async def exclude_source(
        self, source_id: str, reason: str, at: datetime | None, caller: Caller
    ) -> Excluded:
        """Record that a source must no longer be used (licence withdrawn, consent revoked, poisoned data),
        and open its case with a snapshot of the impact. The provenance stays. Excluding twice is refused
        unless it repeats the same exclusion (then the recorded exclusion and case come back)."""
        checked = v.one_id(source_id, "sourceId", Kind.SOURCE)
        reason = v.required_text(reason, "reason", 2048)
        stamp = v.new_stamp(caller)
        when = v.not_in_future(at, "at") or stamp.at

        def decide(current: Source) -> bool:
            if current.excluded_at is None:
                return True
            if current.exclusion_reason == reason and (at is None or current.excluded_at == when):
                return False
            raise FailedPrecondition(
                f"{checked} was already excluded at {current.excluded_at.isoformat()}", field="sourceId"
            )

        source, case, created = await self.store.exclude_and_open(
            checked, when, reason, stamp, self.max_depth, decide
        )
        return Excluded(source, case, created)

    async def decide(
        self,
        case_id: str,
        model_version_id: str,
        decision: str,
        reason: str,
        at: datetime | None,
        caller: Caller,
    ) -> Decided:
        """Record what was decided about one affected model version. Repeating the same decision returns it
        (`created` false); a different decision for a version already decided is a CONFLICT."""
        try:
            chosen = Decision(decision)
        except ValueError:
            raise InvalidArgument(
                f"decision must be RETRAIN, RETIRE or ACCEPT; got {decision!r}", field="decision"
            ) from None
        spec = DecisionSpec(
            case_id=v.one_id(case_id, "caseId", *CASE_KINDS),
            model_version_id=v.one_id(model_version_id, "modelVersionId", Kind.MODEL_VERSION),
            decision=chosen,
            reason=v.required_text(reason, "reason", 4096),
            at=v.not_in_future(at, "at"),
        )
        case, recorded, created = await self.store.decide(
            spec, v.new_stamp(caller), lambda current: plan_decision(current, spec)
        )
        return Decided(case, recorded, created)

    async def case(self, case_id: str) -> AnyCase:
        checked = v.one_id(case_id, "id", *CASE_KINDS)
        what = "erasure case" if checked.startswith(Kind.ERASURE_CASE.value + ":") else "exclusion case"
        return pick(await self.store.cases_by_ids([checked]), checked, what)

    async def cases_of_sources(self, source_ids: Sequence[str]) -> dict[str, ExclusionCase]:
        """The exclusion case of each of these sources that has one, by source id."""
        wanted = {
            make_id(Kind.EXCLUSION_CASE, parse_id(s, "sourceId", Kind.SOURCE).parts[0]): s for s in source_ids
        }
        found = await self.store.cases_by_ids(sorted(wanted)) if wanted else {}
        return {wanted[case_id]: case for case_id, case in found.items() if isinstance(case, ExclusionCase)}

    async def cases(
        self,
        undecided: bool,
        first: int | None,
        after: str | None,
        trigger: Trigger | None = None,
    ) -> Page[AnyCase]:
        return await self.store.list_cases(undecided, trigger, PageRequest.of(first, after))

    async def receipt(self, case_id: str) -> dict[str, Any]:
        """The case as an auditor keeps it: decisions, what is undecided, the impact digest, and each fact's
        ledger position and hash, signed with the audit key."""
        if self.key is None:
            raise FailedPrecondition(
                "no audit key is configured (PROVGRAPH_AUDIT_KEY), so receipts cannot be signed", field=None
            )
        case = await self.case(case_id)
        entries, head_seq, head_hash = await self.store.case_entries(case.id)
        payload: dict[str, Any] = {
            "format": RECEIPT_FORMAT,
            "issuedAt": utcnow().isoformat(),
            "case": _case_section(case),
            "decisions": [
                {
                    "modelVersionId": d.model_version_id,
                    "decision": d.decision.value,
                    "reason": d.reason,
                    "at": d.at.isoformat(),
                    "actor": d.actor,
                    "recordedAt": d.recorded_at.isoformat(),
                }
                for d in case.decisions
            ],
            "undecided": list(case.undecided),
            "ledger": {
                "scope": "exclusions",
                "entries": [
                    {"seq": e.seq, "kind": e.kind.value, "subjectId": e.subject_id, "hash": e.hash}
                    for e in entries
                ],
                "headSeq": head_seq,
                "headHash": head_hash,
            },
            "keyId": self.key.id,
        }
        payload["signature"] = self.key.seal(canonical(payload))
        return payload

    async def verify_receipt(self, text: str) -> ReceiptCheck:
        """Check a receipt's signature, and that the ledger still holds each fact it cites, unchanged."""
        if self.key is None:
            raise FailedPrecondition(
                "no audit key is configured (PROVGRAPH_AUDIT_KEY), so receipts cannot be checked", field=None
            )
        refused = InvalidArgument(f"receipt is not a {RECEIPT_FORMAT} JSON document", field="receipt")
        try:
            payload = json.loads(text)
            if not isinstance(payload, dict) or payload.get("format") != RECEIPT_FORMAT:
                raise refused
            signature = str(payload.pop("signature"))
            cited = [(int(e["seq"]), str(e["hash"])) for e in payload["ledger"]["entries"]]
            case_id = str(payload["case"]["id"])
            parse_timestamp(str(payload["issuedAt"]), "issuedAt")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError, InvalidArgument):
            raise refused from None
        problems = []
        if payload.get("keyId") != self.key.id:
            problems.append(
                f"signed with another audit key ({payload.get('keyId')}); this service has {self.key.id}"
            )
        elif not self.key.verifies(canonical(payload), signature):
            problems.append("the signature does not match: the receipt was altered after it was issued")
        for seq, digest in cited:
            stored = await self.store.entry_hash(seq)
            if stored is None:
                problems.append(f"ledger entry exclusions:{seq} is gone")
            elif stored != digest:
                problems.append(f"ledger entry exclusions:{seq} was rewritten since the receipt was issued")
        return ReceiptCheck(valid=not problems, problems=problems, case_id=case_id)


def _case_section(case: AnyCase) -> dict[str, Any]:
    """The case as a receipt states it: what opened it, then its snapshot and the snapshot's digest (an
    erasure case's key hashes appear in its snapshot, one record answer each)."""
    opened: dict[str, Any]
    if isinstance(case, ErasureCase):
        opened = {"keyHashCount": len(case.key_hashes), "keyHashesDigest": case.key_hashes_digest}
    else:
        opened = {"sourceId": case.source_id, "excludedAt": case.excluded_at.isoformat()}
    return {
        "id": case.id,
        "trigger": case.trigger.value,
        **opened,
        "reason": case.reason,
        "openedBy": case.opened_by,
        "openedAt": case.opened_at.isoformat(),
        "impactDigest": case.snapshot_digest,
        "impact": case.snapshot,
    }
