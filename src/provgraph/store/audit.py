"""Reading back everything an audit verifies: the registry's event chains, the ledgers, and the facts the
graph holds now (to compare with what the ledgers recorded)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.exclusions import AnyCase
from provgraph.domain.registry import Model, ModelVersion, RegistryEvent
from provgraph.domain.runs import Experiment, InputRole, Run, RunInput
from provgraph.domain.serving import Deployment, Endpoint, Inference
from provgraph.store import fragments
from provgraph.store.catalog import dataset_from, dataset_version_from, slice_from, source_from
from provgraph.store.compaction import CompactionStore
from provgraph.store.events import registry_event_from
from provgraph.store.exclusions import case_from
from provgraph.store.graph import Graph
from provgraph.store.registry import model_from, model_version_from
from provgraph.store.runs import experiment_from, run_from
from provgraph.store.serving import deployment_from, endpoint_from, inference_from

T = TypeVar("T")

# Every event of every model (or of one), in chain order, with each model's recorded chain head.
CHAINS = (
    """
MATCH (m:Model) WHERE $modelId IS NULL OR m.id = $modelId
CALL (m) {
  OPTIONAL MATCH (e:RegistryEvent {modelId: m.id})
  WITH e ORDER BY e.seq
  RETURN collect("""
    + fragments.registry_event("e")
    + """) AS events
}
RETURN m.id AS modelId, m.eventSeq AS headSeq, m.lastEventHash AS headHash, events
ORDER BY m.id
"""
)

# Orphaned events: events whose model is gone (a deleted model leaves them, or leaves nothing at all —
# the checkpoint catches that).
ORPHAN_EVENTS = """
MATCH (e:RegistryEvent) WHERE NOT EXISTS { MATCH (:Model {id: e.modelId}) }
RETURN DISTINCT e.modelId AS modelId
"""

# The heads of every chain: models and ledgers (what a checkpoint records).
HEADS = """
CALL () {
  MATCH (m:Model)
  RETURN 'model:' + substring(m.id, 6) AS chain, coalesce(m.eventSeq, 0) AS seq, m.lastEventHash AS hash
  UNION ALL
  MATCH (l:Ledger)
  RETURN 'ledger:' + l.scope AS chain, l.seq AS seq, l.head AS hash
}
RETURN chain, seq, hash ORDER BY chain
"""

# The hash recorded at one position of a chain (checkpoint verification).
MODEL_EVENT_HASH = "MATCH (e:RegistryEvent {modelId: $modelId, seq: $seq}) RETURN e.hash AS hash"
LEDGER_ENTRY_HASH = "MATCH (x:LedgerEntry {scope: $scope, seq: $seq}) RETURN x.hash AS hash"


def _all(label: LiteralString, projection: LiteralString, edges: LiteralString = "") -> LiteralString:
    """Every node of a label, its id properties checked against the edges the queries follow (`edges`)."""
    return "MATCH (x:" + label + ") WITH x, " + projection + " AS p RETURN p {.*" + edges + "} AS node"


def _agreeing(key: LiteralString, target: LiteralString) -> LiteralString:
    """`, key: …` — the property if the edge points where it says, else a value that cannot match what was
    recorded: answers are served from the property in some places and from the edge in others, so editing
    either one must show up."""
    return (
        ", " + key + ": CASE WHEN x." + key + " = " + target + " OR (x." + key + " IS NULL AND " + target
        + " IS NULL) THEN x." + key
        + " ELSE coalesce(x." + key + ", 'none') + ' but the edge points to ' + coalesce(" + target + ", 'nothing') END"
    )  # fmt: skip


ALL_SOURCES = _all("Source", fragments.node("x", "Source"))
ALL_DATASETS = _all("Dataset", fragments.node("x", "Dataset"))
ALL_DATASET_VERSIONS = _all(
    "DatasetVersion",
    fragments.dataset_version("x"),
    _agreeing("datasetId", "head([(x)-[:VERSION_OF]->(d:Dataset) | d.id])"),
)
ALL_SLICES = _all("Slice", fragments.slice_("x"))
ALL_EXPERIMENTS = _all("Experiment", fragments.node("x", "Experiment"))
# Runs, with their inputs split by when they were linked: at registration, or added later (OpenLineage).
ALL_RUNS = _all(
    "Run",
    fragments.run("x"),
    _agreeing("experimentId", "head([(x)-[:PART_OF]->(e:Experiment) | e.id])")
    + ", registeredInputs: [(x)-[u:USED]->(i) WHERE u.recordedAt = x.recordedAt | {id: i.id, role: u.role}]"
    + ", addedInputs: [(x)-[u:USED]->(i) WHERE u.recordedAt > x.recordedAt | {id: i.id, role: u.role}]",
)
# Exclusion cases with their decisions; the case's source checked against its EXCLUDES edge, and each
# decision's model version against its ABOUT edge.
ALL_EXCLUSION_CASES = """
MATCH (c:ExclusionCase)
RETURN c {.*, excludedAt: toString(c.excludedAt), recordedAt: toString(c.recordedAt),
  sourceId: CASE WHEN EXISTS { (c)-[:EXCLUDES]->(:Source {id: c.sourceId}) }
            THEN c.sourceId ELSE c.sourceId + ' but the edge points elsewhere' END,
  decisions: [(d:ExclusionDecision)-[:DECIDED_IN]->(c) | d {.*, at: toString(d.at), recordedAt: toString(d.recordedAt),
    modelVersionId: CASE WHEN EXISTS { (d)-[:ABOUT]->(:ModelVersion {id: d.modelVersionId}) }
                    THEN d.modelVersionId ELSE d.modelVersionId + ' but the edge points elsewhere' END}]
} AS node
"""
ALL_OPENLINEAGE_EVENTS = """
MATCH (e:OpenLineageEvent)
RETURN e.id AS id, e.eventType AS eventType, e.eventTime AS eventTime, e.runId AS runId, e.body AS body
"""
ALL_MODELS = _all("Model", fragments.node("x", "Model"))
ALL_MODEL_VERSIONS = _all(
    "ModelVersion",
    fragments.model_version("x"),
    _agreeing("modelId", "head([(x)-[:VERSION_OF]->(m:Model) | m.id])"),
)
ALL_ENDPOINTS = _all("Endpoint", fragments.node("x", "Endpoint"))
ALL_DEPLOYMENTS = _all(
    "Deployment",
    fragments.node("x", "Deployment"),
    _agreeing("endpointId", "head([(x)-[:ON]->(e:Endpoint) | e.id])")
    + _agreeing("modelVersionId", "head([(x)-[:OF]->(m:ModelVersion) | m.id])"),
)
# Inferences by the write that recorded them (each write's batch digest is in the inferences ledger).
INFERENCES_BY_WRITE = (
    "MATCH (x:Inference) WITH x, "
    + fragments.node("x", "Inference")
    + " AS p RETURN x.recordedIn AS writeId, collect(p {.*"
    + _agreeing("modelVersionId", "head([(x)-[:PREDICTED_WITH]->(m:ModelVersion) | m.id])")
    + _agreeing("deploymentId", "head([(x)-[:SERVED_BY]->(d:Deployment) | d.id])")
    + "}) AS inferences"
)


@dataclass(frozen=True)
class GraphFacts:
    """Everything the graph holds now that the ledgers recorded."""

    sources: list[Source]
    datasets: list[Dataset]
    dataset_versions: list[DatasetVersion]
    slices: list[Slice]
    experiments: list[Experiment]
    runs: list[Run]
    models: list[Model]
    model_versions: list[ModelVersion]
    endpoints: list[Endpoint]
    deployments: list[Deployment]
    inferences_by_write: dict[str | None, list[Inference]]
    # Per run: the inputs linked when it was registered, and those added after.
    run_inputs: dict[str, tuple[tuple[RunInput, ...], tuple[RunInput, ...]]]
    openlineage_events: list[dict[str, Any]]
    exclusion_cases: list[AnyCase]  # both triggers: source exclusions and erasure requests


class AuditStore:
    def __init__(self, graph: Graph, tiers: CompactionStore) -> None:
        self.graph = graph
        self.tiers = tiers  # inferences that have left the graph are checked against their batches too

    async def chains(self, model_id: str | None) -> list[tuple[str, int, str | None, list[RegistryEvent]]]:
        records = await self.graph.read(CHAINS, {"modelId": model_id})
        return [
            (
                r["modelId"],
                int(r["headSeq"] or 0),
                r["headHash"],
                [registry_event_from(e) for e in r["events"]],
            )
            for r in records
        ]

    async def orphaned_chains(self) -> list[str]:
        return [str(r["modelId"]) for r in await self.graph.read(ORPHAN_EVENTS)]

    async def heads(self) -> list[tuple[str, int, str | None]]:
        return [(r["chain"], int(r["seq"] or 0), r["hash"]) for r in await self.graph.read(HEADS)]

    async def hash_at(self, chain: str, seq: int) -> str | None:
        """The hash stored at position `seq` of a chain (`model:<name>` or `ledger:<scope>`), if any."""
        kind, _, name = chain.partition(":")
        if kind == "model":
            record = await self.graph.read_one(MODEL_EVENT_HASH, {"modelId": f"model:{name}", "seq": seq})
        else:
            record = await self.graph.read_one(LEDGER_ENTRY_HASH, {"scope": name, "seq": seq})
        return None if record is None else record["hash"]

    async def facts(self) -> GraphFacts:
        async def every(query: LiteralString, convert: Callable[[Mapping[str, Any]], T]) -> list[T]:
            return [convert(r["node"]) for r in await self.graph.read(query)]

        run_inputs: dict[str, tuple[tuple[RunInput, ...], tuple[RunInput, ...]]] = {}

        def run_with_inputs(props: Mapping[str, Any]) -> Run:
            run = run_from(props)
            run_inputs[run.id] = (_inputs(props["registeredInputs"]), _inputs(props["addedInputs"]))
            return run

        inferences: dict[str | None, list[Inference]] = {}
        for record in await self.graph.read(INFERENCES_BY_WRITE):
            inferences[record["writeId"]] = [inference_from(i) for i in record["inferences"]]
        # A batch may be split between the tiers (its inferences' times straddled the hot window's edge).
        for write_id, cold in (await self.tiers.cold_by_write()).items():
            inferences.setdefault(write_id, []).extend(cold)
        return GraphFacts(
            sources=await every(ALL_SOURCES, source_from),
            datasets=await every(ALL_DATASETS, dataset_from),
            dataset_versions=await every(ALL_DATASET_VERSIONS, dataset_version_from),
            slices=await every(ALL_SLICES, slice_from),
            experiments=await every(ALL_EXPERIMENTS, experiment_from),
            runs=await every(ALL_RUNS, run_with_inputs),
            models=await every(ALL_MODELS, model_from),
            model_versions=await every(ALL_MODEL_VERSIONS, model_version_from),
            endpoints=await every(ALL_ENDPOINTS, endpoint_from),
            deployments=await every(ALL_DEPLOYMENTS, deployment_from),
            inferences_by_write=inferences,
            run_inputs=run_inputs,
            openlineage_events=[dict(r) for r in await self.graph.read(ALL_OPENLINEAGE_EVENTS)],
            exclusion_cases=await every(ALL_EXCLUSION_CASES, case_from),
        )


def _inputs(raw: list[Mapping[str, Any]]) -> tuple[RunInput, ...]:
    return tuple(sorted((RunInput(i["id"], InputRole(i["role"])) for i in raw), key=lambda i: i.id))
