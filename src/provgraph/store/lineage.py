"""The provenance questions, each answered by one Cypher statement.

Traversals use quantified path patterns with the time filter inlined on each relationship; asking for
DISTINCT end nodes lets the planner run a pruning breadth-first expansion, so the cost grows with the
number of nodes reached, not with the number of paths. `shortestPath` is never used. Hop bounds and labels
cannot be parameters: they are formatted from validated integers and the fixed label table, and each
variant is built once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from provgraph.domain.catalog import Source
from provgraph.domain.errors import NotFound
from provgraph.domain.ids import CASE_KINDS, Kind
from provgraph.domain.lineage import (
    CONTEXT_EDGES,
    PROVENANCE_EDGES,
    Comparison,
    Consumers,
    Direction,
    Entity,
    ImpactReport,
    LineagePage,
    LineageQuery,
    ProvenancePath,
    SourceUse,
    SourceUsePage,
    Trace,
    ValueChange,
    VersionAt,
)
from provgraph.domain.paging import encode_cursor
from provgraph.domain.registry import Stage
from provgraph.domain.runs import Run
from provgraph.domain.serving import Deployment
from provgraph.store import fragments, rollups
from provgraph.store.catalog import source_from
from provgraph.store.compaction import CompactionStore
from provgraph.store.entities import edge_from, entity_from
from provgraph.store.graph import Graph, Tx
from provgraph.store.registry import model_version_from
from provgraph.store.runs import run_from
from provgraph.store.serving import deployment_from, inference_from
from provgraph.store.values import opt_datetime

PROV = "|".join(PROVENANCE_EDGES)
ANY_EDGE = "|".join(PROVENANCE_EDGES + CONTEXT_EDGES)


# A timed traversal walks only edges that existed at `$asOf` (valid time) and that the service had
# recorded by `$knownAt` (transaction time): every edge is created with the thing it derives, and carries
# both times.
_TIMED = " WHERE r.validFrom <= $asOf AND r.recordedAt <= $knownAt"


def _up(types: str, depth: int | str, timed: bool = True) -> str:
    where = _TIMED if timed else ""
    return f"(()-[r:{types}{where}]->()){{1,{depth}}}"


def _down(types: str, depth: int | str, timed: bool = True) -> str:
    where = _TIMED if timed else ""
    return f"(()<-[r:{types}{where}]-()){{1,{depth}}}"


@cache
def models_using_source_query(depth: int) -> str:
    return f"""
MATCH (s:Source {{id: $sourceId}}) WHERE s.recordedAt <= $knownAt
CALL (s) {{
  MATCH (mv:ModelVersion) {_up(PROV, depth)} (s)
  WITH DISTINCT mv WHERE mv.validFrom <= $asOf AND mv.recordedAt <= $knownAt
  {fragments.stage_at("mv", "$asOf", "$knownAt")}
  WITH mv, stageAt WHERE $stage IS NULL OR stageAt = $stage
  WITH mv, stageAt ORDER BY mv.id
  RETURN collect({{mv: mv, stageAt: stageAt}}) AS matching
}}
WITH s, size(matching) AS total, [x IN matching WHERE $after IS NULL OR x.mv.id > $after][0..$limit] AS page
CALL (s, page) {{
  UNWIND page AS item
  WITH s, item.mv AS mv, item.stageAt AS stageAt
  CALL (mv) {{
    OPTIONAL MATCH (d:Deployment)-[:OF]->(mv)
    WHERE {fragments.live("d", "$asOf", "$knownAt")}
    RETURN collect({fragments.node("d", "Deployment")}) AS deployments
  }}
  CALL (mv, s) {{
    MATCH p = (mv) {_up(PROV, depth)} (s)
    WITH p LIMIT $maxPaths
    RETURN collect({{nodeIds: [n IN nodes(p) | n.id], edgeTypes: [e IN relationships(p) | type(e)]}}) AS paths
  }}
  RETURN collect({{node: {fragments.model_version("mv")}, stageAt: stageAt, deployments: deployments, paths: paths}})
    AS items
}}
RETURN total, items
"""


@cache
def trace_inference_query(depth: int) -> str:
    return _trace(
        depth,
        """
