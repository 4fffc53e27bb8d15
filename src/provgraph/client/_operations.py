"""Every registration and write the SDK makes, as a `Call` value (the questions are in `_queries`).

Each write is idempotent on the service: the same registration again answers with the recorded fact, and a
different value for an immutable fact is a `ConflictError` naming the field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from provgraph.client import _documents as doc
from provgraph.client._call import Call, camel_keys, iso, mutation_input, now, one, pairs, ref
from provgraph.client._enums import ExclusionDecisionKind, InputRole, RunKind, RunStatus, Stage, wire
from provgraph.client._models import (
    BatchResult,
    Dataset,
    DatasetVersion,
    Deployment,
    Endpoint,
    ExclusionCase,
    Experiment,
    Inference,
    Model,
    ModelVersion,
    Run,
    Slice,
    Source,
)

RunInputRef = str | tuple[str, InputRole | str]


def register_source(
    name: str,
    kind: str,
    *,
    uri: str | None = None,
    owner: str | None = None,
    license: str | None = None,
    description: str | None = None,
) -> Call[Source]:
    """Register a data source (`kind` is your own lower-case keyword: vendor, database, bucket, crawl…)."""
    return Call(
        doc.REGISTER_SOURCE,
        mutation_input(name=name, kind=kind, uri=uri, owner=owner, license=license, description=description),
        one(Source, "registerSource", "source"),
    )


def register_dataset(name: str, *, description: str | None = None, owner: str | None = None) -> Call[Dataset]:
    """Register a dataset: the name its immutable versions are registered under."""
    return Call(
        doc.REGISTER_DATASET,
        mutation_input(name=name, description=description, owner=owner),
        one(Dataset, "registerDataset", "dataset"),
    )


def register_dataset_version(
    dataset: str,
    version: str,
    *,
    sources: Sequence[str] = (),
    derived_from: Sequence[str | tuple[str, str]] = (),
    generated_by: str | None = None,
    digest: str | None = None,
    uri: str | None = None,
    row_count: int | None = None,
    schema: str | None = None,
    created_at: datetime | None = None,
) -> Call[DatasetVersion]:
    """Register an immutable version of a dataset. `sources` are source names or ids; `derived_from` holds
    dataset version ids, or (version id, transform) pairs; `generated_by` is the key of the run that made it."""
    derivations = [
        {"fromId": d, "transform": None} if isinstance(d, str) else {"fromId": d[0], "transform": d[1]}
        for d in derived_from
    ]
    return Call(
        doc.REGISTER_DATASET_VERSION,
        mutation_input(
            dataset=dataset,
            version=version,
            sourceIds=[ref("source", s) for s in sources],
            derivedFrom=derivations,
            generatedBy=ref("run", generated_by) if generated_by else None,
            digest=digest,
            uri=uri,
            rowCount=row_count,
            schema=schema,
            createdAt=iso(created_at),
        ),
        one(DatasetVersion, "registerDatasetVersion", "datasetVersion"),
    )


def register_slice(
    dataset_version_id: str,
    name: str,
    *,
    predicate: str | None = None,
    row_count: int | None = None,
    digest: str | None = None,
    sources: Sequence[str] = (),
    created_at: datetime | None = None,
) -> Call[Slice]:
    """Register a named subset of a dataset version (a split, a partition, a sample)."""
    return Call(
        doc.REGISTER_SLICE,
        mutation_input(
            datasetVersionId=dataset_version_id,
            name=name,
            predicate=predicate,
            rowCount=row_count,
            digest=digest,
            sourceIds=[ref("source", s) for s in sources],
            createdAt=iso(created_at),
        ),
        one(Slice, "registerSlice", "slice"),
    )


def register_experiment(name: str, *, description: str | None = None) -> Call[Experiment]:
    """Register an experiment (a run that names one creates it on first mention)."""
    return Call(
        doc.REGISTER_EXPERIMENT,
        mutation_input(name=name, description=description),
        one(Experiment, "registerExperiment", "experiment"),
    )


def run_inputs(inputs: Sequence[RunInputRef]) -> list[dict[str, str]]:
    return [
        {"id": i, "role": InputRole.TRAIN.value} if isinstance(i, str) else {"id": i[0], "role": wire(i[1])}
        for i in inputs
    ]


def register_run(
    key: str,
    kind: RunKind | str = RunKind.TRAIN,
    *,
    experiment: str | None = None,
    parent: str | None = None,
    inputs: Sequence[RunInputRef] = (),
    params: Mapping[str, object] | None = None,
    code: Mapping[str, Any] | None = None,
    environment: Mapping[str, Any] | None = None,
    status: RunStatus | str = RunStatus.RUNNING,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    metrics: Mapping[str, float] | None = None,
    error: str | None = None,
) -> Call[Run]:
    """Register a run by your key (`Client.run(...)` does this for you and captures code and environment).

    `parent` is the id (`run:<key>`) of the run this one is part of: a sweep's trial, a pipeline's step.
    `inputs` holds dataset version or slice ids, or (id, role) pairs (role TRAIN by default). `code` has
    repo/commit/entrypoint/dirty; `environment` image_digest/python/framework/framework_version/packages.
    Params are recorded here and cannot change later; metrics (and `error`) only with a finished status."""
    return Call(
        doc.REGISTER_RUN,
        mutation_input(
            key=key,
            kind=wire(kind),
            experiment=experiment,
            parentRunId=parent,
            status=wire(status),
            startedAt=iso(started_at),
            endedAt=iso(ended_at),
            params=pairs({k: str(v) for k, v in (params or {}).items()}),
            metrics=pairs(dict(metrics or {})),
            code=camel_keys(code),
            environment=camel_keys(environment),
            inputs=run_inputs(inputs),
            error=error,
        ),
        one(Run, "registerRun", "run"),
    )


def complete_run(
    run_id: str,
    status: RunStatus | str = RunStatus.FINISHED,
    *,
    ended_at: datetime | None = None,
    metrics: Mapping[str, float] | None = None,
    error: str | None = None,
) -> Call[Run]:
    """Record how a run ended (FINISHED or FAILED) with its final metrics; `run_id` is its id or key.
    `error` says why a FAILED run failed. Reporting the same end again is a no-op; a different end is a
    `ConflictError`."""
    return Call(
        doc.COMPLETE_RUN,
        mutation_input(
            runId=ref("run", run_id),
            status=wire(status),
            endedAt=iso(ended_at),
            metrics=pairs(dict(metrics or {})),
            error=error,
        ),
        one(Run, "completeRun", "run"),
    )


def register_model(name: str, *, description: str | None = None, owner: str | None = None) -> Call[Model]:
    """Register a model: the name its numbered versions are registered under."""
    return Call(
        doc.REGISTER_MODEL,
        mutation_input(name=name, description=description, owner=owner),
        one(Model, "registerModel", "model"),
    )


def register_model_version(
    model: str,
    artifact_uri: str,
    *,
    trained_by: str | None = None,
    fine_tuned_from: str | None = None,
    framework: str | None = None,
    size_bytes: int | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Sequence[str] = (),
    description: str | None = None,
    created_at: datetime | None = None,
) -> Call[ModelVersion]:
    """Register the next version of a model. `artifact_uri` is its idempotency key: the same URI again
    answers with the version already registered. `trained_by` is a run's key or id."""
    return Call(
        doc.REGISTER_MODEL_VERSION,
        mutation_input(
            model=model,
            artifactUri=artifact_uri,
            trainedBy=ref("run", trained_by) if trained_by else None,
            fineTunedFrom=fine_tuned_from,
            framework=framework,
            sizeBytes=size_bytes,
            metrics=pairs(dict(metrics or {})),
            tags=list(tags),
            description=description,
            createdAt=iso(created_at),
        ),
        one(ModelVersion, "registerModelVersion", "modelVersion"),
    )


