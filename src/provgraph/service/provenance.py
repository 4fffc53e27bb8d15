"""The provenance questions auditors and ML teams ask, validated and bounded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind, kind_of_label
from provgraph.domain.lineage import (
    Comparison,
    Consumers,
    Direction,
    Entity,
    ImpactReport,
    LineagePage,
    LineageQuery,
    SourceUsePage,
    Trace,
    VersionAt,
)
from provgraph.domain.paging import PageRequest
from provgraph.domain.registry import Stage
from provgraph.domain.time import utcnow
from provgraph.service import validate as v
from provgraph.store.lineage import LineageStore

MAX_PATHS = 10


class ProvenanceService:
    """Parameters:
    store: the lineage statements.
    max_depth: the deepest traversal any query may ask for (and the default depth).
    """

    def __init__(self, store: LineageStore, max_depth: int, max_page_size: int) -> None:
        self.store = store
        self.max_depth = max_depth
        self.max_page_size = max_page_size

    async def models_using_source(
        self,
        source_id: str,
        stage: Stage | None,
        as_of: datetime | None,
        max_depth: int | None,
        first: int | None,
        after: str | None,
        max_paths: int,
        known_at: datetime | None = None,
    ) -> SourceUsePage:
        if not 0 <= max_paths <= MAX_PATHS:
            raise InvalidArgument(f"maxPaths must be between 0 and {MAX_PATHS}", field="maxPaths")
        page = PageRequest.of(first, after, max_size=self.max_page_size)
        return await self.store.models_using_source(
            v.one_id(source_id, "sourceId", Kind.SOURCE),
            stage,
            v.aware(as_of, "asOf") or utcnow(),
            v.depth(max_depth, self.max_depth),
            page.first,
            _single_key(page),
            max_paths,
            v.known_at(known_at),
        )

    async def trace_inference(self, inference_id: str) -> Trace:
        return await self.store.trace_inference(
            v.one_id(inference_id, "inferenceId", Kind.INFERENCE), self.max_depth
        )

    async def lineage(
        self,
        node_id: str,
        direction: Direction,
        max_depth: int | None,
        types: list[str] | None,
        as_of: datetime | None,
        first: int | None,
        after: str | None,
        known_at: datetime | None = None,
    ) -> LineagePage:
        page = PageRequest.of(first, after, max_size=self.max_page_size)
        kinds = None
        if types:
            for label in types:
                try:
                    kind_of_label(label)
                except KeyError:
                    raise InvalidArgument(
                        f"types holds {label!r}, which is not a node type", field="types"
                    ) from None
            kinds = tuple(types)
        return await self.store.lineage(
            LineageQuery(
                node_id=v.one_id(node_id, "nodeId"),
                direction=direction,
                max_depth=v.depth(max_depth, self.max_depth),
                kinds=kinds,
                as_of=v.aware(as_of, "asOf") or utcnow(),
                first=page.first,
                after=_single_key(page),
                known_at=v.known_at(known_at),
            )
        )

    async def impact_report(
        self, source_id: str, as_of: datetime | None, known_at: datetime | None = None
    ) -> ImpactReport:
        return await self.store.impact_report(
            v.one_id(source_id, "sourceId", Kind.SOURCE),
            v.aware(as_of, "asOf") or utcnow(),
            self.max_depth,
            v.known_at(known_at),
        )

    async def affected_versions(
        self, keys: Sequence[tuple[str, datetime, datetime]]
    ) -> dict[tuple[str, datetime, datetime], VersionAt]:
        """What each (model version, asOf, knownAt) was then: one query per distinct time pair."""
        found: dict[tuple[str, datetime, datetime], VersionAt] = {}
        for (as_of, known_at), ids in _group_by_times(keys).items():
            for version_id, affected in (await self.store.affected_versions(ids, as_of, known_at)).items():
                found[(version_id, as_of, known_at)] = affected
        return found

    async def entities_by_ids(self, ids: Sequence[str]) -> dict[str, Entity]:
        return await self.store.entities_by_ids(ids)

    async def consumers(self, data_id: str) -> Consumers:
        checked = v.one_id(data_id, "datasetVersionId", Kind.DATASET_VERSION, Kind.SLICE)
        return await self.store.consumers(checked, self.max_depth)

    async def compare(self, this_id: str, other_id: str) -> Comparison:
        return await self.store.compare(
            v.one_id(this_id, "id", Kind.MODEL_VERSION),
            v.one_id(other_id, "other", Kind.MODEL_VERSION),
            self.max_depth,
        )


def _group_by_times(
    keys: Sequence[tuple[str, datetime, datetime]],
) -> dict[tuple[datetime, datetime], list[str]]:
    groups: dict[tuple[datetime, datetime], list[str]] = {}
    for version_id, as_of, known_at in keys:
        groups.setdefault((as_of, known_at), []).append(version_id)
    return groups


def _single_key(page: PageRequest) -> str | None:
    if page.after is None:
        return None
    if len(page.after) != 1 or not isinstance(page.after[0], str):
        raise InvalidArgument("after is not a cursor of this listing", field="after")
    return page.after[0]