MATCH (i:Inference {id: $inferenceId})-[:PREDICTED_WITH]->(mv:ModelVersion)
OPTIONAL MATCH (i)-[:SERVED_BY]->(d:Deployment)""",
    )


@cache
def trace_cold_inference_query(depth: int) -> str:
    """The trace of an inference that has left the graph: the same answer, from its model version and
    deployment (the cold row names both)."""
    return _trace(
        depth,
        """
MATCH (mv:ModelVersion {id: $modelVersionId})
OPTIONAL MATCH (d:Deployment {id: $deploymentId})
WITH null AS i, mv, d""",
    )


def _trace(depth: int, start: str) -> str:
    return (
        start
        + f"""
CALL (mv) {{
  MATCH (mv) {_up(PROV, depth, timed=False)} (x)
  WITH DISTINCT x
  RETURN collect(x) AS upstream
}}
WITH i, d, mv, upstream, [mv] + upstream AS members
CALL (members) {{
  UNWIND members AS a
  MATCH (a)-[r:{PROV}]->(b)
  WHERE b IN members
  RETURN collect({fragments.edge("r")}) AS edges
}}
RETURN {fragments.node("i", "Inference")} AS inference, {fragments.node("d", "Deployment")} AS deployment,
       {fragments.model_version("mv")} AS modelVersion,
       COLLECT {{
         MATCH p = (mv) (()-[:FINE_TUNED_FROM]->()){{1,{depth}}} (base:ModelVersion)
         RETURN base.id ORDER BY length(p)
       }} AS fineTuneChain,
       [x IN upstream | x.id] AS upstream, edges
"""
    )


def _reach(direction: Direction, depth: int | str) -> str:
    up = f"MATCH (start) {_up(ANY_EDGE, depth)} (x) RETURN DISTINCT x"
    down = f"MATCH (start) {_down(ANY_EDGE, depth)} (x) RETURN DISTINCT x"
    if direction is Direction.UPSTREAM:
        return up
    if direction is Direction.DOWNSTREAM:
        return down
    return f"{up} UNION {down}"


def _attached_edges(direction: Direction) -> str:
    known = "r.validFrom <= $asOf AND r.recordedAt <= $knownAt"
    up = f"MATCH (y)-[r:{ANY_EDGE}]->(x) WHERE {known} AND (y = start OR y IN reach) RETURN r"
    down = f"MATCH (x)-[r:{ANY_EDGE}]->(y) WHERE {known} AND (y = start OR y IN reach) RETURN r"
    if direction is Direction.UPSTREAM:
        return up
    if direction is Direction.DOWNSTREAM:
        return down
    return f"{up} UNION {down}"


@cache
def lineage_query(label: str, direction: Direction, depth: int) -> str:
    return f"""
MATCH (start:{label} {{id: $nodeId}}) WHERE start.recordedAt <= $knownAt
CALL (start) {{
  CALL (start) {{ {_reach(direction, depth)} }}
  WITH x LIMIT $capPlusOne
  RETURN collect(x) AS reached
}}
CALL (start) {{
  CALL (start) {{ {_reach(direction, depth + 1)} }}
  WITH x LIMIT $capPlusOne
  RETURN count(x) AS reachedDeeper
}}
WITH start, reached[0..$cap] AS reach, size(reached) > $cap OR reachedDeeper > size(reached) AS isPartial
WITH start, reach, isPartial, [x IN reach WHERE $labels IS NULL OR labels(x)[0] IN $labels] AS matching
CALL (matching) {{
  UNWIND matching AS x
  WITH x WHERE $after IS NULL OR x.id > $after
  WITH x ORDER BY x.id LIMIT $limit
  RETURN collect(x) AS page
}}
WITH start, reach, isPartial, size(matching) AS total, page[0..$first] AS shown, size(page) > $first AS hasNext
CALL (start, reach, shown) {{
  UNWIND shown AS x
  CALL (start, reach, x) {{ {_attached_edges(direction)} }}
  RETURN collect(DISTINCT {fragments.edge("r")}) AS edges
}}
RETURN total, isPartial, hasNext, [x IN shown | {fragments.any_node("x")}] AS nodes, edges
"""


@cache
def impact_query(depth: int) -> str:
    return f"""
