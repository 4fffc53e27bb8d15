"""Experiments and runs in Neo4j.

Parameters and metrics are stored as flat properties under `param.` and `metric.` prefixes, so a metric
can be filtered on in Cypher (`r['metric.' + $name] >= $min`) without decoding JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from provgraph.domain import facts
from provgraph.domain.errors import NotFound
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Stamp
from provgraph.domain.runs import (
    Code,
    Environment,
    Experiment,
    ExperimentSpec,
    InputRole,
    Run,
    RunCompletion,
    RunInput,
    RunKind,
    RunSpec,
    RunStatus,
)
from provgraph.store import fragments
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger, merge_and_record
from provgraph.store.paging import page_of, page_params
from provgraph.store.references import fields_of, require_existing
from provgraph.store.values import as_datetime, opt_datetime, opt_str, prefixed, recorded, stamp_params

PARAM = "param."
METRIC = "metric."

MERGE_EXPERIMENT = fragments.merge_by_id("Experiment")

# Register a run with its experiment (created on first mention) and inputs, only when new.
MERGE_RUN = (
    """
MERGE (r:Run {id: $id})
ON CREATE SET r += $props, r.recordedAt = $now, r.recordedBy = $actor, r.recordedIn = $writeId
WITH r, r.recordedIn = $writeId AS created
OPTIONAL CALL (r, created) {
  WITH * WHERE created AND $experimentId IS NOT NULL
  MERGE (e:Experiment {id: $experimentId})
  ON CREATE SET e.name = $experimentName, e.recordedAt = $now, e.recordedBy = $actor, e.recordedIn = $writeId
  CREATE (r)-[:PART_OF {validFrom: r.validFrom, recordedAt: $now}]->(e)
  RETURN CASE WHEN e.recordedIn = $writeId THEN """
    + fragments.node("e", "Experiment")
    + """ END AS newExperiment
}
WITH r, created, newExperiment
CALL (r, created) {
  WITH * WHERE created
  UNWIND $versionInputs AS input
  MATCH (v:DatasetVersion {id: input.id})
  CREATE (r)-[:USED {role: input.role, validFrom: r.validFrom, recordedAt: $now}]->(v)
}
CALL (r, created) {
  WITH * WHERE created
  UNWIND $sliceInputs AS input
  MATCH (s:Slice {id: input.id})
  CREATE (r)-[:USED {role: input.role, validFrom: r.validFrom, recordedAt: $now}]->(s)
}
RETURN """
    + fragments.run("r")
    + " AS node, created, newExperiment"
)

# Read a run for update: taking the node's write lock means two completions of one run
# serialise and the second sees the first's result.
RUN_FOR_UPDATE = (
    """
MATCH (r:Run {id: $id})
SET r._lock = true REMOVE r._lock
RETURN """
    + fragments.run("r")
    + " AS node"
)

COMPLETE_RUN = (
    """
MATCH (r:Run {id: $id})
SET r += $props, r.completedAt = $now, r.completedBy = $actor, r.completedMetrics = $metricKeys
RETURN """
    + fragments.run("r")
    + " AS node"
)

# Inputs reported after a run was registered (OpenLineage events add them over the run's life): each is
# linked once, with the run's lock held.
ADD_RUN_INPUTS = """
MATCH (r:Run {id: $id})
SET r._lock = true REMOVE r._lock
WITH r
CALL (r) {
  UNWIND $versionInputs AS input
  MATCH (v:DatasetVersion {id: input.id}) WHERE NOT EXISTS { (r)-[:USED]->(v) }
  CREATE (r)-[:USED {role: input.role, validFrom: r.validFrom, recordedAt: $now}]->(v)
  RETURN collect({id: v.id, role: input.role}) AS addedVersions
}
CALL (r) {
  UNWIND $sliceInputs AS input
  MATCH (s:Slice {id: input.id}) WHERE NOT EXISTS { (r)-[:USED]->(s) }
  CREATE (r)-[:USED {role: input.role, validFrom: r.validFrom, recordedAt: $now}]->(s)
  RETURN collect({id: s.id, role: input.role}) AS addedSlices
}
RETURN addedVersions + addedSlices AS added
"""

# Move a run's start earlier (an out-of-order START event): its time, and the validity of its own edges.
CORRECT_RUN_START = """
MATCH (r:Run {id: $id})
SET r._lock = true REMOVE r._lock
WITH r, r.startedAt AS previous
WHERE $startedAt < previous
SET r.startedAt = $startedAt, r.validFrom = $startedAt
WITH r, previous
CALL (r) {
  MATCH (r)-[u:USED|PART_OF]->()
  SET u.validFrom = $startedAt
}
RETURN previous
"""

RUNS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (r:Run {id: id})
RETURN """
    + fragments.run("r")
    + " AS node"
)

