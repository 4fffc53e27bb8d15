"""Sources, datasets, dataset versions and slices in Neo4j.

Registrations `MERGE` on the id under a uniqueness constraint and create relationships only when the node
is new, so a retried registration writes nothing. Relationships point from the derived thing to what it
came from and carry `validFrom`, the time the derived thing came to exist, so `asOf` can filter edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from provgraph.domain import facts
from provgraph.domain.catalog import (
    Dataset,
    DatasetSpec,
    DatasetVersion,
    DatasetVersionSpec,
    Derivation,
    Slice,
    SliceSpec,
    Source,
    SourceSpec,
)
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Stamp
from provgraph.store import fragments
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger, merge_and_record
from provgraph.store.paging import page_of, page_params
from provgraph.store.references import fields_of, require_existing
from provgraph.store.values import as_datetime, opt_datetime, opt_int, opt_str, recorded, stamp_params

# Register a source; returns it and whether this write created it.
MERGE_SOURCE = fragments.merge_by_id("Source")

# Register a dataset (the container of versions).
MERGE_DATASET = fragments.merge_by_id("Dataset")

# Register a dataset version with its edges (only when new).
MERGE_DATASET_VERSION = (
    """
MATCH (d:Dataset {id: $datasetId})
MERGE (v:DatasetVersion {id: $id})
ON CREATE SET v += $props, v.recordedAt = $now, v.recordedBy = $actor, v.recordedIn = $writeId
WITH v, d, v.recordedIn = $writeId AS created
CALL (v, d, created) {
  WITH * WHERE created
  CREATE (v)-[:VERSION_OF {validFrom: v.validFrom, recordedAt: $now}]->(d)
}
CALL (v, created) {
  WITH * WHERE created
  UNWIND $sourceIds AS sid
  MATCH (s:Source {id: sid})
  CREATE (v)-[:FROM_SOURCE {validFrom: v.validFrom, recordedAt: $now}]->(s)
}
CALL (v, created) {
  WITH * WHERE created
  UNWIND $derivedFrom AS der
  MATCH (p:DatasetVersion {id: der.fromId})
  CREATE (v)-[:DERIVED_FROM {validFrom: v.validFrom, recordedAt: $now, transform: der.transform}]->(p)
}
CALL (v, created) {
  WITH * WHERE created AND $runId IS NOT NULL
  MATCH (r:Run {id: $runId})
  CREATE (v)-[:GENERATED_BY {validFrom: v.validFrom, recordedAt: $now}]->(r)
}
RETURN """
    + fragments.dataset_version("v")
    + " AS node, created"
)

# Register a slice of a dataset version.
MERGE_SLICE = (
    """
MATCH (v:DatasetVersion {id: $versionId})
MERGE (s:Slice {id: $id})
ON CREATE SET s += $props, s.recordedAt = $now, s.recordedBy = $actor, s.recordedIn = $writeId
WITH s, v, s.recordedIn = $writeId AS created
CALL (s, v, created) {
  WITH * WHERE created
  CREATE (s)-[:SUBSET_OF {validFrom: s.validFrom, recordedAt: $now}]->(v)
}
CALL (s, created) {
  WITH * WHERE created
  UNWIND $sourceIds AS sid
  MATCH (src:Source {id: sid})
  CREATE (s)-[:FROM_SOURCE {validFrom: s.validFrom, recordedAt: $now}]->(src)
}
RETURN """
    + fragments.slice_("s")
    + """ AS node, created
"""
)

# Lock a source for update (see the package docstring on locks).
LOCK_SOURCE = (
    """
MATCH (s:Source {id: $id})
SET s._lock = true REMOVE s._lock
RETURN """
    + fragments.node("s", "Source")
    + """ AS node
"""
)

EXCLUDE_SOURCE = (
    """
MATCH (s:Source {id: $id})
SET s.excludedAt = $at, s.exclusionReason = $reason, s.excludedBy = $actor, s.exclusionRecordedAt = $now
RETURN """
    + fragments.node("s", "Source")
    + """ AS node
"""
)

# Sources by id (DataLoader batch).
SOURCES_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (s:Source {id: id})
RETURN """
    + fragments.node("s", "Source")
    + """ AS node
"""
)

DATASETS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (d:Dataset {id: id})
RETURN """
    + fragments.node("d", "Dataset")
    + """ AS node
"""
)

DATASET_VERSIONS_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (v:DatasetVersion {id: id})
RETURN """
    + fragments.dataset_version("v")
    + " AS node"
)

SLICES_BY_IDS = (
    """
UNWIND $ids AS id
MATCH (s:Slice {id: id})
RETURN """
    + fragments.slice_("s")
    + " AS node"
)

