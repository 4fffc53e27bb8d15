"""GraphQL types and root fields for the signature provenance questions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from provgraph.api.context import Info
from provgraph.api.loaders import Loaders
from provgraph.api.types.catalog import DatasetType, DatasetVersionType, SliceType, SourceType
from provgraph.api.types.common import Direction, KnownAt, Stage
from provgraph.api.types.paging import After, First, PageInfo, page_after, page_ids
from provgraph.api.types.registry import ModelType, ModelVersionType
from provgraph.api.types.runs import ExperimentType, RunType
from provgraph.api.types.serving import DeploymentType, EndpointType, InferenceType
from provgraph.domain import catalog, lineage, registry, runs, serving
from provgraph.domain.ids import Kind
from provgraph.service import pictures

E = TypeVar("E")

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
    valid_from: datetime | None = strawberry.field(
        description="When the relation took effect: the run's start, the version's creation, …"
    )
    recorded_at: datetime | None = strawberry.field(description="When the service recorded the relation.")

    @classmethod
    def of(cls, e: lineage.Edge) -> EdgeType:
        return cls(
            type=e.type,
            from_id=strawberry.ID(e.from_id),
            to_id=strawberry.ID(e.to_id),
            role=e.role,
            transform=e.transform,
            valid_from=e.valid_from,
            recorded_at=e.recorded_at,
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
    _start: strawberry.Private[str]
    _page: strawberry.Private[lineage.LineagePage]

    @strawberry.field(description="This page as a Graphviz DOT digraph (the start node emphasised).")
    def dot(self) -> str:
        return pictures.dot([self._start, *(n.id for n in self._page.nodes)], self._page.edges, [self._start])

    @strawberry.field(description="This page as a Mermaid flowchart (the start node emphasised).")
    def mermaid(self) -> str:
        return pictures.mermaid(
            [self._start, *(n.id for n in self._page.nodes)], self._page.edges, [self._start]
        )


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


async def _entities(info: Info, ids: list[str], kind: type[E]) -> list[E]:
    found = await info.context.loaders.entities.load_many(ids)
    return [entity for entity in found if isinstance(entity, kind)]


@strawberry.type(
    name="Trace",
    description="An inference traced back to its model, runs, data and sources. The lists are sorted by id and "
    "paged (`first`, `after`), with their sizes in the *Count fields.",
)
class TraceType:
    inference: InferenceType
    deployment: DeploymentType | None
    model_version: ModelVersionType
    run_count: int
    dataset_version_count: int
    slice_count: int
    source_count: int
    edge_count: int
    _trace: strawberry.Private[lineage.Trace]

    @strawberry.field(description="The versions this one was fine-tuned from, nearest first.")
    async def fine_tune_chain(self, info: Info) -> list[ModelVersionType]:
        found = await _entities(info, self._trace.fine_tune_chain, registry.ModelVersion)
        return [ModelVersionType.of(v) for v in found]

    @strawberry.field
    async def runs(self, info: Info, first: First = None, after: After = None) -> list[RunType]:
        ids = page_ids(_of_kind(self._trace.upstream_ids, Kind.RUN), first, after)
        return [RunType.of(r) for r in await _entities(info, ids, runs.Run)]

    @strawberry.field
    async def dataset_versions(
        self, info: Info, first: First = None, after: After = None
    ) -> list[DatasetVersionType]:
        ids = page_ids(_of_kind(self._trace.upstream_ids, Kind.DATASET_VERSION), first, after)
        return [DatasetVersionType.of(v) for v in await _entities(info, ids, catalog.DatasetVersion)]

    @strawberry.field
    async def slices(self, info: Info, first: First = None, after: After = None) -> list[SliceType]:
        ids = page_ids(_of_kind(self._trace.upstream_ids, Kind.SLICE), first, after)
        return [SliceType.of(x) for x in await _entities(info, ids, catalog.Slice)]

    @strawberry.field
    async def sources(self, info: Info, first: First = None, after: After = None) -> list[SourceType]:
        ids = page_ids(_of_kind(self._trace.upstream_ids, Kind.SOURCE), first, after)
        return [SourceType.of(x) for x in await _entities(info, ids, catalog.Source)]

    @strawberry.field(
        description="The whole trace as a Graphviz DOT digraph: inference → deployment → model version → runs, "
        "data and sources (the inference emphasised)."
    )
    def dot(self) -> str:
        nodes, edges = _trace_picture(self._trace)
        return pictures.dot(nodes, edges, [self._trace.inference.id])

    @strawberry.field(description="The whole trace as a Mermaid flowchart (the inference emphasised).")
    def mermaid(self) -> str:
        nodes, edges = _trace_picture(self._trace)
        return pictures.mermaid(nodes, edges, [self._trace.inference.id])

    @strawberry.field(
        description="The provenance edges among these nodes, sorted by (fromId, type, toId); `after` is the last "
        "edge's `fromId|type|toId`."
    )
    def edges(self, first: First = None, after: After = None) -> list[EdgeType]:
        chosen = page_after(self._trace.edges, _edge_key, first, after)
        return [EdgeType.of(e) for e in chosen]

    @classmethod
    def of(cls, t: lineage.Trace) -> TraceType:
        upstream = t.upstream_ids
        return cls(
            inference=InferenceType.of(t.inference),
            deployment=DeploymentType.of(t.deployment) if t.deployment else None,
            model_version=ModelVersionType.of(t.model_version),
            run_count=len(_of_kind(upstream, Kind.RUN)),
            dataset_version_count=len(_of_kind(upstream, Kind.DATASET_VERSION)),
            slice_count=len(_of_kind(upstream, Kind.SLICE)),
            source_count=len(_of_kind(upstream, Kind.SOURCE)),
            edge_count=len(t.edges),
            _trace=t,
        )


@strawberry.type(name="AffectedModelVersion")
class AffectedModelVersionType:
    model_version: ModelVersionType
    stage: Stage  # type: ignore[valid-type]
    live_deployments: list[DeploymentType]
    inferences: int = strawberry.field(description="Inferences it served up to the time asked about.")


@strawberry.type(
    name="ImpactReport",
    description="Everything derived from a source, as of a time. The lists are sorted by id and paged "
    "(`first`, `after`), with their sizes in the *Count fields.",
)
class ImpactReportType:
    source: SourceType
    as_of: datetime
    first_used_at: datetime | None = strawberry.field(
        description="When a run first used data from the source."
    )
    inferences: int = strawberry.field(description="Inferences served by affected versions up to asOf.")
    is_partial: bool
    dataset_version_count: int
    slice_count: int
    run_count: int
    model_version_count: int
    _report: strawberry.Private[lineage.ImpactReport]

    @strawberry.field
    async def dataset_versions(
        self, info: Info, first: First = None, after: After = None
    ) -> list[DatasetVersionType]:
        ids = page_ids(self._report.dataset_version_ids, first, after)
        return [DatasetVersionType.of(v) for v in await _entities(info, ids, catalog.DatasetVersion)]

    @strawberry.field
    async def slices(self, info: Info, first: First = None, after: After = None) -> list[SliceType]:
        ids = page_ids(self._report.slice_ids, first, after)
        return [SliceType.of(x) for x in await _entities(info, ids, catalog.Slice)]

    @strawberry.field(description="Runs that used the source's data, as known at knownAt.")
    async def runs(self, info: Info, first: First = None, after: After = None) -> list[RunType]:
        ids = page_ids(self._report.run_ids, first, after)
        known = self._report.known_at
        return [RunType.of(r.as_known(known)) for r in await _entities(info, ids, runs.Run)]

    @strawberry.field(
        description="Each affected model version with its stage, live deployments and inferences then."
    )
    async def model_versions(
        self, info: Info, first: First = None, after: After = None
    ) -> list[AffectedModelVersionType]:
        ids = page_ids(self._report.model_version_ids, first, after)
        keys = [(i, self._report.as_of, self._report.known_at) for i in ids]
        found = await info.context.loaders.affected_versions.load_many(keys)
        return [
            AffectedModelVersionType(
                model_version=ModelVersionType.of(m.model_version),
                stage=m.stage,
                live_deployments=[DeploymentType.of(d) for d in m.live_deployments],
                inferences=self._report.inference_counts.get(m.model_version.id, 0),
            )
            for m in found
            if m is not None
        ]

    @classmethod
    def of(cls, report: lineage.ImpactReport) -> ImpactReportType:
        return cls(
            source=SourceType.of(report.source),
            as_of=report.as_of,
            first_used_at=report.first_used_at,
            inferences=report.inferences,
            is_partial=report.is_partial,
            dataset_version_count=len(report.dataset_version_ids),
            slice_count=len(report.slice_ids),
            run_count=len(report.run_ids),
            model_version_count=len(report.model_version_ids),
            _report=report,
        )


@strawberry.type(name="RunConsumer")
class RunConsumerType:
    run: RunType
    direct: bool = strawberry.field(description="Used this data itself, not something derived from it.")


@strawberry.type(
    name="Consumers",
    description="Everything that consumed a dataset version or slice. The lists are sorted by id and paged.",
)
class ConsumersType:
    run_count: int
    model_version_count: int
    deployment_count: int
    endpoint_count: int
    _found: strawberry.Private[lineage.Consumers]

    @strawberry.field
    async def runs(self, info: Info, first: First = None, after: After = None) -> list[RunConsumerType]:
        ids = page_ids(self._found.run_ids, first, after)
        direct = self._found.direct_run_ids
        return [
            RunConsumerType(run=RunType.of(r), direct=r.id in direct)
            for r in await _entities(info, ids, runs.Run)
        ]

    @strawberry.field
    async def model_versions(
        self, info: Info, first: First = None, after: After = None
    ) -> list[ModelVersionType]:
        ids = page_ids(self._found.model_version_ids, first, after)
        return [ModelVersionType.of(v) for v in await _entities(info, ids, registry.ModelVersion)]

    @strawberry.field
    async def deployments(self, info: Info, first: First = None, after: After = None) -> list[DeploymentType]:
        ids = page_ids(self._found.deployment_ids, first, after)
        return [DeploymentType.of(d) for d in await _entities(info, ids, serving.Deployment)]

    @strawberry.field
    async def endpoints(self, info: Info, first: First = None, after: After = None) -> list[EndpointType]:
        ids = page_ids(self._found.endpoint_ids, first, after)
        return [EndpointType.of(e) for e in await _entities(info, ids, serving.Endpoint)]

    @classmethod
    def of(cls, found: lineage.Consumers) -> ConsumersType:
        return cls(
            run_count=len(found.run_ids),
            model_version_count=len(found.model_version_ids),
            deployment_count=len(found.deployment_ids),
            endpoint_count=len(found.endpoint_ids),
            _found=found,
        )


def _trace_picture(t: lineage.Trace) -> tuple[list[str], list[lineage.Edge]]:
    """The nodes and edges of a trace's picture: its lineage, and the inference and deployment on top."""
    nodes = [t.inference.id]
    edges = [lineage.Edge("PREDICTED_WITH", t.inference.id, t.model_version.id)]
    if t.deployment is not None:
        nodes.append(t.deployment.id)
        edges += [
            lineage.Edge("SERVED_BY", t.inference.id, t.deployment.id),
            lineage.Edge("OF", t.deployment.id, t.model_version.id),
        ]
    return [*nodes, t.model_version.id, *t.upstream_ids], edges + list(t.edges)


