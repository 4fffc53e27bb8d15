"""Every SDK operation as a plain value: the document, its variables and how to read the answer.

The sync and async clients run the same operations, so each is written once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from provgraph.client import _documents as doc
from provgraph.client._models import (
    BatchResult,
    Comparison,
    Consumers,
    Dataset,
    DatasetVersion,
    Deployment,
    Endpoint,
    Experiment,
    ImpactReport,
    Inference,
    Lineage,
    Model,
    ModelVersion,
    RegistryEvent,
    Run,
    Slice,
    Source,
    SourceUses,
    Trace,
    parse,
)

T = TypeVar("T")
Variables = dict[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    document: str
    variables: Variables
    read: Callable[[dict[str, Any]], T]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _now() -> datetime:
    return datetime.now(UTC)


def _ref(kind: str, value: str) -> str:
    """Accept an id (`source:acme`) or a bare name (`acme`)."""
    return value if ":" in value else f"{kind}:{value}"


def _camel_keys(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        head, *rest = key.split("_")
        out[head + "".join(p.title() for p in rest)] = list(value) if isinstance(value, tuple) else value
    return out


def _pairs(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def _input(**values: Any) -> Variables:
    """A mutation's `input`, leaving out what the caller did not give (so server defaults apply)."""
    return {"input": {k: v for k, v in values.items() if v is not None}}


def _one(cls: type[T], *path: str) -> Callable[[dict[str, Any]], T]:
    def read(data: dict[str, Any]) -> T:
        for step in path:
            data = data[step]
        return parse(cls, data)

    return read


def _many(cls: type[T], *path: str) -> Callable[[dict[str, Any]], list[T]]:
    def read(data: dict[str, Any]) -> list[T]:
        items: Any = data
        for step in path:
            items = items[step]
        return [parse(cls, item) for item in items]

    return read


def register_source(
    name: str,
    kind: str,
    *,
    uri: str | None = None,
    owner: str | None = None,
    license: str | None = None,
    description: str | None = None,
) -> Call[Source]:
    return Call(
        doc.REGISTER_SOURCE,
        _input(name=name, kind=kind, uri=uri, owner=owner, license=license, description=description),
        _one(Source, "registerSource", "source"),
    )


