"""What a document is drawn from: a subgraph (for PROV) or a model version's whole provenance (for the
AI-BOMs and the dossier), read through the services as of a time and as known at a transaction time.

A document is not a hot path: gathering takes a handful of queries (lineage pages, registry events,
deployments, counts, exclusions), each one bounded by the service's node cap, and reports `is_partial`
when the cap cut the graph rather than drawing less than it says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from provgraph.domain.catalog import DatasetVersion, Slice, Source
from provgraph.domain.errors import InvalidArgument, NotFound
from provgraph.domain.exclusions import ExclusionCase
from provgraph.domain.lineage import Direction, Edge, Entity, ImpactReport
from provgraph.domain.registry import Model, ModelVersion, RegistryEvent
from provgraph.domain.runs import Run
from provgraph.domain.serving import Deployment
from provgraph.domain.time import utcnow
from provgraph.service import validate as v
from provgraph.service.audit import AuditReport, AuditService
from provgraph.service.exclusions import ExclusionService
from provgraph.service.provenance import ProvenanceService
from provgraph.service.registry import RegistryService, VersionState
from provgraph.service.serving import ServingService

E = TypeVar("E")


@dataclass(frozen=True)
class Subgraph:
    """Nodes (by id) and the edges among them: what one answer holds, ready to be drawn or exported."""

    title: str
    subject_id: str
    as_of: datetime
    known_at: datetime
    nodes: dict[str, Entity]
    edges: tuple[Edge, ...]
    is_partial: bool

    def of_type(self, cls: type[E]) -> list[E]:
        return [n for n in self.nodes.values() if isinstance(n, cls)]


@dataclass(frozen=True)
class ServedBy:
    deployment: Deployment
    inferences: int  # served up to as_of, as recorded by known_at


@dataclass(frozen=True)
class Exclusion:
    """An excluded source, its impact as of the document's date, and the case its exclusion opened (with
    the decisions taken up to that date); `case` is None for exclusions recorded before cases existed."""

    source: Source
    impact: ImpactReport
    case: ExclusionCase | None = None


@dataclass(frozen=True)
class ModelVersionProvenance:
    """Everything the graph holds about a model version as of a time: the version and its model, its
    stage and aliases then, its registry history (who, when, why), the audit verification of its model's
    chain, its whole upstream provenance (runs, data, sources, base models), its deployments with the
    inferences each served, and the excluded sources it depends on with their impact."""

    model_version: ModelVersion
    model: Model
    state: VersionState
    history: tuple[RegistryEvent, ...]
    audit: AuditReport
    upstream: Subgraph
    deployments: tuple[ServedBy, ...]
    exclusions: tuple[Exclusion, ...]

    @property
    def as_of(self) -> datetime:
        return self.upstream.as_of

    @property
    def known_at(self) -> datetime:
        return self.upstream.known_at

    @property
    def trained_by(self) -> Run | None:
        found = self.upstream.nodes.get(self.model_version.trained_by or "")
        return found if isinstance(found, Run) else None

    @property
    def base_model_version(self) -> ModelVersion | None:
        found = self.upstream.nodes.get(self.model_version.fine_tuned_from or "")
        return found if isinstance(found, ModelVersion) else None

    @property
    def runs(self) -> list[Run]:
        return sorted(self.upstream.of_type(Run), key=lambda r: r.id)

    @property
    def dataset_versions(self) -> list[DatasetVersion]:
        return sorted(self.upstream.of_type(DatasetVersion), key=lambda d: d.id)

    @property
    def slices(self) -> list[Slice]:
        return sorted(self.upstream.of_type(Slice), key=lambda s: s.id)

    @property
    def sources(self) -> list[Source]:
        return sorted(self.upstream.of_type(Source), key=lambda s: s.id)


class Gatherer:
    """Reads what documents are drawn from, through the services (their validation and limits apply)."""

    def __init__(
        self,
        provenance: ProvenanceService,
        registry: RegistryService,
        serving: ServingService,
        audit: AuditService,
        exclusions: ExclusionService,
        max_nodes: int,
    ) -> None:
        self.provenance = provenance
        self.registry = registry
        self.serving = serving
        self.audit = audit
        self.exclusions = exclusions
        self.max_nodes = max_nodes

    async def lineage(
        self,
        node_id: str,
        direction: Direction,
        depth: int | None,
        as_of: datetime | None,
        known_at: datetime | None,
    ) -> Subgraph:
        """Every node a lineage from `node_id` reaches (all its pages, up to the node cap), the start
        included, with the edges among them."""
        as_of, known_at = _times(as_of, known_at)
        nodes: dict[str, Entity] = {}
        edges: set[Edge] = set()
        after: str | None = None
        partial = False
        while True:
            page = await self.provenance.lineage(
                node_id, direction, depth, None, as_of, self.provenance.max_page_size, after, known_at
            )
            nodes.update((n.id, n) for n in page.nodes)
            edges.update(page.edges)
            partial = partial or page.is_partial
            if not page.has_next or page.end_cursor is None or len(nodes) >= self.max_nodes:
                partial = partial or page.has_next
                break
            after = page.end_cursor
        start = await self.provenance.entities_by_ids([node_id])
        nodes.update(start)
        kept = tuple(sorted(_among(edges, nodes), key=lambda e: (e.from_id, e.type, e.to_id)))
        title = f"{direction.value.lower()} lineage of {node_id}"
        return Subgraph(title, node_id, as_of, known_at, nodes, kept, partial)

    async def trace(self, inference_id: str) -> Subgraph:
        """An inference back to its deployment, model version, runs, data and sources."""
        trace = await self.provenance.trace_inference(inference_id)
        ids = [trace.inference.id, trace.model_version.id, *trace.upstream_ids]
        edges = [
            Edge("PREDICTED_WITH", trace.inference.id, trace.model_version.id, valid_from=trace.inference.at)
        ]
        if trace.deployment is not None:
            ids.append(trace.deployment.id)
            edges += [
                Edge("SERVED_BY", trace.inference.id, trace.deployment.id, valid_from=trace.inference.at),
                Edge(
                    "OF",
                    trace.deployment.id,
                    trace.model_version.id,
                    valid_from=trace.deployment.started_at,
                    recorded_at=trace.deployment.recorded.recorded_at,
                ),
            ]
        nodes = await self.provenance.entities_by_ids(ids)
        now = utcnow()
        return Subgraph(
            f"trace of {inference_id}", inference_id, now, now, nodes, (*edges, *trace.edges), False
        )

    async def impact(self, source_id: str, as_of: datetime | None, known_at: datetime | None) -> Subgraph:
        """Everything derived from a source as of a time: the impact report's nodes, with the edges that
        connect them (read as the source's downstream lineage)."""
        as_of, known_at = _times(as_of, known_at)
        report = await self.provenance.impact_report(source_id, as_of, known_at)
        downstream = await self.lineage(source_id, Direction.DOWNSTREAM, None, report.as_of, report.known_at)
        affected = {
            source_id,
            *report.dataset_version_ids,
            *report.slice_ids,
            *report.run_ids,
            *report.model_version_ids,
        }
        nodes = {i: n for i, n in downstream.nodes.items() if i in affected}
        missing = affected - nodes.keys()
        if missing:  # the report's cap and the lineage's cap differ; read what the lineage left out
            nodes.update(await self.provenance.entities_by_ids(sorted(missing)))
        edges = tuple(_among(downstream.edges, nodes))
        partial = report.is_partial or downstream.is_partial
        return Subgraph(
            f"impact of {source_id}", source_id, report.as_of, report.known_at, nodes, edges, partial
        )

    async def exclusion(
        self, case_id: str, as_of: datetime | None, known_at: datetime | None
    ) -> tuple[ExclusionCase, Subgraph]:
        """An exclusion case with the decisions taken by `as_of`, and its source's impact as of then."""
        as_of, known_at = _times(as_of, known_at)
        found = await self.exclusions.case(case_id)
        if not isinstance(found, ExclusionCase):  # an erasure case has no source, so no impact to draw
            raise InvalidArgument(f"{case_id!r} was not opened by a source's exclusion", field="id")
        case = _case_as_of(found, as_of, known_at)
        if case is None:
            raise NotFound(f"exclusion case {case_id!r} was not opened by {known_at.isoformat()}", field="id")
        if case.excluded_at > as_of:
            raise InvalidArgument(
                f"{case.source_id!r} was excluded at {case.excluded_at.isoformat()}, after asOf", field="asOf"
            )
        return case, await self.impact(case.source_id, as_of, known_at)

    async def model_version(
        self, version_id: str, as_of: datetime | None, known_at: datetime | None
    ) -> ModelVersionProvenance:
        as_of, known_at = _times(as_of, known_at)
        version = await self.registry.model_version(version_id)
        if version.recorded.recorded_at > known_at:
            raise NotFound(
                f"model version {version_id!r} was not recorded by {known_at.isoformat()}", field="id"
            )
        if version.created_at > as_of:
            raise InvalidArgument(
                f"model version {version_id!r} was created at {version.created_at.isoformat()}, after asOf",
                field="asOf",
            )
        model = await self.registry.model(version.model_id)
        state = await self.registry.state_at(version.id, as_of, known_at)
        events = (await self.registry.events_of_versions([version.id])).get(version.id, [])
        history = tuple(
            e for e in events if e.at <= as_of and (e.recorded_at is None or e.recorded_at <= known_at)
        )
        audit = await self.audit.verify(model=model.name)
        upstream = await self.lineage(version.id, Direction.UPSTREAM, None, as_of, known_at)
        deployments = [
            d.as_known(known_at)
            for d in (await self.serving.deployments_of_versions([version.id])).get(version.id, [])
            if d.recorded.recorded_at <= known_at and d.started_at <= as_of
        ]
        served = await self.serving.served_by_deployments([d.id for d in deployments], as_of, known_at)
        excluded = [
            s for s in upstream.of_type(Source) if s.excluded_at is not None and s.excluded_at <= as_of
        ]
        cases = await self.exclusions.cases_of_sources([s.id for s in excluded])
        exclusions = []
        for source in excluded:
            impact = await self.provenance.impact_report(source.id, as_of, known_at)
            exclusions.append(Exclusion(source, impact, _case_as_of(cases.get(source.id), as_of, known_at)))
        return ModelVersionProvenance(
            model_version=version,
            model=model,
            state=state,
            history=history,
            audit=audit,
            upstream=upstream,
            deployments=tuple(
                ServedBy(d, served.get(d.id, 0)) for d in sorted(deployments, key=lambda d: d.started_at)
            ),
            exclusions=tuple(sorted(exclusions, key=lambda x: x.source.id)),
        )


def _times(as_of: datetime | None, known_at: datetime | None) -> tuple[datetime, datetime]:
    """A document states both times it was drawn at, so that drawing it again with them gives the same
    document: without `knownAt`, what was recorded until now."""
    now = utcnow()
    return v.aware(as_of, "asOf") or now, v.aware(known_at, "knownAt") or now


def _case_as_of(case: ExclusionCase | None, as_of: datetime, known_at: datetime) -> ExclusionCase | None:
    """The case with the decisions taken by `as_of` and recorded by `known_at`; none if not yet opened."""
    if case is None or case.opened_at > known_at:
        return None
    decided = tuple(d for d in case.decisions if d.at <= as_of and d.recorded_at <= known_at)
    return replace(case, decisions=decided)


def _among(edges: Iterable[Edge], nodes: dict[str, Entity]) -> list[Edge]:
    return [e for e in edges if e.from_id in nodes and e.to_id in nodes]