def transition_stage(
    model_version_id: str,
    stage: Stage | str,
    *,
    reason: str | None = None,
    at: datetime | None = None,
    archive_others: bool = False,
) -> Call[ModelVersion]:
    """Move a version to another stage (NONE → STAGING → PRODUCTION, ARCHIVED; see the README's rules).
    `archive_others` archives the model's other production versions when this one is promoted."""
    return Call(
        doc.TRANSITION_STAGE,
        mutation_input(
            modelVersionId=model_version_id,
            stage=wire(stage),
            reason=reason,
            at=iso(at),
            archiveOthers=archive_others,
        ),
        one(ModelVersion, "transitionStage", "modelVersion"),
    )


def set_alias(
    model: str, alias: str, model_version_id: str, *, reason: str | None = None, at: datetime | None = None
) -> Call[ModelVersion]:
    """Point a model's alias (`champion`, `canary`…) at one of its versions, moving it if it is held."""
    return Call(
        doc.SET_ALIAS,
        mutation_input(model=model, alias=alias, modelVersionId=model_version_id, reason=reason, at=iso(at)),
        one(ModelVersion, "setAlias", "modelVersion"),
    )


def remove_alias(
    model: str, alias: str, *, reason: str | None = None, at: datetime | None = None
) -> Call[ModelVersion]:
    """Remove a model's alias; answers with the version that held it."""
    return Call(
        doc.REMOVE_ALIAS,
        mutation_input(model=model, alias=alias, reason=reason, at=iso(at)),
        one(ModelVersion, "removeAlias", "modelVersion"),
    )


