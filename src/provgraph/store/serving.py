"""Endpoints, deployments (intervals on endpoints) and inferences in Neo4j."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from neo4j import Record

from provgraph.domain import facts
from provgraph.domain.errors import NotFound
from provgraph.domain.facts import Fact
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.records import Recorded, Stamp
from provgraph.domain.serving import (
    BatchOutcome,
    Deployment,
    DeploymentSpec,
    Endpoint,
    EndpointSpec,
    Inference,
    InferenceSpec,
    Rejection,
)
from provgraph.store import fragments, rollups
from provgraph.store.compaction import CompactionStore
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger, merge_and_record
from provgraph.store.references import fields_of, require_existing
from provgraph.store.values import as_datetime, opt_datetime, opt_str, recorded, stamp_params

MERGE_ENDPOINT = fragments.merge_by_id("Endpoint")

# Lock the endpoint and read what a new deployment must be checked against: the deployment with the same
# key if there is one, every deployment on the endpoint that overlaps the new interval, and when the model
# version came to exist.
PREPARE_DEPLOYMENT = (
    """
MATCH (e:Endpoint {id: $endpointId})
SET e._lock = true REMOVE e._lock
WITH e
MATCH (mv:ModelVersion {id: $versionId})
OPTIONAL MATCH (same:Deployment {endpointId: $endpointId, modelVersionId: $versionId, startedAt: $startedAt})
CALL (e) {
  OPTIONAL MATCH (e)<-[:ON]-(d:Deployment)
  WHERE ($endedAt IS NULL OR d.startedAt < $endedAt) AND (d.endedAt IS NULL OR d.endedAt > $startedAt)
  RETURN collect("""
    + fragments.node("d", "Deployment")
    + """) AS overlapping
}
RETURN e.deploymentSeq AS seq, """
    + fragments.node("same", "Deployment")
    + """ AS same, overlapping, mv.createdAt AS versionCreatedAt
"""
)

CREATE_DEPLOYMENT = (
    """
MATCH (e:Endpoint {id: $endpointId}), (mv:ModelVersion {id: $versionId})
SET e.deploymentSeq = $seq
CREATE (d:Deployment)
SET d = $props, d.id = $id, d.recordedAt = $now, d.recordedBy = $actor, d.recordedIn = $writeId
SET d.endRecordedAt = CASE WHEN d.endedAt IS NULL THEN null ELSE $now END,
    d.endRecordedBy = CASE WHEN d.endedAt IS NULL THEN null ELSE $actor END
CREATE (d)-[:OF {validFrom: d.validFrom, recordedAt: $now}]->(mv)
CREATE (d)-[:ON {validFrom: d.validFrom, recordedAt: $now}]->(e)
RETURN """
    + fragments.node("d", "Deployment")
    + """ AS node
"""
)

LOCK_DEPLOYMENT = (
    """
MATCH (d:Deployment {id: $id})
SET d._lock = true REMOVE d._lock
RETURN """
    + fragments.node("d", "Deployment")
    + """ AS node
"""
)

END_DEPLOYMENT = (
    """
MATCH (d:Deployment {id: $id})
SET d.endedAt = $endedAt, d.endReason = $reason, d.endRecordedAt = $now, d.endRecordedBy = $actor
RETURN """
    + fragments.node("d", "Deployment")
    + """ AS node
"""
)

ENDPOINTS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (e:Endpoint {id: id})
RETURN """
    + fragments.node("e", "Endpoint")
    + """ AS node
"""
)

DEPLOYMENTS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (d:Deployment {id: id})
RETURN """
    + fragments.node("d", "Deployment")
    + """ AS node
"""
)

DEPLOYMENTS_OF_VERSIONS = (
    """
UNWIND $ids AS id
MATCH (mv:ModelVersion {id: id})
RETURN id, [(d:Deployment)-[:OF]->(mv) | """
    + fragments.node("d", "Deployment")
    + """] AS deployments
"""
)

DEPLOYMENTS_OF_ENDPOINTS = (
    """
UNWIND $ids AS id
MATCH (e:Endpoint {id: id})
RETURN id, [(d:Deployment)-[:ON]->(e) | """
    + fragments.node("d", "Deployment")
    + """] AS deployments
