"""Exclusion cases: what was decided about each model version that learned from data it must not keep.

One mechanism, two triggers. Excluding a source opens a case holding a snapshot of the impact report at that
moment; an erasure request (a person's records, known by keyed hashes) opens one holding a snapshot of the
`recordProvenance` answers for those records (domain/erasure.py). Either snapshot is kept with its digest, so
it can be shown not to have changed, and lists the affected model versions. Each affected model version then
gets one decision — retrain, retire, or accept with a justification — recorded with actor, time and reason as
a fact of the `exclusions` ledger. A case with affected versions left undecided is open work; a receipt
summarises a case with the ledger positions of its facts, signed with the audit key, for an auditor to keep.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from provgraph.domain.audit import canonical
from provgraph.domain.erasure import key_hashes_digest
from provgraph.domain.errors import Conflict, InvalidArgument
from provgraph.domain.lineage import ImpactReport


class Trigger(Enum):
    SOURCE_EXCLUSION = "SOURCE_EXCLUSION"  # a source was excluded (licence withdrawn, consent revoked)
    ERASURE_REQUEST = "ERASURE_REQUEST"  # a person asked for their records to be erased


class Decision(Enum):
    RETRAIN = "RETRAIN"  # the version will be retrained without the source
    RETIRE = "RETIRE"  # the version is taken out of use
    ACCEPT = "ACCEPT"  # the version stays as it is; the reason is the justification


def impact_snapshot(report: ImpactReport) -> dict[str, Any]:
    """The impact report as a case keeps it: plain JSON values, every list sorted."""
    return {
        "sourceId": report.source.id,
        "asOf": report.as_of.isoformat(),
        "knownAt": report.known_at.isoformat(),
        "datasetVersionIds": sorted(report.dataset_version_ids),
        "sliceIds": sorted(report.slice_ids),
        "runIds": sorted(report.run_ids),
        "modelVersionIds": sorted(report.model_version_ids),
        "inferenceCounts": dict(sorted(report.inference_counts.items())),
        "inferences": report.inferences,
        "firstUsedAt": report.first_used_at.isoformat() if report.first_used_at else None,
        "isPartial": report.is_partial,
    }


def snapshot_digest(snapshot: dict[str, Any]) -> str:
    """`sha256:<hex>` of the snapshot's canonical JSON (sorted keys, no whitespace)."""
    return "sha256:" + hashlib.sha256(canonical(snapshot).encode()).hexdigest()


@dataclass(frozen=True)
class CaseDecision:
    case_id: str
    model_version_id: str
    decision: Decision
    reason: str
    at: datetime  # when the decision was taken (effective time)
    actor: str
    recorded_at: datetime

    @property
    def key(self) -> str:
        """The decision's subject in the ledger: one decision per case and model version."""
        return decision_key(self.case_id, self.model_version_id)


def decision_key(case_id: str, model_version_id: str) -> str:
    return f"{case_id}#{model_version_id}"


@dataclass(frozen=True, kw_only=True)
class Case:
    """What every case holds, whatever opened it: the snapshot (listing the affected model versions under
    `modelVersionIds`), its digest, and the decisions taken."""

    id: str
    reason: str  # why the source was excluded, or why the records are to be erased
    opened_by: str
    opened_at: datetime  # when the case was recorded
    snapshot: dict[str, Any]
    snapshot_digest: str
    decisions: tuple[CaseDecision, ...] = ()

    @property
    def trigger(self) -> Trigger:
        raise NotImplementedError

    @property
    def affected(self) -> tuple[str, ...]:
        return tuple(self.snapshot["modelVersionIds"])

    @property
    def undecided(self) -> tuple[str, ...]:
        decided = {d.model_version_id for d in self.decisions}
        return tuple(v for v in self.affected if v not in decided)


@dataclass(frozen=True, kw_only=True)
class ExclusionCase(Case):
    """Opened by a source's exclusion; its snapshot is the source's impact report."""

    source_id: str
    excluded_at: datetime

    @property
    def trigger(self) -> Trigger:
        return Trigger.SOURCE_EXCLUSION


@dataclass(frozen=True, kw_only=True)
class ErasureCase(Case):
    """Opened by an erasure request; its snapshot is the record answers for its key hashes."""

    key_hashes: tuple[str, ...]  # keyed hashes as sent (never keys), sorted, without repeats

    @property
    def key_hashes_digest(self) -> str:
        return key_hashes_digest(self.key_hashes)

    @property
    def trigger(self) -> Trigger:
        return Trigger.ERASURE_REQUEST


AnyCase = ExclusionCase | ErasureCase


@dataclass(frozen=True)
class DecisionSpec:
    case_id: str
    model_version_id: str
    decision: Decision
    reason: str
    at: datetime | None = None  # default: when it is recorded


def plan_decision(case: Case, spec: DecisionSpec) -> CaseDecision | None:
    """The decision already recorded when `spec` repeats it (None when it is new to record); refuses a
    version the case does not list and a different decision for a version already decided (decisions are
    facts: they are not changed, and a change of mind is a new exclusion review, not an edit)."""
    if spec.model_version_id not in case.affected:
        raise InvalidArgument(
            f"{spec.model_version_id} is not among the model versions {case.id} lists as affected "
            f"({', '.join(case.affected) or 'none'})",
            field="modelVersionId",
        )
    for recorded in case.decisions:
        if recorded.model_version_id != spec.model_version_id:
            continue
        same = recorded.decision is spec.decision and recorded.reason == spec.reason
        if same and (spec.at is None or spec.at == recorded.at):
            return recorded
        raise Conflict(
            f"{spec.model_version_id} was already decided in {case.id}: {recorded.decision.value} by "
            f"{recorded.actor} at {recorded.at.isoformat()} ({recorded.reason!r}); a decision cannot be changed",
            field="decision",
        )
    return None
