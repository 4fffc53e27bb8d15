"""OpenLineage events in Neo4j: each event kept verbatim (its canonical JSON), once, linked to the run and
dataset versions it describes, and appended to the `openlineage` ledger. Facets are read back from the
events, so nothing a producer sent is dropped or rewritten."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from provgraph.domain import facts
from provgraph.domain.records import Stamp
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger

SEEN = "RETURN EXISTS { MATCH (:OpenLineageEvent {id: $id}) } AS seen"

# Keep one event (once) and link it to what it describes.
RECORD_EVENT = """
MERGE (e:OpenLineageEvent {id: $id})
ON CREATE SET e += $props, e.recordedAt = $now, e.recordedBy = $actor, e.recordedIn = $writeId
WITH e, e.recordedIn = $writeId AS created
CALL (e, created) {
  WITH * WHERE created AND $runId IS NOT NULL
  MATCH (r:Run {id: $runId})
  CREATE (e)-[:DESCRIBES {recordedAt: $now}]->(r)
}
CALL (e, created) {
  WITH * WHERE created
  UNWIND $datasets AS d
  MATCH (v:DatasetVersion {id: d.id})
  CREATE (e)-[:DESCRIBES {side: d.side, namespace: d.namespace, name: d.name, recordedAt: $now}]->(v)
}
RETURN created
"""

# The events describing each run, oldest first.
EVENTS_OF_RUNS = """
UNWIND $ids AS id
MATCH (r:Run {id: id})
RETURN id, COLLECT { MATCH (e:OpenLineageEvent)-[:DESCRIBES]->(r) RETURN e.body ORDER BY e.eventTime, e.id } AS bodies
"""

# The events describing each dataset version, oldest first, with where in the event it appears.
EVENTS_OF_DATASET_VERSIONS = """
UNWIND $ids AS id
MATCH (v:DatasetVersion {id: id})
RETURN id, COLLECT {
  MATCH (e:OpenLineageEvent)-[d:DESCRIBES]->(v)
  RETURN {body: e.body, side: d.side, namespace: d.namespace, name: d.name} ORDER BY e.eventTime, e.id
} AS mentions
"""


class OpenLineageStore:
    def __init__(self, graph: Graph, ledger: Ledger) -> None:
        self.graph = graph
        self.ledger = ledger

    async def seen(self, event_id: str) -> bool:
        record = await self.graph.read_one(SEEN, {"id": event_id})
        return bool(record and record["seen"])

    async def record_event(
        self,
        event_id: str,
        body: str,
        event_type: str | None,
        event_time: str,
        run_id: str | None,
        datasets: Sequence[dict[str, str]],
        stamp: Stamp,
    ) -> bool:
        """Keep an event (its canonical JSON) and link it; False when it was already kept."""
        props = {"body": body, "eventType": event_type, "eventTime": event_time, "runId": run_id}

        async def work(tx: Tx) -> bool:
            result = await tx.run(
                RECORD_EVENT,
                id=event_id,
                props=props,
                runId=run_id,
                datasets=list(datasets),
                now=stamp.now,
                actor=stamp.actor,
                writeId=stamp.write_id,
            )
            created = bool((await result.single(strict=True))["created"])
            if created:
                fact = facts.openlineage_event_received(event_id, event_type, event_time, run_id)
                await self.ledger.record(tx, stamp, [fact])
            return created

        return await self.graph.write(work)

    async def events_of_runs(self, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        records = await self.graph.read(EVENTS_OF_RUNS, {"ids": list(ids)})
        return {r["id"]: [json.loads(body) for body in r["bodies"]] for r in records}

    async def events_of_dataset_versions(self, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        records = await self.graph.read(EVENTS_OF_DATASET_VERSIONS, {"ids": list(ids)})
        return {r["id"]: [{**m, "body": json.loads(m["body"])} for m in r["mentions"]] for r in records}
