"""Models, model versions and the registry's append-only, hash-chained event log in Neo4j.

Every change to a model's registry state takes the Model node's write lock first, so version numbers and
the event chain advance one writer at a time per model. A version's stage and aliases are not stored on it:
they are derived from the event log whenever they are read (see fragments.stage_now), so the chain is the
only record of them. The rules of a change are the service's: the store reads the state with the model
locked, asks `decide` for a plan, and appends what it says."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from provgraph.domain import facts
from provgraph.domain.audit import AuditKey
from provgraph.domain.errors import NotFound
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Stamp
from provgraph.domain.registry import (
    AliasChange,
    EventKind,
    Model,
    ModelSpec,
    ModelVersion,
    ModelVersionFilter,
    ModelVersionSpec,
    PlannedEvent,
    RegistryEvent,
    RegistryPlan,
    Stage,
    VersionHistory,
)
from provgraph.store import fragments
from provgraph.store.events import Chain, events_of_write, registry_event_from
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger, merge_and_record
from provgraph.store.paging import page_of, page_params
from provgraph.store.references import fields_of, require_existing
from provgraph.store.values import (
    as_datetime,
    opt_int,
    opt_str,
    prefixed,
    recorded,
    stamp_params,
)

METRIC = "metric."

MERGE_MODEL = fragments.merge_by_id("Model")

# Take the model's write lock and read the state of its version counter and event chain.
LOCK_MODEL = """
MATCH (m:Model {id: $modelId})
SET m._lock = true REMOVE m._lock
RETURN m.versionSeq AS versionSeq, m.eventSeq AS eventSeq, m.lastEventHash AS lastHash, m.lastEventAt AS lastAt
"""

VERSION_BY_ARTIFACT = (
    """
MATCH (mv:ModelVersion {modelId: $modelId, artifactUri: $artifactUri})
RETURN """
    + fragments.model_version("mv")
    + " AS node"
)

CREATE_MODEL_VERSION = (
    """
MATCH (m:Model {id: $modelId})
SET m.versionSeq = $version
CREATE (mv:ModelVersion)
SET mv = $props, mv.id = $id, mv.version = $version,
    mv.recordedAt = $now, mv.recordedBy = $actor, mv.recordedIn = $writeId
CREATE (mv)-[:VERSION_OF {validFrom: mv.validFrom, recordedAt: $now}]->(m)
WITH mv
CALL (mv) {
  WITH mv WHERE $runId IS NOT NULL
  MATCH (r:Run {id: $runId})
  CREATE (mv)-[:GENERATED_BY {validFrom: mv.validFrom, recordedAt: $now}]->(r)
}
CALL (mv) {
  WITH mv WHERE $baseId IS NOT NULL
  MATCH (b:ModelVersion {id: $baseId})
  CREATE (mv)-[:FINE_TUNED_FROM {validFrom: mv.validFrom, recordedAt: $now}]->(b)
}
RETURN """
    + fragments.model_version("mv")
    + " AS node"
)

# A version, the events that concern it, and its model's chain head, with the model locked.
LOCK_VERSION = (
    """
MATCH (mv:ModelVersion {id: $versionId})-[:VERSION_OF]->(m:Model)
SET m._lock = true REMOVE m._lock
RETURN """
    + fragments.model_version("mv")
    + """ AS node,
  COLLECT { MATCH (e:RegistryEvent)-[:CONCERNS]->(mv) RETURN """
    + fragments.registry_event("e")
    + """ ORDER BY e.seq } AS events,
  m.eventSeq AS eventSeq, m.lastEventHash AS lastHash, m.lastEventAt AS lastAt
"""
)

# The model's other versions in production now, with their events (promotion with archiveOthers).
OTHERS_IN_PRODUCTION = (
    """
MATCH (mv:ModelVersion {modelId: $modelId})
WHERE mv.id <> $versionId AND """
    + fragments.stage_now("mv")
    + """ = 'PRODUCTION'
RETURN """
    + fragments.model_version("mv")
    + """ AS node,
  COLLECT { MATCH (e:RegistryEvent)-[:CONCERNS]->(mv) RETURN """
    + fragments.registry_event("e")
    + """ ORDER BY e.seq } AS events
ORDER BY mv.version
"""
)

# Every event of one alias of a model, in order.
ALIAS_EVENTS = (
    """
MATCH (e:RegistryEvent {modelId: $modelId, alias: $alias})
RETURN """
    + fragments.registry_event("e")
    + """ AS event ORDER BY e.seq
"""
)

MODELS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (m:Model {id: id})
RETURN """
    + fragments.node("m", "Model")
    + """ AS node
"""
)