# Versions of each dataset, newest first (DataLoader batch for Dataset.versions).
VERSIONS_OF_DATASETS = """
UNWIND $ids AS id
MATCH (d:Dataset {id: id})
RETURN id, [(v:DatasetVersion)-[:VERSION_OF]->(d) | v.id] AS versionIds
"""

# Slices of each dataset version (DataLoader batch for DatasetVersion.slices).
SLICES_OF_VERSIONS = """
UNWIND $ids AS id
MATCH (v:DatasetVersion {id: id})
RETURN id, [(s:Slice)-[:SUBSET_OF]->(v) | s.id] AS sliceIds
"""

# The newest version of a dataset created by a time (an OpenLineage input that names no version).
LATEST_VERSION = """
MATCH (v:DatasetVersion)-[:VERSION_OF]->(:Dataset {id: $datasetId})
WHERE v.createdAt <= $before
RETURN v.id AS id ORDER BY v.createdAt DESC, v.id DESC LIMIT 1
"""

# A page of sources ordered by id.
LIST_SOURCES = fragments.page_by_id("Source")

LIST_DATASETS = fragments.page_by_id("Dataset")


def source_from(props: Mapping[str, Any]) -> Source:
    return Source(
        id=props["id"],
        name=props["name"],
        kind=props["kind"],
        uri=opt_str(props, "uri"),
        owner=opt_str(props, "owner"),
        license=opt_str(props, "license"),
        description=opt_str(props, "description"),
        recorded=recorded(props),
        excluded_at=opt_datetime(props.get("excludedAt")),
        exclusion_reason=opt_str(props, "exclusionReason"),
        exclusion_recorded_at=opt_datetime(props.get("exclusionRecordedAt")),
    )


def dataset_from(props: Mapping[str, Any]) -> Dataset:
    return Dataset(
        id=props["id"],
        name=props["name"],
        description=opt_str(props, "description"),
        owner=opt_str(props, "owner"),
        recorded=recorded(props),
    )