def register_dataset(name: str, *, description: str | None = None, owner: str | None = None) -> Call[Dataset]:
    return Call(
        doc.REGISTER_DATASET,
        _input(name=name, description=description, owner=owner),
        _one(Dataset, "registerDataset", "dataset"),
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
    """`derived_from` holds version ids, or (version id, transform) pairs."""
    derivations = [
        {"fromId": d, "transform": None} if isinstance(d, str) else {"fromId": d[0], "transform": d[1]}
        for d in derived_from
    ]
    return Call(
        doc.REGISTER_DATASET_VERSION,
        _input(
            dataset=dataset,
            version=version,
            sourceIds=[_ref("source", s) for s in sources],
            derivedFrom=derivations,
            generatedBy=_ref("run", generated_by) if generated_by else None,
            digest=digest,
            uri=uri,
            rowCount=row_count,
            schema=schema,
            createdAt=_iso(created_at),
        ),
        _one(DatasetVersion, "registerDatasetVersion", "datasetVersion"),
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
    return Call(
        doc.REGISTER_SLICE,
        _input(
            datasetVersionId=dataset_version_id,
            name=name,
            predicate=predicate,
            rowCount=row_count,
            digest=digest,
            sourceIds=[_ref("source", s) for s in sources],
            createdAt=_iso(created_at),
        ),
        _one(Slice, "registerSlice", "slice"),
    )


def register_experiment(name: str, *, description: str | None = None) -> Call[Experiment]:
    return Call(
        doc.REGISTER_EXPERIMENT,
        _input(name=name, description=description),
        _one(Experiment, "registerExperiment", "experiment"),
    )


def register_run(
    key: str,
    kind: str = "TRAIN",
    *,
    experiment: str | None = None,
    inputs: Sequence[str | tuple[str, str]] = (),
    params: Mapping[str, object] | None = None,
    code: Mapping[str, str] | None = None,
    environment: Mapping[str, Any] | None = None,
    status: str = "RUNNING",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    metrics: Mapping[str, float] | None = None,
) -> Call[Run]:
    """`inputs` holds dataset version or slice ids, or (id, role) pairs (role TRAIN by default).
    `code` has repo/commit/entrypoint; `environment` image_digest/python/framework/framework_version/packages."""
    return Call(
        doc.REGISTER_RUN,
        _input(
            key=key,
            kind=kind,
            experiment=experiment,
            status=status,
            startedAt=_iso(started_at),
            endedAt=_iso(ended_at),
            params=_pairs({k: str(v) for k, v in (params or {}).items()}),
            metrics=_pairs(dict(metrics or {})),
            code=_camel_keys(code),
            environment=_camel_keys(environment),
            inputs=[
                {"id": i, "role": "TRAIN"} if isinstance(i, str) else {"id": i[0], "role": i[1]}
                for i in inputs
            ],
        ),
        _one(Run, "registerRun", "run"),
    )


def complete_run(
    run_id: str,
    status: str = "FINISHED",
    *,
    ended_at: datetime | None = None,
    metrics: Mapping[str, float] | None = None,
) -> Call[Run]:
    return Call(
        doc.COMPLETE_RUN,
        _input(
            runId=_ref("run", run_id),
            status=status,
            endedAt=_iso(ended_at),
            metrics=_pairs(dict(metrics or {})),
        ),
        _one(Run, "completeRun", "run"),
    )


def register_model(name: str, *, description: str | None = None, owner: str | None = None) -> Call[Model]:
    return Call(
        doc.REGISTER_MODEL,
        _input(name=name, description=description, owner=owner),
        _one(Model, "registerModel", "model"),
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
    return Call(
        doc.REGISTER_MODEL_VERSION,
        _input(
            model=model,
            artifactUri=artifact_uri,
            trainedBy=_ref("run", trained_by) if trained_by else None,
            fineTunedFrom=fine_tuned_from,
            framework=framework,
            sizeBytes=size_bytes,
            metrics=_pairs(dict(metrics or {})),
            tags=list(tags),
            description=description,
            createdAt=_iso(created_at),
        ),
        _one(ModelVersion, "registerModelVersion", "modelVersion"),
    )


def transition_stage(
    model_version_id: str,
    stage: str,
    *,
    reason: str | None = None,
    at: datetime | None = None,
    archive_others: bool = False,
) -> Call[ModelVersion]:
    return Call(
        doc.TRANSITION_STAGE,
        _input(
            modelVersionId=model_version_id,
            stage=stage,
            reason=reason,
            at=_iso(at),
            archiveOthers=archive_others,
        ),
        _one(ModelVersion, "transitionStage", "modelVersion"),
    )


def set_alias(
    model: str, alias: str, model_version_id: str, *, reason: str | None = None, at: datetime | None = None
) -> Call[ModelVersion]:
    return Call(
        doc.SET_ALIAS,
        _input(model=model, alias=alias, modelVersionId=model_version_id, reason=reason, at=_iso(at)),
        _one(ModelVersion, "setAlias", "modelVersion"),
    )


def remove_alias(
    model: str, alias: str, *, reason: str | None = None, at: datetime | None = None
) -> Call[ModelVersion]:
    return Call(
        doc.REMOVE_ALIAS,
        _input(model=model, alias=alias, reason=reason, at=_iso(at)),
        _one(ModelVersion, "removeAlias", "modelVersion"),
    )


def register_endpoint(
    name: str, environment: str = "production", *, description: str | None = None
) -> Call[Endpoint]:
    return Call(
        doc.REGISTER_ENDPOINT,
        _input(name=name, environment=environment, description=description),
        _one(Endpoint, "registerEndpoint", "endpoint"),
    )


def deploy(
    endpoint: str,
    model_version_id: str,
    *,
    started_at: datetime | None = None,
    traffic_share: float = 1.0,
    reason: str | None = None,
) -> Call[Deployment]:
    # The start is fixed here, not by the server, so a retried request is the same deployment.
    return Call(
        doc.DEPLOY,
        _input(
            endpoint=endpoint,
            modelVersionId=model_version_id,
            startedAt=_iso(started_at or _now()),
            trafficShare=traffic_share,
            reason=reason,
        ),
        _one(Deployment, "deploy", "deployment"),
    )


def end_deployment(
    deployment_id: str, *, ended_at: datetime | None = None, reason: str | None = None
) -> Call[Deployment]:
    return Call(
        doc.END_DEPLOYMENT,
        _input(deploymentId=deployment_id, endedAt=_iso(ended_at or _now()), reason=reason),
        _one(Deployment, "endDeployment", "deployment"),
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
    item = {
        "key": key,
        "at": _iso(at or _now()),
        "modelVersionId": model_version_id,
        "endpoint": endpoint,
        "inputDigest": input_digest,
        "outputDigest": output_digest,
        "latencyMs": latency_ms,
    }
    return {k: v for k, v in item.items() if v is not None}


def log_inference(key: str, **fields: Any) -> Call[Inference]:
    return Call(
        doc.LOG_INFERENCE,
        {"input": inference_input(key, **fields)},
        _one(Inference, "logInference", "inference"),
    )


def log_inferences(items: Sequence[Mapping[str, Any]]) -> Call[BatchResult]:
    """`items` are `inference_input(...)` dicts."""
    return Call(doc.LOG_INFERENCES, {"inferences": list(items)}, _one(BatchResult, "logInferences"))


def exclude_source(source_id: str, reason: str, *, at: datetime | None = None) -> Call[Source]:
    return Call(
        doc.EXCLUDE_SOURCE,
        _input(sourceId=_ref("source", source_id), reason=reason, at=_iso(at)),
        _one(Source, "excludeSource", "source"),
    )


def models_using_source(
    source_id: str,
    *,
    stage: str | None = None,
    as_of: datetime | None = None,
    max_depth: int | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Call[SourceUses]:
    return Call(
        doc.MODELS_USING_SOURCE,
        {
            "sourceId": _ref("source", source_id),
            "stage": stage,
            "asOf": _iso(as_of),
            "maxDepth": max_depth,
            "first": first,
            "after": after,
        },
        _one(SourceUses, "modelsUsingSource"),
    )


def trace_inference(inference_id: str) -> Call[Trace]:
    return Call(doc.TRACE_INFERENCE, {"id": _ref("inference", inference_id)}, _one(Trace, "traceInference"))


def lineage(
    node_id: str,
    *,
    direction: str = "UPSTREAM",
    max_depth: int | None = None,
    types: Sequence[str] | None = None,
    as_of: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Call[Lineage]:
    return Call(
        doc.LINEAGE,
        {
            "nodeId": node_id,
            "direction": direction,
            "maxDepth": max_depth,
            "types": list(types) if types else None,
            "asOf": _iso(as_of),
            "first": first,
            "after": after,
        },
        _read_lineage,
    )


def _read_lineage(data: dict[str, Any]) -> Lineage:
    page = dict(data["lineage"])
    page["nodes"] = [{doc.LINEAGE_RENAMES.get(k, k): v for k, v in node.items()} for node in page["nodes"]]
    return parse(Lineage, page)


def impact_report(source_id: str, *, as_of: datetime | None = None) -> Call[ImpactReport]:
    return Call(
        doc.IMPACT_REPORT,
        {"sourceId": _ref("source", source_id), "asOf": _iso(as_of)},
        _one(ImpactReport, "impactReport"),
    )


def deployed_at(endpoint: str, at: datetime | None = None) -> Call[list[Deployment]]:
    return Call(doc.DEPLOYED_AT, {"endpoint": endpoint, "at": _iso(at)}, _many(Deployment, "deployedAt"))


def consumers(dataset_version_id: str) -> Call[Consumers]:
    return Call(doc.CONSUMERS, {"id": dataset_version_id}, _one(Consumers, "consumers"))


def model_version(model_version_id: str) -> Call[ModelVersion]:
    return Call(doc.MODEL_VERSION_QUERY, {"id": model_version_id}, _one(ModelVersion, "modelVersion"))


def history(model_version_id: str) -> Call[list[RegistryEvent]]:
    return Call(doc.HISTORY, {"id": model_version_id}, _many(RegistryEvent, "modelVersion", "history"))


def compare(model_version_id: str, other_id: str) -> Call[Comparison]:
    return Call(
        doc.COMPARE, {"id": model_version_id, "other": other_id}, _one(Comparison, "modelVersion", "compare")
    )
