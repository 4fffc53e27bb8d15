"""GraphQL types and root fields for the signature provenance questions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from provgraph.api.context import Info
from provgraph.api.loaders import Loaders
from provgraph.api.types.catalog import DatasetType, DatasetVersionType, SliceType, SourceType
from provgraph.api.types.common import Direction, KnownAt, Stage
from provgraph.api.types.paging import PageInfo
from provgraph.api.types.registry import ModelType, ModelVersionType
from provgraph.api.types.runs import ExperimentType, RunType
from provgraph.api.types.serving import DeploymentType, EndpointType, InferenceType
from provgraph.domain import catalog, lineage, registry, runs, serving

ProvenanceNode = Annotated[
    SourceType
    | DatasetType
    | DatasetVersionType
    | SliceType
    | ExperimentType
    | RunType
    | ModelType
    | ModelVersionType
    | EndpointType
    | DeploymentType
    | InferenceType,
    strawberry.union("ProvenanceNode", description="Any node of the provenance graph."),
]


def node_of(entity: lineage.Entity) -> ProvenanceNode:
    match entity:
        case catalog.Source():
            return SourceType.of(entity)
        case catalog.Dataset():
            return DatasetType.of(entity)
        case catalog.DatasetVersion():
            return DatasetVersionType.of(entity)
        case catalog.Slice():
            return SliceType.of(entity)
        case runs.Experiment():
            return ExperimentType.of(entity)
        case runs.Run():
            return RunType.of(entity)
        case registry.Model():
            return ModelType.of(entity)
        case registry.ModelVersion():
            return ModelVersionType.of(entity)
        case serving.Endpoint():
            return EndpointType.of(entity)
        case serving.Deployment():
            return DeploymentType.of(entity)
        case serving.Inference():
            return InferenceType.of(entity)
    raise TypeError(f"not a provenance entity: {entity!r}")


def prime(loaders: Loaders, entities: list[lineage.Entity]) -> None:
    """Entities a signature query already returned are not fetched again by nested fields."""
    for entity in entities:
        match entity:
            case catalog.Source():
                loaders.sources.prime(entity.id, entity)
            case catalog.DatasetVersion():
                loaders.dataset_versions.prime(entity.id, entity)
            case catalog.Slice():
                loaders.slices.prime(entity.id, entity)
            case runs.Run():
                loaders.runs.prime(entity.id, entity)
            case registry.ModelVersion():
                loaders.model_versions.prime(entity.id, entity)
            case serving.Deployment():
                loaders.deployments.prime(entity.id, entity)
            case _:
                pass


@strawberry.type(name="LineageEdge", description="An edge, from the derived thing to what it came from.")
class EdgeType:
    type: str
    from_id: strawberry.ID
    to_id: strawberry.ID
    role: str | None
    transform: str | None

    @classmethod
    def of(cls, e: lineage.Edge) -> EdgeType:
        return cls(
            type=e.type,
            from_id=strawberry.ID(e.from_id),
            to_id=strawberry.ID(e.to_id),
            role=e.role,
            transform=e.transform,
        )


@strawberry.type(name="Lineage", description="A page of a bounded provenance subgraph.")
class LineageType:
    nodes: list[ProvenanceNode]
    edges: list[EdgeType] = strawberry.field(
        description="Edges that attach this page's nodes to the start or to other reached nodes."
    )
    total_count: int
    page_info: PageInfo
    is_partial: bool = strawberry.field(description="True when maxDepth or the size limit cut the subgraph.")


@strawberry.type(
    name="ProvenancePath", description="A chain of edges that explains why a version used a source."
)
class PathType:
    node_ids: list[strawberry.ID]
    edge_types: list[str]


@strawberry.type(name="SourceUse", description="A model version whose lineage reaches the source.")
class SourceUseType:
    model_version: ModelVersionType
    stage: Stage = strawberry.field(description="Its stage at the time asked about.")  # type: ignore[valid-type]
    deployments: list[DeploymentType] = strawberry.field(
        description="Its deployments live at the time asked about."
    )
    paths: list[PathType]


@strawberry.type(name="SourceUseConnection")
class SourceUseConnection:
    items: list[SourceUseType]
    total_count: int
    page_info: PageInfo


@strawberry.type(name="Trace", description="An inference traced back to its model, runs, data and sources.")
class TraceType:
    inference: InferenceType
    deployment: DeploymentType | None
    model_version: ModelVersionType
    fine_tune_chain: list[ModelVersionType] = strawberry.field(
        description="The versions this one was fine-tuned from, nearest first."
    )
    runs: list[RunType]
    dataset_versions: list[DatasetVersionType]
    slices: list[SliceType]
    sources: list[SourceType]
    edges: list[EdgeType]


@strawberry.type(name="AffectedModelVersion")
class AffectedModelVersionType:
    model_version: ModelVersionType
    stage: Stage  # type: ignore[valid-type]
    live_deployments: list[DeploymentType]
    inferences: int = strawberry.field(description="Inferences it served up to the time asked about.")


@strawberry.type(name="ImpactReport", description="Everything derived from a source, as of a time.")
class ImpactReportType:
    source: SourceType
    as_of: datetime
    dataset_versions: list[DatasetVersionType]
    slices: list[SliceType]
    runs: list[RunType]
    model_versions: list[AffectedModelVersionType]
    first_used_at: datetime | None = strawberry.field(
        description="When a run first used data from the source."
    )
    inferences: int = strawberry.field(description="Inferences served by affected versions since then.")
    is_partial: bool


@strawberry.type(name="RunConsumer")
class RunConsumerType:
    run: RunType
    direct: bool = strawberry.field(description="Used this data itself, not something derived from it.")


@strawberry.type(name="Consumers", description="Everything that consumed a dataset version or slice.")
class ConsumersType:
    runs: list[RunConsumerType]
    model_versions: list[ModelVersionType]
    deployments: list[DeploymentType]
    endpoints: list[EndpointType]


def _trace(t: lineage.Trace) -> TraceType:
    by_id = {e.id: e for e in t.upstream}
    chain: list[ModelVersionType] = []
    base = t.model_version.fine_tuned_from
    while base is not None and isinstance(by_id.get(base), registry.ModelVersion):
        version = by_id[base]
        assert isinstance(version, registry.ModelVersion)
        chain.append(ModelVersionType.of(version))
        base = version.fine_tuned_from
    return TraceType(
        inference=InferenceType.of(t.inference),
        deployment=DeploymentType.of(t.deployment) if t.deployment else None,
        model_version=ModelVersionType.of(t.model_version),
        fine_tune_chain=chain,
        runs=[RunType.of(e) for e in t.upstream if isinstance(e, runs.Run)],
        dataset_versions=[
            DatasetVersionType.of(e) for e in t.upstream if isinstance(e, catalog.DatasetVersion)
        ],
        slices=[SliceType.of(e) for e in t.upstream if isinstance(e, catalog.Slice)],
        sources=[SourceType.of(e) for e in t.upstream if isinstance(e, catalog.Source)],
        edges=[EdgeType.of(e) for e in t.edges],
    )


@strawberry.type
class ExcludeSourcePayload:
    source: SourceType
    created: bool = strawberry.field(description="False when the same exclusion was already recorded.")


@strawberry.input
class ExcludeSourceInput:
    source_id: strawberry.ID
    reason: str
    at: datetime | None = None


@strawberry.type
class ProvenanceQuery:
    @strawberry.field(
        description="Model versions whose lineage reaches the source (through derivations, slices, runs and "
        "fine-tuning), with their stage and live deployments at `asOf` and the paths that explain each answer."
    )
    async def models_using_source(
        self,
        info: Info,
        source_id: strawberry.ID,
        stage: Stage | None = None,  # type: ignore[valid-type]
        as_of: datetime | None = None,
        max_depth: int | None = None,
        first: int | None = None,
        after: str | None = None,
        max_paths: int = 3,
        known_at: KnownAt = None,
    ) -> SourceUseConnection:
        page = await info.context.services.provenance.models_using_source(
            source_id, stage, as_of, max_depth, first, after, max_paths, known_at
        )
        prime(info.context.loaders, [u.model_version for u in page.items])
        return SourceUseConnection(
            items=[
                SourceUseType(
                    model_version=ModelVersionType.of(u.model_version),
                    stage=u.stage,
                    deployments=[DeploymentType.of(d) for d in u.deployments],
                    paths=[
                        PathType(
                            node_ids=[strawberry.ID(n) for n in p.node_ids], edge_types=list(p.edge_types)
                        )
                        for p in u.paths
                    ],
                )
                for u in page.items
            ],
            total_count=page.total,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )

    @strawberry.field(
        description="An inference back to its deployment, model version, runs, data and sources."
    )
    async def trace_inference(self, info: Info, inference_id: strawberry.ID) -> TraceType:
        trace = await info.context.services.provenance.trace_inference(inference_id)
        prime(info.context.loaders, [trace.model_version, *trace.upstream])
        return _trace(trace)

    @strawberry.field(description="A bounded provenance subgraph around a node, one page of nodes at a time.")
    async def lineage(
        self,
        info: Info,
        node_id: strawberry.ID,
        direction: Direction = Direction.UPSTREAM,  # type: ignore[valid-type]
        max_depth: int | None = None,
        types: list[str] | None = None,
        as_of: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
        known_at: KnownAt = None,
    ) -> LineageType:
        page = await info.context.services.provenance.lineage(
            node_id, direction, max_depth, types, as_of, first, after, known_at
        )
        prime(info.context.loaders, page.nodes)
        return LineageType(
            nodes=[node_of(n) for n in page.nodes],
            edges=[EdgeType.of(e) for e in page.edges],
            total_count=page.total,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            is_partial=page.is_partial,
        )

    @strawberry.field(
        description="Everything derived from a source as of a time: what an exclusion would affect."
    )
    async def impact_report(
        self, info: Info, source_id: strawberry.ID, as_of: datetime | None = None, known_at: KnownAt = None
    ) -> ImpactReportType:
        report = await info.context.services.provenance.impact_report(source_id, as_of, known_at)
        prime(info.context.loaders, [*report.dataset_versions, *report.slices, *report.runs])
        return ImpactReportType(
            source=SourceType.of(report.source),
            as_of=report.as_of,
            dataset_versions=[DatasetVersionType.of(v) for v in report.dataset_versions],
            slices=[SliceType.of(s) for s in report.slices],
            runs=[RunType.of(r) for r in report.runs],
            model_versions=[
                AffectedModelVersionType(
                    model_version=ModelVersionType.of(m.model_version),
                    stage=m.stage,
                    live_deployments=[DeploymentType.of(d) for d in m.live_deployments],
                    inferences=m.inferences,
                )
                for m in report.model_versions
            ],
            first_used_at=report.first_used_at,
            inferences=report.inferences,
            is_partial=report.is_partial,
        )

    @strawberry.field(description="Every run, model version, deployment and endpoint that consumed the data.")
    async def consumers(self, info: Info, dataset_version_id: strawberry.ID) -> ConsumersType:
        found = await info.context.services.provenance.consumers(dataset_version_id)
        return ConsumersType(
            runs=[RunConsumerType(run=RunType.of(c.run), direct=c.direct) for c in found.runs],
            model_versions=[ModelVersionType.of(m) for m in found.model_versions],
            deployments=[DeploymentType.of(d) for d in found.deployments],
            endpoints=[EndpointType.of(e) for e in found.endpoints],
        )


@strawberry.type
class ProvenanceMutation:
    @strawberry.mutation(
        description="Record that a source must no longer be used. Nothing is deleted; impactReport lists what it affects."
    )
    async def exclude_source(self, info: Info, input: ExcludeSourceInput) -> ExcludeSourcePayload:
        done = await info.context.services.catalog.exclude_source(
            input.source_id, input.reason, input.at, info.context.caller
        )
        return ExcludeSourcePayload(source=SourceType.of(done.entity), created=done.created)