def dataset_version_from(props: Mapping[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        id=props["id"],
        dataset_id=props["datasetId"],
        version=props["version"],
        digest=opt_str(props, "digest"),
        uri=opt_str(props, "uri"),
        row_count=opt_int(props, "rowCount"),
        schema=opt_str(props, "schema"),
        created_at=as_datetime(props["createdAt"]),
        source_ids=tuple(sorted(props.get("sourceIds") or ())),
        derived_from=tuple(
            sorted(
                (Derivation(d["fromId"], d.get("transform")) for d in props.get("derivedFrom") or ()),
                key=lambda d: d.from_id,
            )
        ),
        generated_by=opt_str(props, "generatedBy"),
        recorded=recorded(props),
    )


def slice_from(props: Mapping[str, Any]) -> Slice:
    return Slice(
        id=props["id"],
        dataset_version_id=props["datasetVersionId"],
        name=props["name"],
        predicate=opt_str(props, "predicate"),
        row_count=opt_int(props, "rowCount"),
        digest=opt_str(props, "digest"),
        created_at=as_datetime(props["createdAt"]),
        source_ids=tuple(sorted(props.get("sourceIds") or ())),
        recorded=recorded(props),
    )


class CatalogStore:
    """Persistence of the data catalog: sources, datasets, versions, slices."""

    def __init__(self, graph: Graph, ledger: Ledger) -> None:
        self.graph = graph
        self.ledger = ledger

    async def merge_source(self, spec: SourceSpec, stamp: Stamp) -> tuple[Source, bool]:
        props = {
            "name": spec.name,
            "kind": spec.kind,
            "uri": spec.uri,
            "owner": spec.owner,
            "license": spec.license,
            "description": spec.description,
        }
        params = {"id": make_id(Kind.SOURCE, spec.name), "props": props, **stamp_params(stamp)}
        return await merge_and_record(
            self.graph, self.ledger, MERGE_SOURCE, params, stamp, source_from, facts.source_registered
        )

    async def merge_dataset(self, spec: DatasetSpec, stamp: Stamp) -> tuple[Dataset, bool]:
        props = {"name": spec.name, "description": spec.description, "owner": spec.owner}
        params = {"id": make_id(Kind.DATASET, spec.name), "props": props, **stamp_params(stamp)}
        return await merge_and_record(
            self.graph, self.ledger, MERGE_DATASET, params, stamp, dataset_from, facts.dataset_registered
        )

    async def merge_dataset_version(
        self, spec: DatasetVersionSpec, stamp: Stamp
    ) -> tuple[DatasetVersion, bool]:
        dataset_id = make_id(Kind.DATASET, spec.dataset)
        created_at = spec.created_at or stamp.at
        props = {
            "datasetId": dataset_id,
            "version": spec.version,
            "digest": spec.digest,
            "uri": spec.uri,
            "rowCount": spec.row_count,
            "schema": spec.schema,
            "createdAt": created_at,
            "validFrom": created_at,
        }

        async def work(tx: Tx) -> tuple[DatasetVersion, bool]:
            await require_existing(
                tx,
                fields_of(
                    dataset=dataset_id,
                    sourceIds=spec.source_ids,
                    derivedFrom=[d.from_id for d in spec.derived_from],
                    generatedBy=spec.generated_by,
                ),
            )
            result = await tx.run(
                MERGE_DATASET_VERSION,
                id=make_id(Kind.DATASET_VERSION, spec.dataset, spec.version),
                datasetId=dataset_id,
                props=props,
                sourceIds=list(spec.source_ids),
                derivedFrom=[{"fromId": d.from_id, "transform": d.transform} for d in spec.derived_from],
                runId=spec.generated_by,
                **stamp_params(stamp),
            )
            record = await result.single(strict=True)
            version, created = dataset_version_from(record["node"]), bool(record["created"])
            if created:
                await self.ledger.record(tx, stamp, [facts.dataset_version_registered(version)])
            return version, created

        return await self.graph.write(work)

    async def merge_slice(self, spec: SliceSpec, stamp: Stamp) -> tuple[Slice, bool]:
        _, dataset, version = spec.dataset_version_id.split(":")
        created_at = spec.created_at or stamp.at
        props = {
            "name": spec.name,
            "predicate": spec.predicate,
            "rowCount": spec.row_count,
            "digest": spec.digest,
            "createdAt": created_at,
            "validFrom": created_at,
        }

        async def work(tx: Tx) -> tuple[Slice, bool]:
            await require_existing(
                tx, fields_of(datasetVersionId=spec.dataset_version_id, sourceIds=spec.source_ids)
            )
            result = await tx.run(
                MERGE_SLICE,
                id=make_id(Kind.SLICE, dataset, version, spec.name),
                versionId=spec.dataset_version_id,
                props=props,
                sourceIds=list(spec.source_ids),
                **stamp_params(stamp),
            )
            record = await result.single(strict=True)
            slice_, created = slice_from(record["node"]), bool(record["created"])
            if created:
                await self.ledger.record(tx, stamp, [facts.slice_registered(slice_)])
            return slice_, created

        return await self.graph.write(work)

    async def sources_by_ids(self, ids: Sequence[str]) -> dict[str, Source]:
        return await self.graph.nodes_by_id(SOURCES_BY_IDS, ids, source_from)

    async def datasets_by_ids(self, ids: Sequence[str]) -> dict[str, Dataset]:
        return await self.graph.nodes_by_id(DATASETS_BY_IDS, ids, dataset_from)

    async def dataset_versions_by_ids(self, ids: Sequence[str]) -> dict[str, DatasetVersion]:
        return await self.graph.nodes_by_id(DATASET_VERSIONS_BY_IDS, ids, dataset_version_from)

    async def slices_by_ids(self, ids: Sequence[str]) -> dict[str, Slice]:
        return await self.graph.nodes_by_id(SLICES_BY_IDS, ids, slice_from)

    async def latest_version(self, dataset_id: str, before: datetime) -> str | None:
        record = await self.graph.read_one(LATEST_VERSION, {"datasetId": dataset_id, "before": before})
        return None if record is None else str(record["id"])

    async def version_ids_of_datasets(self, ids: Sequence[str]) -> dict[str, list[str]]:
        records = await self.graph.read(VERSIONS_OF_DATASETS, {"ids": list(ids)})
        return {r["id"]: sorted(r["versionIds"]) for r in records}

    async def slice_ids_of_versions(self, ids: Sequence[str]) -> dict[str, list[str]]:
        records = await self.graph.read(SLICES_OF_VERSIONS, {"ids": list(ids)})
        return {r["id"]: sorted(r["sliceIds"]) for r in records}

    async def list_sources(self, page: PageRequest) -> Page[Source]:
        record = await self.graph.read_one(LIST_SOURCES, page_params(page))
        assert record is not None
        return page_of([source_from(n) for n in record["nodes"]], page, record["total"])

    async def list_datasets(self, page: PageRequest) -> Page[Dataset]:
        record = await self.graph.read_one(LIST_DATASETS, page_params(page))
        assert record is not None
        return page_of([dataset_from(n) for n in record["nodes"]], page, record["total"])