"""
)

# What an endpoint served at a time, as known at a transaction time.
DEPLOYED_AT = (
    """
MATCH (e:Endpoint {id: $endpointId})
CALL (e) {
  OPTIONAL MATCH (e)<-[:ON]-(d:Deployment)
  WHERE """
    + fragments.live("d", "$at", "$knownAt")
    + """
  RETURN collect("""
    + fragments.node("d", "Deployment")
    + """) AS live
}
RETURN live
"""
)

# Counted from the hourly rollups (store/rollups.py), so a count costs the same at any traffic.
INFERENCE_COUNTS = """
UNWIND $ids AS id
MATCH (mv:ModelVersion {id: id})
CALL (id) {
  OPTIONAL MATCH (b:InferenceRollup {modelVersionId: id})
  RETURN coalesce(sum(b.n), 0) AS n
}
RETURN id, n
"""

# What each deployment served up to a time, as known at a transaction time (documents, dossiers).
DEPLOYMENT_INFERENCE_COUNTS = (
    """
UNWIND $ids AS id
MATCH (d:Deployment {id: id})
"""
    + rollups.counted("deploymentId", "id")
    + """
RETURN id, inferences AS n, coldCuts
"""
)

INFERENCES_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (i:Inference {id: id})
RETURN """
    + fragments.node("i", "Inference")
    + """ AS node
"""
)

# Log a batch of inferences in one transaction. Each row resolves its model version directly or through
# the deployment live on its endpoint at its time; rows that cannot be resolved are reported, not
# written, while the rest land. A row whose id exists with the same facts is a harmless retry.
LOG_INFERENCES = (
    """
UNWIND $rows AS row
OPTIONAL CALL (row) {
  MATCH (mv:ModelVersion {id: row.modelVersionId})
  RETURN mv
}
OPTIONAL CALL (row) {
  MATCH (e:Endpoint {id: row.endpointId})
  RETURN e
}
CALL (row, e, mv) {
  OPTIONAL MATCH (e)<-[:ON]-(d:Deployment)
  WHERE """
    + fragments.live("d", "row.at")
    + """ AND (mv IS NULL OR d.modelVersionId = mv.id)
  RETURN collect(d) AS live
}
WITH row, mv, e, live,
  CASE
    WHEN row.modelVersionId IS NOT NULL AND mv IS NULL THEN 'NOT_FOUND|modelVersionId'
    WHEN row.endpointId IS NOT NULL AND e IS NULL THEN 'NOT_FOUND|endpoint'
    WHEN e IS NOT NULL AND size(live) = 0 THEN 'NO_LIVE_DEPLOYMENT|endpoint'
    WHEN e IS NOT NULL AND mv IS NULL AND size(live) > 1 THEN 'AMBIGUOUS_DEPLOYMENT|endpoint'
    WHEN mv IS NOT NULL AND mv.validFrom > row.at THEN 'BEFORE_VERSION|at'
  END AS problem
OPTIONAL CALL (row, mv, live, problem) {
  WITH row, head(live) AS d, mv WHERE problem IS NULL
  WITH row, d, coalesce(mv, head([(d)-[:OF]->(x:ModelVersion) | x])) AS model
  MERGE (i:Inference {id: row.id})
  ON CREATE SET i.at = row.at, i.validFrom = row.at, i.modelVersionId = model.id, i.deploymentId = d.id,
                i.inputDigest = row.inputDigest, i.outputDigest = row.outputDigest, i.latencyMs = row.latencyMs,
                i.recordedAt = $now, i.recordedBy = $actor, i.recordedIn = $writeId
  WITH row, i, d, model, i.recordedIn = $writeId AS created
  CALL (i, model, created) {
    WITH * WHERE created
    CREATE (i)-[:PREDICTED_WITH {validFrom: i.at, recordedAt: $now}]->(model)
  }
  CALL (i, d, created) {
    WITH * WHERE created AND d IS NOT NULL
    CREATE (i)-[:SERVED_BY {validFrom: i.at, recordedAt: $now}]->(d)
  }
  RETURN CASE
    WHEN created THEN 'CREATED'
    WHEN i.modelVersionId = model.id AND i.at = row.at AND coalesce(i.deploymentId, '') = coalesce(d.id, '')
      THEN 'DUPLICATE'
    ELSE 'CONFLICT|id'
  END AS outcome, model.id AS modelId, d.id AS deploymentId
}
WITH row, coalesce(problem, outcome) AS status, modelId, deploymentId
WITH sum(CASE status WHEN 'CREATED' THEN 1 ELSE 0 END) AS created,
     sum(CASE status WHEN 'DUPLICATE' THEN 1 ELSE 0 END) AS duplicates,
     collect(CASE WHEN NOT status IN ['CREATED', 'DUPLICATE'] THEN {index: row.index, id: row.id, status: status} END)
       AS rejected,
     collect(CASE WHEN status = 'CREATED' THEN [row.index, modelId, deploymentId] END) AS landed,
     collect(CASE WHEN status = 'CREATED' THEN [modelId, deploymentId, row.at] END) AS served
"""
    + rollups.maintained()
    + """
RETURN created, duplicates, rejected, landed
"""
)