MODEL_VERSIONS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (mv:ModelVersion {id: id})
RETURN """
    + fragments.model_version("mv")
    + " AS node"
)

VERSIONS_OF_MODELS = """
UNWIND $ids AS id
MATCH (m:Model {id: id})
RETURN id, [(mv:ModelVersion)-[:VERSION_OF]->(m) | mv.id] AS versionIds
"""

EVENTS_OF_VERSIONS = (
    """
UNWIND $ids AS id
MATCH (e:RegistryEvent)-[:CONCERNS]->(:ModelVersion {id: id})
WITH id, e ORDER BY e.seq
RETURN id, collect("""
    + fragments.registry_event("e")
    + """) AS events
"""
)

EVENTS_OF_MODEL = (
    """
MATCH (e:RegistryEvent {modelId: $modelId}) WHERE e.seq > $afterSeq
WITH e ORDER BY e.seq LIMIT $limit
RETURN """
    + fragments.registry_event("e")
    + """ AS event
"""
)

# The stage and aliases a version held at a time, from the event log, as known at a transaction time.
VERSION_STATE_AT = (
    """
MATCH (mv:ModelVersion {id: $versionId})
"""
    + fragments.stage_at("mv", "$at", "$knownAt")
    + """
CALL (mv) {
  OPTIONAL MATCH (e:RegistryEvent {modelId: mv.modelId})
  WHERE e.kind IN ['ALIAS_SET', 'ALIAS_REMOVED'] AND e.at <= $at AND e.recordedAt <= $knownAt
  WITH e ORDER BY e.at, e.seq
  WITH e.alias AS alias, last(collect(e)) AS latest
  WHERE latest.kind = 'ALIAS_SET' AND latest.versionId = mv.id
  RETURN collect(alias) AS aliasesAt
}
RETURN mv.validFrom <= $at AND mv.recordedAt <= $knownAt AS existed, stageAt, aliasesAt
"""
)

LIST_MODELS = fragments.page_by_id("Model")

_version_filter = (
    """
($modelId IS NULL OR mv.modelId = $modelId)
AND ($stage IS NULL OR """
    + fragments.stage_now("mv")
    + """ = $stage)
AND ($tag IS NULL OR $tag IN mv.tags)
AND ($alias IS NULL OR $alias IN """
    + fragments.aliases_now("mv")
    + """)
AND ($metricKey IS NULL OR (mv[$metricKey] IS NOT NULL
     AND ($metricMin IS NULL OR mv[$metricKey] >= $metricMin)
     AND ($metricMax IS NULL OR mv[$metricKey] <= $metricMax)))
"""
)

# A page of model versions ordered by (model, version number), with the filters of the dashboard.
LIST_MODEL_VERSIONS = (
    """
CALL () {
  MATCH (mv:ModelVersion)
  WHERE """
    + _version_filter
    + """
    AND ($afterModel IS NULL OR mv.modelId > $afterModel OR (mv.modelId = $afterModel AND mv.version > $afterVersion))
  WITH mv ORDER BY mv.modelId, mv.version LIMIT $limit
  RETURN collect("""
    + fragments.model_version("mv")
    + """) AS nodes
}
RETURN nodes, COUNT { MATCH (mv:ModelVersion) WHERE """
    + _version_filter
    + """ } AS total