def _of_kind(ids: list[str], kind: Kind) -> list[str]:
    prefix = kind.value + ":"
    return [i for i in ids if i.startswith(prefix)]


def _edge_key(e: lineage.Edge) -> str:
    return f"{e.from_id}|{e.type}|{e.to_id}"


@strawberry.type(name="SearchHit", description="A node whose name or id matched, with its relevance.")
class SearchHitType:
    node: ProvenanceNode
    score: float


@strawberry.type
class ProvenanceQuery:
    @strawberry.field(
        description="Find any node by name or id: every word of `text` must start a word of its id, name, key, "
        "version, description or URI (so `sentim v2` finds modelVersion:sentiment:2). Best first; `kinds` "
        'filters by node type (e.g. ["ModelVersion", "Source"]).'
    )
    async def search(
        self, info: Info, text: str, kinds: list[str] | None = None, first: int | None = None
    ) -> list[SearchHitType]:
        hits = await info.context.services.search.search(text, kinds, first)
        return [SearchHitType(node=node_of(h.entity), score=h.score) for h in hits]

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
        prime(info.context.loaders, [trace.model_version])
        return TraceType.of(trace)

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
            _start=str(node_id),
            _page=page,
        )

    @strawberry.field(
        description="Everything derived from a source as of a time: what an exclusion would affect."
    )
    async def impact_report(
        self, info: Info, source_id: strawberry.ID, as_of: datetime | None = None, known_at: KnownAt = None
    ) -> ImpactReportType:
        report = await info.context.services.provenance.impact_report(source_id, as_of, known_at)
        return ImpactReportType.of(report)

    @strawberry.field(description="Every run, model version, deployment and endpoint that consumed the data.")
    async def consumers(self, info: Info, dataset_version_id: strawberry.ID) -> ConsumersType:
        return ConsumersType.of(await info.context.services.provenance.consumers(dataset_version_id))
