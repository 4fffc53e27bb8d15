"""The provenance questions and reads the SDK asks, as `Call` values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from provgraph.client import _documents as doc
from provgraph.client._call import Call, iso, many, one, ref
from provgraph.client._enums import Direction, Stage, wire
from provgraph.client._models import (
    AuditReport,
    Comparison,
    Consumers,
    Deployment,
    ExclusionCase,
    ImpactReport,
    Lineage,
    ModelVersion,
    RegistryEvent,
    Run,
    SourceUses,
    Trace,
    parse,
)


def models_using_source(
    source_id: str,
    *,
    stage: Stage | str | None = None,
    as_of: datetime | None = None,
    max_depth: int | None = None,
    first: int | None = None,
    after: str | None = None,
    known_at: datetime | None = None,
) -> Call[SourceUses]:
    """The model versions whose provenance reaches a source (by name or id), optionally only those in
    `stage` as of `as_of`, with where they were deployed and the paths that connect them. `known_at`
    answers as the service knew it then (facts recorded later are left out)."""
    return Call(
        doc.MODELS_USING_SOURCE,
        {
            "sourceId": ref("source", source_id),
            "stage": wire(stage) if stage is not None else None,
            "asOf": iso(as_of),
            "maxDepth": max_depth,
            "first": first,
            "after": after,
            "knownAt": iso(known_at),
        },
        one(SourceUses, "modelsUsingSource"),
    )


def trace_inference(inference_id: str) -> Call[Trace]:
    """An inference (by key or id) traced back to its deployment, model version, fine-tune chain, runs,
    data and sources."""
    return Call(doc.TRACE_INFERENCE, {"id": ref("inference", inference_id)}, one(Trace, "traceInference"))


def lineage(
    node_id: str,
    *,
    direction: Direction | str = Direction.UPSTREAM,
    max_depth: int | None = None,
    types: Sequence[str] | None = None,
    as_of: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
    known_at: datetime | None = None,
) -> Call[Lineage]:
    """A page of the nodes reachable from `node_id` (an id) in `direction`, optionally only of some node
    `types` (`"Source"`, `"DatasetVersion"`…), with the edges between them, as known at `known_at`."""
    return Call(
        doc.LINEAGE,
        {
            "nodeId": node_id,
            "direction": wire(direction),
            "maxDepth": max_depth,
            "types": list(types) if types else None,
            "asOf": iso(as_of),
            "first": first,
            "after": after,
            "knownAt": iso(known_at),
        },
        _read_lineage,
    )


def _read_lineage(data: dict[str, Any]) -> Lineage:
    page = dict(data["lineage"])
    page["nodes"] = [{doc.LINEAGE_RENAMES.get(k, k): v for k, v in node.items()} for node in page["nodes"]]
    return parse(Lineage, page)


def impact_report(
    source_id: str, *, as_of: datetime | None = None, known_at: datetime | None = None
) -> Call[ImpactReport]:
    """Everything a source (by name or id) affected: dataset versions, slices, runs, model versions with
    their stages and live deployments, and the inferences they served (as known at `known_at`)."""
    return Call(
        doc.IMPACT_REPORT,
        {"sourceId": ref("source", source_id), "asOf": iso(as_of), "knownAt": iso(known_at)},
        one(ImpactReport, "impactReport"),
    )


def deployed_at(
    endpoint: str, at: datetime | None = None, *, known_at: datetime | None = None
) -> Call[list[Deployment]]:
    """The deployments live on an endpoint (by name) at a time (default now), as known at `known_at`."""
    return Call(
        doc.DEPLOYED_AT,
        {"endpoint": endpoint, "at": iso(at), "knownAt": iso(known_at)},
        many(Deployment, "deployedAt"),
    )


def consumers(dataset_version_id: str) -> Call[Consumers]:
    """The runs, model versions, deployments and endpoints that consumed a dataset version or slice."""
    return Call(doc.CONSUMERS, {"id": dataset_version_id}, one(Consumers, "consumers"))


def get_run(run_id: str) -> Call[Run]:
    """A run by key or id, with its code and environment; `NotFoundError` when there is none."""
    return Call(doc.RUN_QUERY, {"id": ref("run", run_id)}, one(Run, "run"))


def model_version(model_version_id: str) -> Call[ModelVersion]:
    """A model version by id (`modelVersion:<model>:<n>`)."""
    return Call(doc.MODEL_VERSION_QUERY, {"id": model_version_id}, one(ModelVersion, "modelVersion"))


def history(model_version_id: str) -> Call[list[RegistryEvent]]:
    """A model version's registry events (registration, stage and alias changes), oldest first."""
    return Call(doc.HISTORY, {"id": model_version_id}, many(RegistryEvent, "modelVersion", "history"))


def model_history(
    model: str, *, first: int | None = None, after: str | None = None
) -> Call[list[RegistryEvent]]:
    """A page of a model's registry log (by name or id; every version's events), oldest first: `first`
    events (default 100, at most 500) after the event whose id is `after`."""
    return Call(
        doc.MODEL_HISTORY,
        {"id": ref("model", model), "first": first, "after": after},
        many(RegistryEvent, "model", "history"),
    )


def verify_audit(model: str | None = None, *, against: str | None = None) -> Call[AuditReport]:
    """Verify the tamper evidence: one model's registry chain (by name or id), or without `model` every chain,
    every seal and the served graph against the ledgers. `against` is a checkpoint's JSON (from the
    `auditCheckpoint` query) to check also that no chain was truncated or rewritten since it was taken.
    A broken chain is an answer, not an error: `valid` is False and `breaks` says where."""
    # The API names the model by name; an id (`model:<name>`) is what the other answers print.
    name = model.removeprefix("model:") if model else None
    return Call(doc.VERIFY_AUDIT, {"model": name, "against": against}, one(AuditReport, "verifyAuditChain"))


def compare(model_version_id: str, other_id: str) -> Call[Comparison]:
    """How two model versions differ in what made them: data, params, metrics, code and environment."""
    return Call(
        doc.COMPARE, {"id": model_version_id, "other": other_id}, one(Comparison, "modelVersion", "compare")
    )


def exclusion_case(case_or_source_id: str) -> Call[ExclusionCase]:
    """The case a source's exclusion opened, by its id (`exclusionCase:<name>`) or its source's id."""
    by_source = case_or_source_id.startswith("source:")
    variables = {"source": case_or_source_id} if by_source else {"id": case_or_source_id}
    return Call(doc.EXCLUSION_CASE, variables, one(ExclusionCase, "exclusionCase"))


def exclusion_cases(*, undecided: bool = False, first: int = 100) -> Call[list[ExclusionCase]]:
    """Exclusion cases (the first page), or with `undecided=True` those with a version left to decide."""
    return Call(
        doc.EXCLUSION_CASES,
        {"undecided": undecided, "first": first},
        many(ExclusionCase, "exclusionCases", "nodes"),
    )


def exclusion_receipt(case_id: str) -> Call[dict[str, Any]]:
    """A signed receipt of a case for an auditor to keep (JSON); `verifyExclusionReceipt` checks it."""

    def read(data: dict[str, Any]) -> dict[str, Any]:
        receipt: dict[str, Any] = data["exclusionReceipt"]
        return receipt

    return Call(doc.EXCLUSION_RECEIPT, {"id": case_id}, read)