REJECTION_TEXT = {
    "NOT_FOUND|modelVersionId": ("NOT_FOUND", "model version {mv} does not exist"),
    "NOT_FOUND|endpoint": ("NOT_FOUND", "endpoint {ep} does not exist"),
    "NO_LIVE_DEPLOYMENT|endpoint": ("FAILED_PRECONDITION", "no deployment{of} was live on {ep} at {at}"),
    "AMBIGUOUS_DEPLOYMENT|endpoint": (
        "FAILED_PRECONDITION",
        "several deployments were live on {ep} at {at}; name the modelVersionId",
    ),
    "BEFORE_VERSION|at": ("FAILED_PRECONDITION", "{mv} did not exist yet at {at}"),
    "CONFLICT|id": ("CONFLICT", "inference {id} is already recorded with different facts"),
}


def endpoint_from(props: Mapping[str, Any]) -> Endpoint:
    return Endpoint(
        id=props["id"],
        name=props["name"],
        environment=props["environment"],
        description=opt_str(props, "description"),
        recorded=recorded(props),
    )


def deployment_from(props: Mapping[str, Any]) -> Deployment:
    return Deployment(
        id=props["id"],
        endpoint_id=props["endpointId"],
        model_version_id=props["modelVersionId"],
        started_at=as_datetime(props["startedAt"]),
        ended_at=opt_datetime(props.get("endedAt")),
        traffic_share=float(props["trafficShare"]),
        reason=opt_str(props, "reason"),
        end_reason=opt_str(props, "endReason"),
        recorded=recorded(props),
        end_recorded_at=opt_datetime(props.get("endRecordedAt")),
    )


def inference_from(props: Mapping[str, Any]) -> Inference:
    latency = props.get("latencyMs")
    return Inference(
        id=props["id"],
        at=as_datetime(props["at"]),
        model_version_id=props["modelVersionId"],
        deployment_id=opt_str(props, "deploymentId"),
        input_digest=opt_str(props, "inputDigest"),
        output_digest=opt_str(props, "outputDigest"),
        latency_ms=None if latency is None else float(latency),
        recorded=recorded(props),
    )


# decide(same_key, overlapping, version_created_at) -> the deployment to answer with (a repeat), or None to
# create the new one; raising refuses.
def _batch_fact(specs: Sequence[InferenceSpec], landed: list[list[Any]], stamp: Stamp) -> Fact:
    created = []
    for index, model_id, deployment_id in landed:
        spec = specs[index]
        created.append(
            Inference(
                id=make_id(Kind.INFERENCE, spec.key),
                at=spec.at,
                model_version_id=model_id,
                deployment_id=deployment_id,
                input_digest=spec.input_digest,
                output_digest=spec.output_digest,
                latency_ms=spec.latency_ms,
                recorded=Recorded(stamp.now, stamp.actor),
            )
        )
    return facts.inferences_logged(stamp.write_id, created)


DeploymentCheck = Callable[[Deployment | None, list[Deployment], datetime], Deployment | None]


