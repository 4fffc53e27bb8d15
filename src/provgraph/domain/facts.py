"""The append-only facts the ledger chains, and what each one records.

Every fact that provgraph records outside the model registry's own chains — a registration, an exclusion,
a run's completion, a deployment's start and end, a batch of inferences — is appended to a ledger as an
entry holding the fact's content. The content is computed from the stored entity by the functions here, at
the moment the fact is recorded; verification computes it again from what the graph holds now and compares,
so an edit made directly in the database (a moved deployment end, a dropped FROM_SOURCE edge, a deleted
inference) shows up as a difference, and a deleted or rewritten entry breaks the chain.

Content is plain JSON: ids, strings, numbers, ISO-8601 times, sorted lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from provgraph.domain.audit import canonical
from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.exclusions import CaseDecision, ErasureCase, ExclusionCase
from provgraph.domain.registry import Model, ModelVersion
from provgraph.domain.runs import Experiment, Run, RunInput
from provgraph.domain.serving import Deployment, Endpoint, Inference

Content = dict[str, Any]


class Scope(Enum):
    """The ledgers. Facts of one area share a ledger, appended one writer at a time."""

    CATALOG = "catalog"  # sources (and their exclusions), datasets, dataset versions, slices
    RUNS = "runs"  # experiments, runs and their completions
    REGISTRY = "registry"  # models and model versions (stages and aliases are in each model's own chain)
    SERVING = "serving"  # endpoints, deployments and their ends
    INFERENCES = "inferences"  # batches of inferences, one entry per write
    OPENLINEAGE = "openlineage"  # OpenLineage events as received (each kept verbatim)
    EXCLUSIONS = "exclusions"  # exclusion and erasure cases (their snapshots) and the decisions taken in them


class FactKind(Enum):
    SOURCE_REGISTERED = "SOURCE_REGISTERED"
    SOURCE_EXCLUDED = "SOURCE_EXCLUDED"
    DATASET_REGISTERED = "DATASET_REGISTERED"
    DATASET_VERSION_REGISTERED = "DATASET_VERSION_REGISTERED"
    SLICE_REGISTERED = "SLICE_REGISTERED"
    EXPERIMENT_REGISTERED = "EXPERIMENT_REGISTERED"
    RUN_REGISTERED = "RUN_REGISTERED"
    RUN_COMPLETED = "RUN_COMPLETED"
    RUN_INPUTS_ADDED = "RUN_INPUTS_ADDED"  # inputs a run reported after it was registered (OpenLineage)
    RUN_START_CORRECTED = (
        "RUN_START_CORRECTED"  # an earlier start learnt after the run (OpenLineage, out of order)
    )
    MODEL_REGISTERED = "MODEL_REGISTERED"
    MODEL_VERSION_REGISTERED = "MODEL_VERSION_REGISTERED"
    ENDPOINT_REGISTERED = "ENDPOINT_REGISTERED"
    DEPLOYMENT_STARTED = "DEPLOYMENT_STARTED"
    DEPLOYMENT_ENDED = "DEPLOYMENT_ENDED"
    INFERENCES_LOGGED = "INFERENCES_LOGGED"
    OPENLINEAGE_EVENT_RECEIVED = "OPENLINEAGE_EVENT_RECEIVED"
    EXCLUSION_CASE_OPENED = "EXCLUSION_CASE_OPENED"
    EXCLUSION_DECIDED = "EXCLUSION_DECIDED"  # in a case of either trigger
    ERASURE_CASE_OPENED = "ERASURE_CASE_OPENED"

    @property
    def scope(self) -> Scope:
        return _SCOPES[self]


_SCOPES = {
    FactKind.SOURCE_REGISTERED: Scope.CATALOG,
    FactKind.SOURCE_EXCLUDED: Scope.CATALOG,
    FactKind.DATASET_REGISTERED: Scope.CATALOG,
    FactKind.DATASET_VERSION_REGISTERED: Scope.CATALOG,
    FactKind.SLICE_REGISTERED: Scope.CATALOG,
    FactKind.EXPERIMENT_REGISTERED: Scope.RUNS,
    FactKind.RUN_REGISTERED: Scope.RUNS,
    FactKind.RUN_COMPLETED: Scope.RUNS,
    FactKind.RUN_INPUTS_ADDED: Scope.RUNS,
    FactKind.RUN_START_CORRECTED: Scope.RUNS,
    FactKind.MODEL_REGISTERED: Scope.REGISTRY,
    FactKind.MODEL_VERSION_REGISTERED: Scope.REGISTRY,
    FactKind.ENDPOINT_REGISTERED: Scope.SERVING,
    FactKind.DEPLOYMENT_STARTED: Scope.SERVING,
    FactKind.DEPLOYMENT_ENDED: Scope.SERVING,
    FactKind.INFERENCES_LOGGED: Scope.INFERENCES,
    FactKind.OPENLINEAGE_EVENT_RECEIVED: Scope.OPENLINEAGE,
    FactKind.EXCLUSION_CASE_OPENED: Scope.EXCLUSIONS,
    FactKind.EXCLUSION_DECIDED: Scope.EXCLUSIONS,
    FactKind.ERASURE_CASE_OPENED: Scope.EXCLUSIONS,
}


@dataclass(frozen=True)
class Fact:
    """One fact to append: its kind, the id of what it is about, and its content."""

    kind: FactKind
    subject_id: str
    content: Content


@dataclass(frozen=True)
class LedgerEntry:
    """A fact as the ledger holds it, chained to the entry before it and sealed."""

    id: str
    scope: Scope
    seq: int
    kind: FactKind
    subject_id: str
    content: Content
    actor: str
    recorded_at: datetime
    recorded_in: str
    prev_hash: str | None
    hash: str
    mac: str | None
    key_id: str | None


def entry_hash(
    scope: Scope,
    seq: int,
    kind: FactKind,
    subject_id: str,
    content: Content,
    actor: str,
    recorded_at: datetime,
    prev_hash: str | None,
) -> str:
    """The hash an entry must carry: its whole content, position, author, transaction time and predecessor."""
    document = {
        "scope": scope.value,
        "seq": seq,
        "kind": kind.value,
        "subjectId": subject_id,
        "content": content,
        "actor": actor,
        "recordedAt": recorded_at.isoformat(),
        "prevHash": prev_hash,
    }
    return hashlib.sha256(canonical(document).encode()).hexdigest()


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _recorded(
    entity: Source
    | Dataset
    | DatasetVersion
    | Slice
    | Experiment
    | Run
    | Model
    | ModelVersion
    | Endpoint
    | Deployment,
) -> Content:
    return {"recordedAt": _t(entity.recorded.recorded_at), "recordedBy": entity.recorded.recorded_by}


def source_registered(s: Source) -> Fact:
    content = {
        "id": s.id, "name": s.name, "kind": s.kind, "uri": s.uri, "owner": s.owner, "license": s.license,
        "description": s.description, **_recorded(s),
    }  # fmt: skip
    return Fact(FactKind.SOURCE_REGISTERED, s.id, content)


def source_excluded(s: Source) -> Fact:
    content = {
        "id": s.id, "excludedAt": _t(s.excluded_at), "reason": s.exclusion_reason,
        "recordedAt": _t(s.exclusion_recorded_at),
    }  # fmt: skip
    return Fact(FactKind.SOURCE_EXCLUDED, s.id, content)


def dataset_registered(d: Dataset) -> Fact:
    content = {"id": d.id, "name": d.name, "description": d.description, "owner": d.owner, **_recorded(d)}
    return Fact(FactKind.DATASET_REGISTERED, d.id, content)


def dataset_version_registered(v: DatasetVersion) -> Fact:
    content = {
        "id": v.id, "datasetId": v.dataset_id, "version": v.version, "digest": v.digest, "uri": v.uri,
        "rowCount": v.row_count, "schema": v.schema, "createdAt": _t(v.created_at),
        "sourceIds": sorted(v.source_ids),
        "derivedFrom": sorted([d.from_id, d.transform] for d in v.derived_from),
        "generatedBy": v.generated_by, **_recorded(v),
    }  # fmt: skip
    return Fact(FactKind.DATASET_VERSION_REGISTERED, v.id, content)


def slice_registered(s: Slice) -> Fact:
    content = {
        "id": s.id, "datasetVersionId": s.dataset_version_id, "name": s.name, "predicate": s.predicate,
        "rowCount": s.row_count, "digest": s.digest, "createdAt": _t(s.created_at),
        "sourceIds": sorted(s.source_ids), **_recorded(s),
    }  # fmt: skip
    return Fact(FactKind.SLICE_REGISTERED, s.id, content)


def experiment_registered(e: Experiment) -> Fact:
    content = {"id": e.id, "name": e.name, "description": e.description, **_recorded(e)}
    return Fact(FactKind.EXPERIMENT_REGISTERED, e.id, content)


def run_registered(r: Run) -> Fact:
    """A run as it was registered (a run registered already finished includes its end)."""
    content = {
        "id": r.id, "key": r.key, "kind": r.kind.value, "experimentId": r.experiment_id, "status": r.status.value,
        "startedAt": _t(r.started_at), "endedAt": _t(r.ended_at), "params": dict(sorted(r.params.items())),
        "metrics": dict(sorted(r.metrics.items())),
        "code": _code(r),
        "environment": {
            "imageDigest": r.environment.image_digest, "python": r.environment.python,
            "framework": r.environment.framework, "frameworkVersion": r.environment.framework_version,
            "packages": sorted(r.environment.packages),
        },
        "inputs": sorted([i.id, i.role.value] for i in r.inputs), **_recorded(r),
    }  # fmt: skip
    if r.parent is not None:  # recorded only when known (entries written before it existed lack it)
        content["parentRunId"] = r.parent
    if r.error is not None:  # likewise: only a run registered as FAILED with its reason has one
        content["error"] = r.error
    return Fact(FactKind.RUN_REGISTERED, r.id, content)


def run_inputs_added(run_id: str, inputs: Sequence[RunInput]) -> Fact:
    """Inputs a run reported after it was registered (OpenLineage events add them over a run's life)."""
    return Fact(
        FactKind.RUN_INPUTS_ADDED,
        run_id,
        {"id": run_id, "inputs": sorted([i.id, i.role.value] for i in inputs)},
    )


def run_start_corrected(run_id: str, started_at: datetime, previous: datetime) -> Fact:
    """A run's start moved earlier: its START event arrived after a later event had recorded the run."""
    content = {"id": run_id, "startedAt": _t(started_at), "previous": _t(previous)}
    return Fact(FactKind.RUN_START_CORRECTED, run_id, content)


def openlineage_event_received(
    event_id: str, event_type: str | None, event_time: str, run_key: str | None
) -> Fact:
    content = {"id": event_id, "eventType": event_type, "eventTime": event_time, "runId": run_key}
    return Fact(FactKind.OPENLINEAGE_EVENT_RECEIVED, event_id, content)


def _code(r: Run) -> Content:
    code: Content = {"repo": r.code.repo, "commit": r.code.commit, "entrypoint": r.code.entrypoint}
    if r.code.dirty is not None:  # recorded only when known (entries written before it existed lack it)
        code["dirty"] = r.code.dirty
    return code


def run_completed(r: Run) -> Fact:
    content = {
        "id": r.id, "status": r.status.value, "endedAt": _t(r.ended_at),
        "metrics": {k: r.metrics[k] for k in sorted(r.completion_metrics)}, "recordedAt": _t(r.completed_at),
    }  # fmt: skip
    if r.error is not None:  # only when a failure said why (entries written before it existed lack it)
        content["error"] = r.error
    return Fact(FactKind.RUN_COMPLETED, r.id, content)


def model_registered(m: Model) -> Fact:
    content = {"id": m.id, "name": m.name, "description": m.description, "owner": m.owner, **_recorded(m)}
    return Fact(FactKind.MODEL_REGISTERED, m.id, content)


def model_version_registered(mv: ModelVersion) -> Fact:
    content = {
        "id": mv.id, "modelId": mv.model_id, "version": mv.version, "artifactUri": mv.artifact_uri,
        "framework": mv.framework, "sizeBytes": mv.size_bytes, "metrics": dict(sorted(mv.metrics.items())),
        "trainedBy": mv.trained_by, "fineTunedFrom": mv.fine_tuned_from, "tags": sorted(mv.tags),
        "description": mv.description, "createdAt": _t(mv.created_at), **_recorded(mv),
    }  # fmt: skip
    return Fact(FactKind.MODEL_VERSION_REGISTERED, mv.id, content)


def endpoint_registered(e: Endpoint) -> Fact:
    content = {
        "id": e.id, "name": e.name, "environment": e.environment, "description": e.description, **_recorded(e),
    }  # fmt: skip
    return Fact(FactKind.ENDPOINT_REGISTERED, e.id, content)


def deployment_started(d: Deployment) -> Fact:
    """A deployment as recorded by deploy (a backfilled, closed interval includes its end)."""
    closed = d.end_recorded_at is not None and d.end_recorded_at == d.recorded.recorded_at
    content = {
        "id": d.id, "endpointId": d.endpoint_id, "modelVersionId": d.model_version_id,
        "startedAt": _t(d.started_at), "trafficShare": d.traffic_share, "reason": d.reason,
        "endedAt": _t(d.ended_at) if closed else None, "endReason": d.end_reason if closed else None,
        **_recorded(d),
    }  # fmt: skip
    return Fact(FactKind.DEPLOYMENT_STARTED, d.id, content)


def deployment_ended(d: Deployment) -> Fact:
    content = {
        "id": d.id, "endedAt": _t(d.ended_at), "endReason": d.end_reason, "recordedAt": _t(d.end_recorded_at),
    }  # fmt: skip
    return Fact(FactKind.DEPLOYMENT_ENDED, d.id, content)


def inference_line(i: Inference) -> str:
    """One inference's recorded facts as one canonical line (what a batch digest covers)."""
    return canonical(
        [
            i.id, _t(i.at), i.model_version_id, i.deployment_id, i.input_digest, i.output_digest, i.latency_ms,
            _t(i.recorded.recorded_at), i.recorded.recorded_by,
        ]
    )  # fmt: skip


def inferences_logged(write_id: str, inferences: Iterable[Inference]) -> Fact:
    """One write's new inferences, as a count and a digest over their sorted lines: one entry per batch,
    so tamper evidence costs one ledger append per request, not one per inference."""
    lines = sorted(inference_line(i) for i in inferences)
    return inferences_counted(write_id, len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())


def inferences_counted(write_id: str, count: int, digest: str) -> Fact:
    """The same fact from a count and digest worked out earlier (a seal computes them before its commit)."""
    return Fact(FactKind.INFERENCES_LOGGED, write_id, {"writeId": write_id, "count": count, "digest": digest})


def exclusion_case_opened(c: ExclusionCase) -> Fact:
    """A case as opened: the exclusion it follows and the digest of its impact snapshot (the snapshot is
    kept on the case; the digest here makes an edit of it show)."""
    content = {
        "id": c.id, "sourceId": c.source_id, "reason": c.reason, "excludedAt": _t(c.excluded_at),
        "snapshotDigest": c.snapshot_digest, "affected": sorted(c.affected), "openedBy": c.opened_by,
        "recordedAt": _t(c.opened_at),
    }  # fmt: skip
    return Fact(FactKind.EXCLUSION_CASE_OPENED, c.id, content)


def erasure_case_opened(c: ErasureCase) -> Fact:
    """An erasure case as opened: how many key hashes and their digest (the hashes are kept on the case; the
    digest here makes an edit of them show), and the digest of its snapshot."""
    content = {
        "id": c.id, "keyHashCount": len(c.key_hashes), "keyHashesDigest": c.key_hashes_digest,
        "reason": c.reason, "snapshotDigest": c.snapshot_digest, "affected": sorted(c.affected),
        "openedBy": c.opened_by, "recordedAt": _t(c.opened_at),
    }  # fmt: skip
    return Fact(FactKind.ERASURE_CASE_OPENED, c.id, content)


def exclusion_decided(d: CaseDecision) -> Fact:
    content = {
        "caseId": d.case_id, "modelVersionId": d.model_version_id, "decision": d.decision.value,
        "reason": d.reason, "at": _t(d.at), "actor": d.actor, "recordedAt": _t(d.recorded_at),
    }  # fmt: skip
    return Fact(FactKind.EXCLUSION_DECIDED, d.key, content)


def latest_by_subject(entries: Sequence[LedgerEntry], kind: FactKind) -> dict[str, LedgerEntry]:
    """The last entry of `kind` per subject (later entries of one subject supersede earlier ones)."""
    found: dict[str, LedgerEntry] = {}
    for entry in entries:
        if entry.kind is kind:
            found[entry.subject_id] = entry
    return found