EXPERIMENTS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (e:Experiment {id: id})
RETURN """
    + fragments.node("e", "Experiment")
    + """ AS node
"""
)

# A page of runs ordered by id, optionally of one experiment.
LIST_RUNS = (
    """
CALL () {
  MATCH (r:Run)
  WHERE ($experimentId IS NULL OR r.experimentId = $experimentId) AND ($after IS NULL OR r.id > $after)
  WITH r ORDER BY r.id LIMIT $limit
  RETURN collect("""
    + fragments.run("r")
    + """) AS nodes
}
RETURN nodes, COUNT { MATCH (r:Run) WHERE $experimentId IS NULL OR r.experimentId = $experimentId } AS total
"""
)

LIST_EXPERIMENTS = fragments.page_by_id("Experiment")


def experiment_from(props: Mapping[str, Any]) -> Experiment:
    return Experiment(
        id=props["id"],
        name=props["name"],
        description=opt_str(props, "description"),
        recorded=recorded(props),
    )


def run_from(props: Mapping[str, Any]) -> Run:
    return Run(
        id=props["id"],
        key=props["key"],
        kind=RunKind(props["kind"]),
        experiment_id=opt_str(props, "experimentId"),
        status=RunStatus(props["status"]),
        started_at=as_datetime(props["startedAt"]),
        ended_at=opt_datetime(props.get("endedAt")),
        params={k: str(v) for k, v in prefixed(props, PARAM).items()},
        metrics={k: float(v) for k, v in prefixed(props, METRIC).items()},
        code=Code(
            repo=opt_str(props, "codeRepo"),
            commit=opt_str(props, "codeCommit"),
            entrypoint=opt_str(props, "codeEntrypoint"),
            dirty=props.get("codeDirty"),
        ),
        environment=Environment(
            image_digest=opt_str(props, "envImageDigest"),
            python=opt_str(props, "envPython"),
            framework=opt_str(props, "envFramework"),
            framework_version=opt_str(props, "envFrameworkVersion"),
            packages=tuple(props.get("envPackages") or ()),
        ),
        inputs=tuple(
            sorted(
                (RunInput(i["id"], InputRole(i["role"])) for i in props.get("inputs") or ()),
                key=lambda i: i.id,
            )
        ),
        output_ids=tuple(sorted(props.get("outputIds") or ())),
        recorded=recorded(props),
        parent=opt_str(props, "parentRunId"),
        completed_at=opt_datetime(props.get("completedAt")),
        completion_metrics=tuple(props.get("completedMetrics") or ()),
        error=opt_str(props, "error"),
    )


def _run_props(spec: RunSpec, experiment_id: str | None, started_at: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "key": spec.key,
        "kind": spec.kind.value,
        "experimentId": experiment_id,
        "status": spec.status.value,
        "startedAt": started_at,
        "validFrom": started_at,
        "endedAt": spec.ended_at,
        "codeRepo": spec.code.repo,
        "codeCommit": spec.code.commit,
        "codeEntrypoint": spec.code.entrypoint,
        "codeDirty": spec.code.dirty,
        "envImageDigest": spec.environment.image_digest,
        "envPython": spec.environment.python,
        "envFramework": spec.environment.framework,
        "envFrameworkVersion": spec.environment.framework_version,
        "envPackages": list(spec.environment.packages) or None,
        "parentRunId": spec.parent,
        "error": spec.error,
    }
    props.update({PARAM + k: v for k, v in spec.params.items()})
    props.update({METRIC + k: v for k, v in spec.metrics.items()})
    return props


class RunStore:
    """Persistence of experiments and runs."""

    def __init__(self, graph: Graph, ledger: Ledger) -> None:
        self.graph = graph
        self.ledger = ledger

    async def merge_experiment(self, spec: ExperimentSpec, stamp: Stamp) -> tuple[Experiment, bool]:
        props = {"name": spec.name, "description": spec.description}
        params = {"id": make_id(Kind.EXPERIMENT, spec.name), "props": props, **stamp_params(stamp)}
        return await merge_and_record(
            self.graph,
            self.ledger,
            MERGE_EXPERIMENT,
            params,
            stamp,
            experiment_from,
            facts.experiment_registered,
        )

    async def merge_run(self, spec: RunSpec, stamp: Stamp) -> tuple[Run, bool]:
        experiment_id = make_id(Kind.EXPERIMENT, spec.experiment) if spec.experiment else None
        versions = [i for i in spec.inputs if i.id.startswith(Kind.DATASET_VERSION.value + ":")]
        slices = [i for i in spec.inputs if i.id.startswith(Kind.SLICE.value + ":")]

        async def work(tx: Tx) -> tuple[Run, bool]:
            await require_existing(tx, fields_of(inputs=[i.id for i in spec.inputs]))
            result = await tx.run(
                MERGE_RUN,
                id=make_id(Kind.RUN, spec.key),
                props=_run_props(spec, experiment_id, spec.started_at or stamp.at),
                experimentId=experiment_id,
                experimentName=spec.experiment,
                versionInputs=[{"id": i.id, "role": i.role.value} for i in versions],
                sliceInputs=[{"id": i.id, "role": i.role.value} for i in slices],
                **stamp_params(stamp),
            )
            record = await result.single(strict=True)
            run, created = run_from(record["node"]), bool(record["created"])
            if created:
                new = [facts.run_registered(run)]
                if record["newExperiment"] is not None:  # first mentioned by this run
                    new.insert(0, facts.experiment_registered(experiment_from(record["newExperiment"])))
                await self.ledger.record(tx, stamp, new)
            return run, created

        return await self.graph.write(work)

    async def complete_run(
        self, completion: RunCompletion, stamp: Stamp, decide: Callable[[Run], bool]
    ) -> tuple[Run, bool]:
        """Record a run's end. `decide(current_run)` runs inside the transaction with the run locked: it
        returns whether to write, or raises to refuse (the service's rules); a refusal writes nothing."""

        async def work(tx: Tx) -> tuple[Run, bool]:
            result = await tx.run(RUN_FOR_UPDATE, id=completion.run_id)
            record = await result.single()
            if record is None:
                raise NotFound(f"run {completion.run_id!r} does not exist", field="runId")
            current = run_from(record["node"])
            if not decide(current):
                return current, False
            props: dict[str, Any] = {
                "status": completion.status.value,
                "endedAt": completion.ended_at or stamp.at,
                "error": completion.error,
            }
            props.update({METRIC + k: v for k, v in completion.metrics.items()})
            result = await tx.run(
                COMPLETE_RUN,
                id=completion.run_id,
                props=props,
                metricKeys=sorted(completion.metrics),
                **stamp_params(stamp),
            )
            completed = run_from((await result.single(strict=True))["node"])
            await self.ledger.record(tx, stamp, [facts.run_completed(completed)])
            return completed, True

        return await self.graph.write(work)

    async def add_run_inputs(self, run_id: str, inputs: Sequence[RunInput], stamp: Stamp) -> list[RunInput]:
        """Link inputs the run did not have yet; returns those linked (recorded in the runs ledger)."""
        versions = [{"id": i.id, "role": i.role.value} for i in inputs if i.id.startswith("datasetVersion:")]
        slices = [{"id": i.id, "role": i.role.value} for i in inputs if i.id.startswith("slice:")]

        async def work(tx: Tx) -> list[RunInput]:
            await require_existing(tx, fields_of(inputs=[i.id for i in inputs]))
            result = await tx.run(
                ADD_RUN_INPUTS, id=run_id, versionInputs=versions, sliceInputs=slices, now=stamp.now
            )
            record = await result.single()
            if record is None:
                raise NotFound(f"run {run_id!r} does not exist", field="runId")
            added = [RunInput(a["id"], InputRole(a["role"])) for a in record["added"]]
            if added:
                await self.ledger.record(tx, stamp, [facts.run_inputs_added(run_id, added)])
            return added

        return await self.graph.write(work)

    async def correct_run_start(self, run_id: str, started_at: datetime, stamp: Stamp) -> bool:
        """Move a run's start earlier; False when it already started at or before `started_at`."""

        async def work(tx: Tx) -> bool:
            record = await (await tx.run(CORRECT_RUN_START, id=run_id, startedAt=started_at)).single()
            if record is None:
                return False
            previous = as_datetime(record["previous"])
            await self.ledger.record(tx, stamp, [facts.run_start_corrected(run_id, started_at, previous)])
            return True

        return await self.graph.write(work)

    async def runs_by_ids(self, ids: Sequence[str]) -> dict[str, Run]:
        return await self.graph.nodes_by_id(RUNS_BY_IDS, ids, run_from)

    async def experiments_by_ids(self, ids: Sequence[str]) -> dict[str, Experiment]:
        return await self.graph.nodes_by_id(EXPERIMENTS_BY_IDS, ids, experiment_from)

    async def list_runs(self, experiment_id: str | None, page: PageRequest) -> Page[Run]:
        record = await self.graph.read_one(LIST_RUNS, {"experimentId": experiment_id, **page_params(page)})
        assert record is not None
        return page_of([run_from(n) for n in record["nodes"]], page, record["total"])

    async def list_experiments(self, page: PageRequest) -> Page[Experiment]:
        record = await self.graph.read_one(LIST_EXPERIMENTS, page_params(page))
        assert record is not None
        return page_of([experiment_from(n) for n in record["nodes"]], page, record["total"])