class ServingStore:
    """Persistence of endpoints, deployments and inferences."""

    def __init__(self, graph: Graph, ledger: Ledger, tiers: CompactionStore) -> None:
        self.graph = graph
        self.ledger = ledger
        self.tiers = tiers  # inferences older than the hot window live in the cold tier

    async def merge_endpoint(self, spec: EndpointSpec, stamp: Stamp) -> tuple[Endpoint, bool]:
        props = {
            "name": spec.name,
            "environment": spec.environment,
            "description": spec.description,
            "deploymentSeq": 0,
        }
        params = {"id": make_id(Kind.ENDPOINT, spec.name), "props": props, **stamp_params(stamp)}
        return await merge_and_record(
            self.graph, self.ledger, MERGE_ENDPOINT, params, stamp, endpoint_from, facts.endpoint_registered
        )

    async def create_deployment(
        self, spec: DeploymentSpec, started_at: datetime, stamp: Stamp, decide: DeploymentCheck
    ) -> tuple[Deployment, bool]:
        """Create a deployment. `decide(same_key, overlapping, version_created_at)` runs with the endpoint
        locked (so concurrent deployments on one endpoint are checked one after the other): it returns an
        existing deployment to answer with (a repeat), None to create, or raises to refuse."""
        endpoint_id = make_id(Kind.ENDPOINT, spec.endpoint)

        async def work(tx: Tx) -> tuple[Deployment, bool]:
            await require_existing(tx, fields_of(endpoint=endpoint_id, modelVersionId=spec.model_version_id))
            state = await (
                await tx.run(
                    PREPARE_DEPLOYMENT,
                    endpointId=endpoint_id,
                    versionId=spec.model_version_id,
                    startedAt=started_at,
                    endedAt=spec.ended_at,
                )
            ).single(strict=True)
            same = deployment_from(state["same"]) if state["same"] else None
            overlapping = [deployment_from(d) for d in state["overlapping"]]
            repeat = decide(same, overlapping, as_datetime(state["versionCreatedAt"]))
            if repeat is not None:
                return repeat, False
            seq = int(state["seq"]) + 1
            props = {
                "endpointId": endpoint_id,
                "modelVersionId": spec.model_version_id,
                "startedAt": started_at,
                "validFrom": started_at,
                "trafficShare": spec.traffic_share,
                "reason": spec.reason,
                "endedAt": spec.ended_at,
                "endReason": spec.end_reason,
            }
            result = await tx.run(
                CREATE_DEPLOYMENT,
                endpointId=endpoint_id,
                versionId=spec.model_version_id,
                seq=seq,
                id=make_id(Kind.DEPLOYMENT, spec.endpoint, seq),
                props={k: v for k, v in props.items() if v is not None},
                **stamp_params(stamp),
            )
            deployment = deployment_from((await result.single(strict=True))["node"])
            await self.ledger.record(tx, stamp, [facts.deployment_started(deployment)])
            return deployment, True

        return await self.graph.write(work)

    async def end_deployment(
        self,
        deployment_id: str,
        ended_at: datetime,
        reason: str | None,
        stamp: Stamp,
        decide: Callable[[Deployment], bool],
    ) -> tuple[Deployment, bool]:
        """End a deployment. `decide(current)` runs with it locked: False answers with it as it is (a
        repeat), raising refuses. Returns the deployment and whether this call ended it."""

        async def work(tx: Tx) -> tuple[Deployment, bool]:
            record = await (await tx.run(LOCK_DEPLOYMENT, id=deployment_id)).single()
            if record is None:
                raise NotFound(f"deployment {deployment_id!r} does not exist", field="deploymentId")
            current = deployment_from(record["node"])
            if not decide(current):
                return current, False
            result = await tx.run(
                END_DEPLOYMENT, id=deployment_id, endedAt=ended_at, reason=reason, **stamp_params(stamp)
            )
            ended = deployment_from((await result.single(strict=True))["node"])
            await self.ledger.record(tx, stamp, [facts.deployment_ended(ended)])
            return ended, True

        return await self.graph.write(work)

    async def deployed_at(
        self, endpoint_id: str, at: datetime, known_at: datetime
    ) -> list[Deployment] | None:
        record = await self.graph.read_one(
            DEPLOYED_AT, {"endpointId": endpoint_id, "at": at, "knownAt": known_at}
        )
        if record is None:
            return None
        return sorted((deployment_from(d).as_known(known_at) for d in record["live"]), key=lambda d: d.id)

    async def log_inferences(self, specs: Sequence[InferenceSpec], stamp: Stamp) -> BatchOutcome:
        rows = [
            {
                "index": index,
                "id": make_id(Kind.INFERENCE, spec.key),
                "at": spec.at,
                "modelVersionId": spec.model_version_id,
                "endpointId": make_id(Kind.ENDPOINT, spec.endpoint) if spec.endpoint else None,
                "inputDigest": spec.input_digest,
                "outputDigest": spec.output_digest,
                "latencyMs": spec.latency_ms,
            }
            for index, spec in enumerate(specs)
        ]

        async def work(tx: Tx) -> Record:
            record = await (await tx.run(LOG_INFERENCES, rows=rows, **stamp_params(stamp))).single(
                strict=True
            )
            if record["landed"]:
                # One ledger entry per batch: a digest over what this write created (see domain.facts).
                await self.ledger.record(tx, stamp, [_batch_fact(specs, record["landed"], stamp)])
            return record

        record = await self.graph.write(work)
        rejected = []
        for item in sorted(record["rejected"], key=lambda r: r["index"]):
            spec = specs[item["index"]]
            code, template = REJECTION_TEXT[item["status"]]
            reason = template.format(
                mv=spec.model_version_id,
                ep=spec.endpoint,
                at=spec.at.isoformat(),
                id=spec.key,
                of=f" of {spec.model_version_id}" if spec.model_version_id else "",
            )
            field = item["status"].split("|")[1]
            rejected.append(
                Rejection(index=item["index"], key=spec.key, code=code, reason=reason, field=field)
            )
        return BatchOutcome(
            accepted=int(record["created"]), duplicates=int(record["duplicates"]), rejected=tuple(rejected)
        )

    async def endpoints_by_ids(self, ids: Sequence[str]) -> dict[str, Endpoint]:
        return await self.graph.nodes_by_id(ENDPOINTS_BY_IDS, ids, endpoint_from)

    async def deployments_by_ids(self, ids: Sequence[str]) -> dict[str, Deployment]:
        return await self.graph.nodes_by_id(DEPLOYMENTS_BY_IDS, ids, deployment_from)

    async def deployments_of_versions(self, ids: Sequence[str]) -> dict[str, list[Deployment]]:
        records = await self.graph.read(DEPLOYMENTS_OF_VERSIONS, {"ids": list(ids)})
        return {
            r["id"]: sorted((deployment_from(d) for d in r["deployments"]), key=lambda d: d.started_at)
            for r in records
        }

    async def deployments_of_endpoints(self, ids: Sequence[str]) -> dict[str, list[Deployment]]:
        records = await self.graph.read(DEPLOYMENTS_OF_ENDPOINTS, {"ids": list(ids)})
        return {
            r["id"]: sorted((deployment_from(d) for d in r["deployments"]), key=lambda d: d.started_at)
            for r in records
        }

    async def inference_counts(self, ids: Sequence[str]) -> dict[str, int]:
        records = await self.graph.read(INFERENCE_COUNTS, {"ids": list(ids)})
        return {r["id"]: int(r["n"]) for r in records}

    async def served_by_deployments(
        self, ids: Sequence[str], as_of: datetime, known_at: datetime
    ) -> dict[str, int]:
        """Inferences each deployment served up to `as_of`, as recorded by `known_at`."""
        records = await self.graph.read(
            DEPLOYMENT_INFERENCE_COUNTS, {"ids": list(ids), "asOf": as_of, "knownAt": known_at}
        )
        counts = {r["id"]: int(r["n"]) for r in records}
        cuts = {r["id"]: list(r["coldCuts"]) for r in records if r["coldCuts"]}
        return await self.tiers.with_cold_cuts(counts, cuts, as_of, known_at)

    async def inferences_by_ids(self, ids: Sequence[str]) -> dict[str, Inference]:
        """Inferences from either tier: the graph first, then the cold tier for the rest (in that order,
        so one a compaction moves in between is found in the cold tier, never missed or answered twice)."""
        found = await self.graph.nodes_by_id(INFERENCES_BY_IDS, ids, inference_from)
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(await self.tiers.cold_by_ids(missing))
        return found