MATCH (s:Source {{id: $sourceId}}) WHERE s.recordedAt <= $knownAt
CALL (s) {{
  MATCH (s) {_down(PROV, depth)} (x)
  WITH DISTINCT x LIMIT $capPlusOne
  RETURN collect(x) AS affected
}}
WITH s, affected[0..$cap] AS affected, size(affected) > $cap AS isPartial
WITH s, isPartial,
     [x IN affected WHERE x:DatasetVersion | x.id] AS versions,
     [x IN affected WHERE x:Slice | x.id] AS slices,
     [x IN affected WHERE x:Run] AS runs,
     [x IN affected WHERE x:ModelVersion AND x.validFrom <= $asOf] AS modelVersions
CALL (modelVersions) {{
  UNWIND modelVersions AS mv
  WITH mv.id AS modelVersionId
  {rollups.counted("modelVersionId", "modelVersionId")}
  RETURN collect([modelVersionId, inferences]) AS inferenceCounts, collect(coldCuts) AS coldCuts
}}
RETURN {fragments.node("s", "Source")} AS source, isPartial, inferenceCounts, coldCuts, versions, slices,
       [r IN runs | r.id] AS runs,
       reduce(first = null, r IN runs | CASE WHEN first IS NULL OR r.startedAt < first THEN r.startedAt ELSE first END)
         AS firstUsedAt
"""


# What each affected model version was at a time (the page of an impact report's model versions).
AFFECTED_VERSIONS = (
    """
UNWIND $ids AS id
MATCH (mv:ModelVersion {id: id})
"""
    + fragments.stage_at("mv", "$asOf", "$knownAt")
    + """
CALL (mv) {
  OPTIONAL MATCH (d:Deployment)-[:OF]->(mv)
  WHERE """
    + fragments.live("d", "$asOf", "$knownAt")
    + """
  RETURN collect("""
    + fragments.node("d", "Deployment")
    + """) AS live
}
RETURN """
    + fragments.model_version("mv")
    + """ AS node, stageAt, live
"""
)


# Nodes of any kind by id, in one round trip (the pages of reports, traces and consumer lists): each id is
# looked up by its kind's label (its prefix) and that label's unique index. One list parameter, not one per
# kind: Neo4j caches a plan per parameter types, and an empty list is not typed as a list of strings, so
# one parameter per kind made every new mix of empty and non-empty kinds a fresh plan (~0.5 s, measured).
_KIND_BRANCHES = [
    f"UNWIND [i IN $ids WHERE i STARTS WITH '{kind.value}:'] AS id MATCH (x:{kind.label} {{id: id}}) RETURN x"
    for kind in Kind
    if kind not in CASE_KINDS
]
ENTITIES_BY_IDS = (
    "CALL () {\n  "
    + "\n  UNION ALL ".join(_KIND_BRANCHES)
    + "\n}\nRETURN "
    + fragments.any_node("x")
    + " AS node\n"
)


@cache
def consumers_query(label: str, depth: int) -> str:
    return f"""
MATCH (start:{label} {{id: $id}})
CALL (start) {{
  MATCH (start) {_down(PROV, depth, timed=False)} (x)
  WITH DISTINCT x
  RETURN collect(x) AS downstream
}}
WITH start, [x IN downstream WHERE x:Run] AS runs, [x IN downstream WHERE x:ModelVersion] AS modelVersions
CALL (modelVersions) {{
  UNWIND modelVersions AS mv
  MATCH (d:Deployment)-[:OF]->(mv)
  RETURN collect(DISTINCT d) AS deployments
}}
CALL (deployments) {{
  UNWIND deployments AS d
  MATCH (d)-[:ON]->(e:Endpoint)
  RETURN collect(DISTINCT e.id) AS endpoints
}}
RETURN [r IN runs | r.id] AS runs, [r IN runs WHERE EXISTS {{ (r)-[:USED]->(start) }} | r.id] AS directRuns,
       [mv IN modelVersions | mv.id] AS modelVersions, [d IN deployments | d.id] AS deployments, endpoints
