"""The registry's event chains: appending hash-chained, sealed events and reading them back.

Each model has one chain. An event stores the hash of its content (including when it was recorded) and of
the event before it, and a seal (HMAC of its hash under the audit key, when one is configured); the Model
node keeps the chain's head (sequence number, last hash), advanced under the model's write lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from provgraph.domain.audit import AuditKey
from provgraph.domain.records import Stamp
from provgraph.domain.registry import EventKind, PlannedEvent, RegistryEvent, Stage, event_hash
from provgraph.store import fragments
from provgraph.store.graph import Tx
from provgraph.store.values import as_datetime, opt_datetime, opt_str

# Append one event to a model's chain and move the chain's head.
APPEND_EVENT = (
    """
MATCH (m:Model {id: $event.modelId})
MATCH (mv:ModelVersion {id: $event.versionId})
CREATE (e:RegistryEvent)
SET e = $event
CREATE (e)-[:CONCERNS]->(mv)
SET m.eventSeq = $event.seq, m.lastEventHash = $event.hash, m.lastEventAt = $event.at
WITH e
CALL (e) {
  WITH e WHERE $prevId IS NOT NULL
  MATCH (prev:RegistryEvent {id: $prevId})
  CREATE (e)-[:FOLLOWS]->(prev)
}
RETURN """
    + fragments.registry_event("e")
    + """ AS event
"""
)

# The events one request recorded (a repeat answers with them).
EVENTS_OF_WRITE = (
    """
MATCH (e:RegistryEvent {modelId: $modelId, recordedIn: $writeId})
RETURN """
    + fragments.registry_event("e")
    + """ AS event ORDER BY e.seq
"""
)


def registry_event_from(props: Mapping[str, Any]) -> RegistryEvent:
    return RegistryEvent(
        id=props["id"],
        model_id=props["modelId"],
        seq=int(props["seq"]),
        kind=EventKind(props["kind"]),
        version_id=props["versionId"],
        at=as_datetime(props["at"]),
        actor=props["actor"],
        reason=opt_str(props, "reason"),
        from_stage=Stage(props["fromStage"]) if props.get("fromStage") else None,
        to_stage=Stage(props["toStage"]) if props.get("toStage") else None,
        alias=opt_str(props, "alias"),
        previous_version_id=opt_str(props, "previousVersionId"),
        prev_hash=opt_str(props, "prevHash"),
        hash=opt_str(props, "hash"),
        recorded_at=opt_datetime(props.get("recordedAt")),
        recorded_in=opt_str(props, "recordedIn"),
        hash_version=int(props.get("hashVersion") or 1),
        mac=opt_str(props, "mac"),
        key_id=opt_str(props, "keyId"),
    )


class Chain:
    """The head of one model's event chain, advanced as events are appended in one transaction."""

    def __init__(
        self, model_id: str, seq: int | None, last_hash: str | None, last_at: Any, key: AuditKey | None
    ) -> None:
        self.model_id = model_id
        self.seq = int(seq or 0)
        self.last_hash = last_hash
        self.last_at = opt_datetime(last_at)
        self.key = key

    async def append(self, tx: Tx, stamp: Stamp, at: datetime, planned: PlannedEvent) -> RegistryEvent:
        name = self.model_id.split(":", 1)[1]
        prev_id = f"event:{name}:{self.seq}" if self.seq else None
        self.seq += 1
        event = RegistryEvent(
            id=f"event:{name}:{self.seq}",
            model_id=self.model_id,
            seq=self.seq,
            kind=planned.kind,
            version_id=planned.version_id,
            at=at,
            actor=stamp.actor,
            reason=planned.reason,
            from_stage=planned.from_stage,
            to_stage=planned.to_stage,
            alias=planned.alias,
            previous_version_id=planned.previous_version_id,
            prev_hash=self.last_hash,
            recorded_at=stamp.now,
            recorded_in=stamp.write_id,
        )
        digest = event_hash(event)
        event = replace(
            event,
            hash=digest,
            mac=self.key.seal(digest) if self.key else None,
            key_id=self.key.id if self.key else None,
        )
        props = {
            "id": event.id,
            "modelId": event.model_id,
            "seq": event.seq,
            "kind": event.kind.value,
            "versionId": event.version_id,
            "at": event.at,
            "actor": event.actor,
            "reason": event.reason,
            "fromStage": event.from_stage.value if event.from_stage else None,
            "toStage": event.to_stage.value if event.to_stage else None,
            "alias": event.alias,
            "previousVersionId": event.previous_version_id,
            "prevHash": event.prev_hash,
            "hash": event.hash,
            "recordedAt": stamp.now,
            "recordedIn": stamp.write_id,
            "hashVersion": event.hash_version,
            "mac": event.mac,
            "keyId": event.key_id,
        }
        result = await tx.run(APPEND_EVENT, event=props, prevId=prev_id)
        await result.consume()
        self.last_hash, self.last_at = event.hash, at
        return event


async def events_of_write(tx: Tx, model_id: str, write_id: str) -> list[RegistryEvent]:
    result = await tx.run(EVENTS_OF_WRITE, modelId=model_id, writeId=write_id)
    return [registry_event_from(r["event"]) async for r in result]