"""
)


def model_from(props: Mapping[str, Any]) -> Model:
    return Model(
        id=props["id"],
        name=props["name"],
        description=opt_str(props, "description"),
        owner=opt_str(props, "owner"),
        recorded=recorded(props),
    )


def model_version_from(props: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        id=props["id"],
        model_id=props["modelId"],
        version=int(props["version"]),
        artifact_uri=props["artifactUri"],
        framework=opt_str(props, "framework"),
        size_bytes=opt_int(props, "sizeBytes"),
        metrics={k: float(v) for k, v in prefixed(props, METRIC).items()},
        trained_by=opt_str(props, "trainedBy"),
        fine_tuned_from=opt_str(props, "fineTunedFrom"),
        tags=tuple(sorted(props.get("tags") or ())),
        description=opt_str(props, "description"),
        created_at=as_datetime(props["createdAt"]),
        stage=Stage(props["stage"]),
        aliases=tuple(sorted(props.get("aliases") or ())),
        recorded=recorded(props),
    )


StageDecision = Callable[[VersionHistory, list[VersionHistory]], RegistryPlan]
AliasDecision = Callable[[list[RegistryEvent], ModelVersion | None], RegistryPlan]


def _history(record: Mapping[str, Any]) -> VersionHistory:
    return VersionHistory(
        version=model_version_from(record["node"]),
        events=tuple(registry_event_from(e) for e in record["events"]),
    )


class RegistryStore:
    """Persistence of the model registry.

    Parameters:
        graph: the database.
        key: the audit key that seals new events (None: events are chained but not sealed).
    """

    def __init__(self, graph: Graph, ledger: Ledger, key: AuditKey | None = None) -> None:
        self.graph = graph
        self.ledger = ledger
        self.key = key

    async def merge_model(self, spec: ModelSpec, stamp: Stamp) -> tuple[Model, bool]:
        # The counters start with the model: version numbers and the event chain advance from 0.
        props = {
            "name": spec.name,
            "description": spec.description,
            "owner": spec.owner,
            "versionSeq": 0,
            "eventSeq": 0,
        }
        params = {"id": make_id(Kind.MODEL, spec.name), "props": props, **stamp_params(stamp)}
        return await merge_and_record(
            self.graph, self.ledger, MERGE_MODEL, params, stamp, model_from, facts.model_registered
        )

    async def create_model_version(self, spec: ModelVersionSpec, stamp: Stamp) -> tuple[ModelVersion, bool]:
        model_id = make_id(Kind.MODEL, spec.model)
        created_at = spec.created_at or stamp.at
        props: dict[str, Any] = {
            "modelId": model_id,
            "artifactUri": spec.artifact_uri,
            "framework": spec.framework,
            "sizeBytes": spec.size_bytes,
            "tags": sorted(spec.tags),
            "description": spec.description,
            "createdAt": created_at,
            "validFrom": created_at,
        }
        props.update({METRIC + k: v for k, v in spec.metrics.items()})
        props = {k: v for k, v in props.items() if v is not None}

        async def work(tx: Tx) -> tuple[ModelVersion, bool]:
            await require_existing(
                tx, fields_of(model=model_id, trainedBy=spec.trained_by, fineTunedFrom=spec.fine_tuned_from)
            )
            lock = await (await tx.run(LOCK_MODEL, modelId=model_id)).single(strict=True)
            existing = await (
                await tx.run(VERSION_BY_ARTIFACT, modelId=model_id, artifactUri=spec.artifact_uri)
            ).single()
            if existing is not None:
                return model_version_from(existing["node"]), False
            version = int(lock["versionSeq"]) + 1
            result = await tx.run(
                CREATE_MODEL_VERSION,
                modelId=model_id,
                id=make_id(Kind.MODEL_VERSION, spec.model, version),
                version=version,
                props=props,
                runId=spec.trained_by,
                baseId=spec.fine_tuned_from,
                **stamp_params(stamp),
            )
            created = model_version_from((await result.single(strict=True))["node"])
            chain = Chain(model_id, lock["eventSeq"], lock["lastHash"], lock["lastAt"], self.key)
            # Registration opens the version's history, dated when the version came to exist. The chain
            # itself is in recording order (seq); `at` is when each change took effect.
            await chain.append(
                tx,
                stamp,
                created.created_at,
                PlannedEvent(EventKind.REGISTERED, created.id, spec.description),
            )
            await self.ledger.record(tx, stamp, [facts.model_version_registered(created)])
            return created, True

        return await self.graph.write(work)

    async def change_stage(
        self, version_id: str, at: datetime, archive_others: bool, stamp: Stamp, decide: StageDecision
    ) -> tuple[ModelVersion, list[RegistryEvent], bool]:
        """Apply a stage change: `decide(target, others_in_production)` runs with the model locked and says
        what to append (or which recorded event this repeats). Returns the version as it is afterwards, the
        events recorded (by this call or, for a repeat, by the request it repeats) and whether this call
        wrote anything."""

        async def work(tx: Tx) -> tuple[ModelVersion, list[RegistryEvent], bool]:
            record = await (await tx.run(LOCK_VERSION, versionId=version_id)).single()
            if record is None:
                raise NotFound(f"model version {version_id!r} does not exist", field="versionId")
            target = _history(record)
            others: list[VersionHistory] = []
            if archive_others:
                result = await tx.run(
                    OTHERS_IN_PRODUCTION, modelId=target.version.model_id, versionId=version_id
                )
                others = [_history(r) async for r in result]
            plan = decide(target, others)
            chain = Chain(
                target.version.model_id, record["eventSeq"], record["lastHash"], record["lastAt"], self.key
            )
            return await self._carry_out(tx, chain, plan, stamp, at, version_id)

        return await self.graph.write(work)

    async def change_alias(
        self, change: AliasChange, at: datetime, stamp: Stamp, decide: AliasDecision
    ) -> tuple[ModelVersion, list[RegistryEvent], bool]:
        """Point (or remove) an alias: `decide(alias_events, target_version)` runs with the model locked."""
        model_id = make_id(Kind.MODEL, change.model)

        async def work(tx: Tx) -> tuple[ModelVersion, list[RegistryEvent], bool]:
            lock = await (await tx.run(LOCK_MODEL, modelId=model_id)).single()
            if lock is None:
                raise NotFound(f"model {model_id!r} does not exist", field="model")
            target = None
            if change.version_id is not None:
                found = await (await tx.run(MODEL_VERSIONS_BY_IDS, ids=[change.version_id])).single()
                if found is None:
                    raise NotFound(f"model version {change.version_id!r} does not exist", field="versionId")
                target = model_version_from(found["node"])
            result = await tx.run(ALIAS_EVENTS, modelId=model_id, alias=change.alias)
            alias_events = [registry_event_from(r["event"]) async for r in result]
            plan = decide(alias_events, target)
            chain = Chain(model_id, lock["eventSeq"], lock["lastHash"], lock["lastAt"], self.key)
            subject = (
                plan.append[0].version_id
                if plan.append
                else plan.repeat_of.version_id
                if plan.repeat_of
                else None
            )
            assert subject is not None
            return await self._carry_out(tx, chain, plan, stamp, at, subject)

        return await self.graph.write(work)

    async def _carry_out(
        self, tx: Tx, chain: Chain, plan: RegistryPlan, stamp: Stamp, at: datetime, version_id: str
    ) -> tuple[ModelVersion, list[RegistryEvent], bool]:
        if plan.repeat_of is not None:
            repeated = plan.repeat_of
            events = (
                await events_of_write(tx, chain.model_id, repeated.recorded_in)
                if repeated.recorded_in
                else []
            ) or [repeated]
            created = False
        else:
            events = [await chain.append(tx, stamp, at, planned) for planned in plan.append]
            created = True
        found = await (await tx.run(MODEL_VERSIONS_BY_IDS, ids=[version_id])).single(strict=True)
        return model_version_from(found["node"]), events, created

    async def version_by_artifact(self, model_id: str, artifact_uri: str) -> ModelVersion | None:
        record = await self.graph.read_one(
            VERSION_BY_ARTIFACT, {"modelId": model_id, "artifactUri": artifact_uri}
        )
        return None if record is None else model_version_from(record["node"])

    async def models_by_ids(self, ids: Sequence[str]) -> dict[str, Model]:
        return await self.graph.nodes_by_id(MODELS_BY_IDS, ids, model_from)

    async def model_versions_by_ids(self, ids: Sequence[str]) -> dict[str, ModelVersion]:
        return await self.graph.nodes_by_id(MODEL_VERSIONS_BY_IDS, ids, model_version_from)

    async def version_ids_of_models(self, ids: Sequence[str]) -> dict[str, list[str]]:
        records = await self.graph.read(VERSIONS_OF_MODELS, {"ids": list(ids)})
        return {r["id"]: sorted(r["versionIds"], key=lambda v: int(v.rsplit(":", 1)[1])) for r in records}

    async def events_of_versions(self, ids: Sequence[str]) -> dict[str, list[RegistryEvent]]:
        records = await self.graph.read(EVENTS_OF_VERSIONS, {"ids": list(ids)})
        return {r["id"]: [registry_event_from(e) for e in r["events"]] for r in records}

    async def events_of_model(
        self, model_id: str, after_seq: int = 0, limit: int = 100
    ) -> list[RegistryEvent]:
        records = await self.graph.read(
            EVENTS_OF_MODEL, {"modelId": model_id, "afterSeq": after_seq, "limit": limit}
        )
        return [registry_event_from(r["event"]) for r in records]

    async def version_state_at(
        self, version_id: str, at: datetime, known_at: datetime
    ) -> tuple[bool, Stage, list[str]] | None:
        record = await self.graph.read_one(
            VERSION_STATE_AT, {"versionId": version_id, "at": at, "knownAt": known_at}
        )
        if record is None:
            return None
        return bool(record["existed"]), Stage(record["stageAt"]), sorted(record["aliasesAt"])

    async def list_models(self, page: PageRequest) -> Page[Model]:
        record = await self.graph.read_one(LIST_MODELS, page_params(page))
        assert record is not None
        return page_of([model_from(n) for n in record["nodes"]], page, record["total"])

    async def list_model_versions(self, where: ModelVersionFilter, page: PageRequest) -> Page[ModelVersion]:
        after_model, after_version = (str(page.after[0]), int(page.after[1])) if page.after else (None, None)
        record = await self.graph.read_one(
            LIST_MODEL_VERSIONS,
            {
                "modelId": make_id(Kind.MODEL, where.model) if where.model else None,
                "stage": where.stage.value if where.stage else None,
                "tag": where.tag,
                "alias": where.alias,
                "metricKey": METRIC + where.metric if where.metric else None,
                "metricMin": where.metric_min,
                "metricMax": where.metric_max,
                "afterModel": after_model,
                "afterVersion": after_version,
                "limit": page.first + 1,
            },
        )
        assert record is not None
        return page_of(
            [model_version_from(n) for n in record["nodes"]],
            page,
            record["total"],
            key=lambda mv: [mv.model_id, mv.version],
        )