"""


@cache
def compare_query(depth: int) -> str:
    return f"""
MATCH (a:ModelVersion {{id: $a}}), (b:ModelVersion {{id: $b}})
CALL (a) {{
  MATCH (a) {_up(PROV, depth, timed=False)} (x)
  WHERE x:DatasetVersion OR x:Slice OR x:Source
  WITH DISTINCT x
  RETURN collect(x.id) AS aData
}}
CALL (b) {{
  MATCH (b) {_up(PROV, depth, timed=False)} (y)
  WHERE y:DatasetVersion OR y:Slice OR y:Source
  WITH DISTINCT y
  RETURN collect(y.id) AS bData
}}
RETURN aData, bData,
       head([(a)-[:GENERATED_BY]->(r:Run) | {fragments.run("r")}]) AS aRun,
       head([(b)-[:GENERATED_BY]->(r:Run) | {fragments.run("r")}]) AS bRun
"""


def as_known(entity: Entity, known_at: datetime) -> Entity:
    """An entity as the service knew it at `known_at` (later ends, exclusions and completions undone)."""
    if isinstance(entity, Deployment | Source | Run):
        return entity.as_known(known_at)
    return entity


def _paths(raw: Sequence[Any]) -> list[ProvenancePath]:
    return [ProvenancePath(tuple(p["nodeIds"]), tuple(p["edgeTypes"])) for p in raw]


class LineageStore:
    """The signature provenance queries."""

    def __init__(self, graph: Graph, tiers: CompactionStore, max_nodes: int = 10_000) -> None:
        self.graph = graph
        self.tiers = tiers  # inferences that have left the graph: traces and the cold part of counts
        self.max_nodes = max_nodes

    async def models_using_source(
        self,
        source_id: str,
        stage: Stage | None,
        as_of: datetime,
        depth: int,
        first: int,
        after: str | None,
        max_paths: int,
        known_at: datetime,
    ) -> SourceUsePage:
        record = await self.graph.read_one(
            models_using_source_query(depth),
            {
                "sourceId": source_id,
                "stage": stage.value if stage else None,
                "asOf": as_of,
                "knownAt": known_at,
                "after": after,
                "limit": first + 1,
                "maxPaths": max_paths,
            },
        )
        if record is None:
            raise NotFound(f"source {source_id!r} does not exist", field="sourceId")
        items = [
            SourceUse(
                model_version=model_version_from(item["node"]),
                stage=Stage(item["stageAt"]),
                deployments=[deployment_from(d).as_known(known_at) for d in item["deployments"]],
                paths=_paths(item["paths"]),
            )
            for item in record["items"]
        ]
        shown = items[:first]
        return SourceUsePage(
            items=shown,
            total=int(record["total"]),
            has_next=len(items) > first,
            end_cursor=encode_cursor([shown[-1].model_version.id]) if shown else None,
        )

    async def trace_inference(self, inference_id: str, depth: int) -> Trace:
        """The trace of a hot inference, or else of a cold one (looked up after the graph said no, so an
        inference a compaction moves meanwhile is found in the cold tier, never missed)."""
        record = await self.graph.read_one(trace_inference_query(depth), {"inferenceId": inference_id})
        if record is not None:
            inference = inference_from(record["inference"])
        else:
            cold = (await self.tiers.cold_by_ids([inference_id])).get(inference_id)
            if cold is None:
                raise NotFound(f"inference {inference_id!r} does not exist", field="inferenceId")
            inference = cold
            record = await self.graph.read_one(
                trace_cold_inference_query(depth),
                {"modelVersionId": cold.model_version_id, "deploymentId": cold.deployment_id},
            )
            if record is None:
                raise NotFound(
                    f"inference {inference_id!r} names model version {cold.model_version_id!r}, which is gone",
                    field="inferenceId",
                )
        return Trace(
            inference=inference,
            deployment=deployment_from(record["deployment"]) if record["deployment"] else None,
            model_version=model_version_from(record["modelVersion"]),
            fine_tune_chain=list(record["fineTuneChain"]),
            upstream_ids=sorted(record["upstream"]),
            edges=sorted((edge_from(e) for e in record["edges"]), key=lambda e: (e.from_id, e.type, e.to_id)),
        )

    async def lineage(self, query: LineageQuery) -> LineagePage:
        kind = query.node_id.split(":", 1)[0]
        label = next(k.label for k in Kind if k.value == kind)
        record = await self.graph.read_one(
            lineage_query(label, query.direction, query.max_depth),
            {
                "nodeId": query.node_id,
                "asOf": query.as_of,
                "knownAt": query.known_at,
                "labels": list(query.kinds) if query.kinds else None,
                "after": query.after,
                "first": query.first,
                "limit": query.first + 1,
                "cap": self.max_nodes,
                "capPlusOne": self.max_nodes + 1,
            },
        )
        if record is None:
            raise NotFound(f"{query.node_id!r} does not exist", field="nodeId")
        nodes = [as_known(entity_from(n), query.known_at) for n in record["nodes"]]
        return LineagePage(
            nodes=nodes,
            edges=sorted((edge_from(e) for e in record["edges"]), key=lambda e: (e.from_id, e.type, e.to_id)),
            total=int(record["total"]),
            has_next=bool(record["hasNext"]),
            end_cursor=encode_cursor([nodes[-1].id]) if nodes else None,
            is_partial=bool(record["isPartial"]),
        )

    def _impact_params(self, source_id: str, as_of: datetime, known_at: datetime) -> dict[str, Any]:
        return {
            "sourceId": source_id,
            "asOf": as_of,
            "knownAt": known_at,
            "cap": self.max_nodes,
            "capPlusOne": self.max_nodes + 1,
        }

    async def impact_report(
        self, source_id: str, as_of: datetime, depth: int, known_at: datetime
    ) -> ImpactReport:
        record = await self.graph.read_one(
            impact_query(depth), self._impact_params(source_id, as_of, known_at)
        )
        return await self._with_cold(_impact_from(record, source_id, as_of, known_at), record)

    async def _with_cold(self, report: ImpactReport, record: Any) -> ImpactReport:
        cuts = {
            str(version_id): list(buckets)
            for (version_id, _), buckets in zip(record["inferenceCounts"], record["coldCuts"], strict=True)
            if buckets
        }
        if not cuts:
            return report
        counts = await self.tiers.with_cold_cuts(report.inference_counts, cuts, report.as_of, report.known_at)
        return replace(report, inference_counts=counts, inferences=sum(counts.values()))

    async def impact_report_in(
        self, tx: Tx, source_id: str, as_of: datetime, depth: int, known_at: datetime
    ) -> ImpactReport:
        """The impact report inside a write transaction: it sees what the transaction wrote (an exclusion
        case snapshots the impact of the exclusion it records)."""
        result = await tx.run(impact_query(depth), self._impact_params(source_id, as_of, known_at))
        record = await result.single()
        return await self._with_cold(_impact_from(record, source_id, as_of, known_at), record)

    async def affected_versions(
        self, ids: Sequence[str], as_of: datetime, known_at: datetime
    ) -> dict[str, VersionAt]:
        """What each model version was at `as_of` (as known at `known_at`): its stage and live deployments.
        (Its inference count comes with the report, which counted them once for its total.)"""
        records = await self.graph.read(
            AFFECTED_VERSIONS, {"ids": list(ids), "asOf": as_of, "knownAt": known_at}
        )
        found = {}
        for r in records:
            version = model_version_from(r["node"])
            found[version.id] = VersionAt(
                model_version=version,
                stage=Stage(r["stageAt"]),
                live_deployments=sorted(
                    (deployment_from(d).as_known(known_at) for d in r["live"]), key=lambda d: d.id
                ),
            )
        return found

    async def entities_by_ids(self, ids: Sequence[str]) -> dict[str, Entity]:
        """Nodes of any kind by id, in one round trip."""
        records = await self.graph.read(ENTITIES_BY_IDS, {"ids": list(ids)})
        return {record["node"]["id"]: entity_from(record["node"]) for record in records}

    async def consumers(self, data_id: str, depth: int) -> Consumers:
        label = Kind.SLICE.label if data_id.startswith(Kind.SLICE.value + ":") else Kind.DATASET_VERSION.label
        record = await self.graph.read_one(consumers_query(label, depth), {"id": data_id})
        if record is None:
            raise NotFound(f"{data_id!r} does not exist", field="datasetVersionId")
        return Consumers(
            run_ids=sorted(record["runs"]),
            direct_run_ids=frozenset(record["directRuns"]),
            model_version_ids=sorted(record["modelVersions"]),
            deployment_ids=sorted(record["deployments"]),
            endpoint_ids=sorted(record["endpoints"]),
        )

    async def compare(self, this_id: str, other_id: str, depth: int) -> Comparison:
        data = await self.graph.read_one(compare_query(depth), {"a": this_id, "b": other_id})
        if data is None:
            raise NotFound(f"{other_id!r} does not exist", field="other")
        runs = data
        here, there = set(data["aData"]), set(data["bData"])
        this_run = run_from(runs["aRun"]) if runs["aRun"] else None
        other_run = run_from(runs["bRun"]) if runs["bRun"] else None
        return Comparison(
            other_id=other_id,
            data_only_here=sorted(here - there),
            data_only_there=sorted(there - here),
            data_in_both=sorted(here & there),
            params=_diff(this_run.params if this_run else {}, other_run.params if other_run else {}),
            metrics=_diff(
                {k: str(v) for k, v in (this_run.metrics if this_run else {}).items()},
                {k: str(v) for k, v in (other_run.metrics if other_run else {}).items()},
            ),
            code=_diff(
                _fields(this_run.code if this_run else None), _fields(other_run.code if other_run else None)
            ),
            environment=_diff(
                _fields(this_run.environment if this_run else None),
                _fields(other_run.environment if other_run else None),
            ),
        )


def _fields(value: object | None) -> dict[str, str]:
    if value is None:
        return {}
    out: dict[str, str] = {}
    for key, item in vars(value).items():
        if item is None or item == ():
            continue
        camel = key.split("_")[0] + "".join(part.title() for part in key.split("_")[1:])
        out[camel] = ", ".join(item) if isinstance(item, tuple) else str(item)
    return out


def _diff(this: dict[str, str], other: dict[str, str]) -> list[ValueChange]:
    return [
        ValueChange(key=key, this=this.get(key), other=other.get(key))
        for key in sorted(set(this) | set(other))
        if this.get(key) != other.get(key)
    ]


def _impact_from(record: Any, source_id: str, as_of: datetime, known_at: datetime) -> ImpactReport:
    if record is None:
        raise NotFound(f"source {source_id!r} does not exist", field="sourceId")
    counts = {str(version_id): int(n) for version_id, n in record["inferenceCounts"]}
    return ImpactReport(
        source=source_from(record["source"]).as_known(known_at),
        as_of=as_of,
        known_at=known_at,
        dataset_version_ids=sorted(record["versions"]),
        slice_ids=sorted(record["slices"]),
        run_ids=sorted(record["runs"]),
        model_version_ids=sorted(counts),
        inference_counts=counts,
        first_used_at=opt_datetime(record["firstUsedAt"]),
        inferences=sum(counts.values()),
        is_partial=bool(record["isPartial"]),
    )