def register_endpoint(
    name: str, environment: str = "production", *, description: str | None = None
) -> Call[Endpoint]:
    """Register an endpoint models are deployed to."""
    return Call(
        doc.REGISTER_ENDPOINT,
        mutation_input(name=name, environment=environment, description=description),
        one(Endpoint, "registerEndpoint", "endpoint"),
    )


def deploy(
    endpoint: str,
    model_version_id: str,
    *,
    started_at: datetime | None = None,
    traffic_share: float = 1.0,
    reason: str | None = None,
) -> Call[Deployment]:
    """Start serving a version on an endpoint with a share of its traffic (idempotent on endpoint,
    version and start). The live shares of an endpoint add up to at most 1 at any instant."""
    # The start is fixed here, not by the server, so a retried request is the same deployment.
    return Call(
        doc.DEPLOY,
        mutation_input(
            endpoint=endpoint,
            modelVersionId=model_version_id,
            startedAt=iso(started_at or now()),
            trafficShare=traffic_share,
            reason=reason,
        ),
        one(Deployment, "deploy", "deployment"),
    )


def end_deployment(
    deployment_id: str, *, ended_at: datetime | None = None, reason: str | None = None
) -> Call[Deployment]:
    """End a deployment (now, or at `ended_at`)."""
    return Call(
        doc.END_DEPLOYMENT,
        mutation_input(deploymentId=deployment_id, endedAt=iso(ended_at or now()), reason=reason),
        one(Deployment, "endDeployment", "deployment"),
    )


def inference_input(
    key: str,
    *,
    at: datetime | None = None,
    model_version_id: str | None = None,
    endpoint: str | None = None,
    input_digest: str | None = None,
    output_digest: str | None = None,
    latency_ms: float | None = None,
) -> dict[str, Any]:
    """One item of `log_inferences`: an inference by your key, with a model version or an endpoint (the
    version live there at `at` is looked up)."""
    item = {
        "key": key,
        "at": iso(at or now()),
        "modelVersionId": model_version_id,
        "endpoint": endpoint,
        "inputDigest": input_digest,
        "outputDigest": output_digest,
        "latencyMs": latency_ms,
    }
    return {k: v for k, v in item.items() if v is not None}


def log_inference(key: str, **fields: Any) -> Call[Inference]:
    """Record one inference; `fields` are those of `inference_input`. For a serving path, use
    `InferenceLogger`, which batches in the background and never blocks."""
    return Call(
        doc.LOG_INFERENCE,
        {"input": inference_input(key, **fields)},
        one(Inference, "logInference", "inference"),
    )


def log_inferences(items: Sequence[Mapping[str, Any]]) -> Call[BatchResult]:
    """Record a batch of `inference_input(...)` items in one transaction; rejected items come back with
    their reasons and the rest land."""
    return Call(doc.LOG_INFERENCES, {"inferences": list(items)}, one(BatchResult, "logInferences"))


def exclude_source(source_id: str, reason: str, *, at: datetime | None = None) -> Call[Source]:
    """Mark a source excluded (from `at`, default now), with the reason; `impact_report` shows what it touched."""
    return Call(
        doc.EXCLUDE_SOURCE,
        mutation_input(sourceId=ref("source", source_id), reason=reason, at=iso(at)),
        one(Source, "excludeSource", "source"),
    )


def open_erasure_case(key_hashes: Sequence[str], reason: str) -> Call[ExclusionCase]:
    """Open the case for an erasure request: `key_hashes` are the records' keyed hashes (`key_hash(key,
    secret=…)`; the keys never leave the client). The case snapshots where those records are and which
    model versions learned from them; decide each with `decide_exclusion`. A repeat returns the case."""
    return Call(
        doc.OPEN_ERASURE_CASE,
        {"keyHashes": list(key_hashes), "reason": reason},
        one(ExclusionCase, "openErasureCase", "case"),
    )


def decide_exclusion(
    case_id: str,
    model_version_id: str,
    decision: ExclusionDecisionKind | str,
    reason: str,
    *,
    at: datetime | None = None,
) -> Call[ExclusionCase]:
    """Record what was decided about a model version a source's exclusion affects: RETRAIN, RETIRE or
    ACCEPT (the reason is then the justification). Returns the case; the same decision again is a no-op,
    a different one a `ConflictError`. `case_id` is `exclusionCase:<source name>`."""
    return Call(
        doc.DECIDE_EXCLUSION,
        mutation_input(
            caseId=case_id,
            modelVersionId=model_version_id,
            decision=wire(decision),
            reason=reason,
            at=iso(at),
        ),
        one(ExclusionCase, "decideExclusion", "case"),
    )
