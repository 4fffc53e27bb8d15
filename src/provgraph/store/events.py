"""The registry's event chains: appending hash-chained events and reading them back.

Each model has one chain. An event stores the hash of its content and of the event before it, and the
Model node keeps the chain's head (sequence number, last hash), advanced under the model's write lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from provgraph.domain.records import Stamp
from provgraph.domain.registry import EventKind, RegistryEvent, Stage, check_event_order, event_hash
from provgraph.store import fragments
from provgraph.store.values import as_datetime, opt_datetime, opt_str

# Append one event to a model's chain and move the chain's head.
APPEND_EVENT = (
    """
MATCH (m:Model {id: $event.modelId})
MATCH (mv:ModelVersion {id: $event.versionId})
CREATE (e:RegistryEvent)
SET e = $event, e.recordedAt = $now
CREATE (e)-[:CONCERNS]->(mv)
SET m.eventSeq = $event.seq, m.lastEventHash = $event.hash, m.lastEventAt = $event.at
WITH e
CALL (e) {
  WITH e WHERE $event.prevId IS NOT NULL
  MATCH (prev:RegistryEvent {id: $event.prevId})
  CREATE (e)-[:FOLLOWS]->(prev)
}
RETURN """
    + fragments.node("e", "RegistryEvent")
    + """ AS event
"""
)

# When the version's stage last changed (stage history must be appended in time order).
LAST_STAGE_CHANGE = """
OPTIONAL MATCH (e:RegistryEvent {kind: 'STAGE_CHANGED'})-[:CONCERNS]->(:ModelVersion {id: $versionId})
RETURN max(e.at) AS last
"""

# When the alias last moved (each alias's history must be appended in time order).
LAST_ALIAS_CHANGE = """
OPTIONAL MATCH (e:RegistryEvent {modelId: $modelId, alias: $alias})
RETURN max(e.at) AS last
"""


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
    )


class Chain:
    """The head of one model's event chain, advanced as events are appended in one transaction."""

    def __init__(self, model_id: str, seq: int | None, last_hash: str | None, last_at: Any) -> None:
        self.model_id = model_id
        self.seq = int(seq or 0)
        self.last_hash = last_hash
        self.last_at = opt_datetime(last_at)

    async def append(
        self, tx: AsyncManagedTransaction, stamp: Stamp, at: datetime, event: RegistryEvent
    ) -> RegistryEvent:
        prev_id = f"event:{self.model_id.split(':', 1)[1]}:{self.seq}" if self.seq else None
        self.seq += 1
        event = replace(
            event,
            id=f"event:{self.model_id.split(':', 1)[1]}:{self.seq}",
            model_id=self.model_id,
            seq=self.seq,
            at=at,
            actor=stamp.actor,
            prev_hash=self.last_hash,
        )
        event = replace(event, hash=event_hash(event))
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
            "prevId": prev_id,
        }
        result = await tx.run(APPEND_EVENT, event=props, now=stamp.now)
        await result.consume()
        self.last_hash, self.last_at = event.hash, at
        return replace(event, recorded_at=stamp.now)


def blank_event(kind: EventKind, version_id: str, reason: str | None, **extra: Any) -> RegistryEvent:
    """An event before the chain fills in its position, time, actor and hashes."""
    epoch = datetime.fromtimestamp(0).astimezone()
    return RegistryEvent(
        id="",
        model_id="",
        seq=0,
        kind=kind,
        version_id=version_id,
        at=epoch,
        actor="",
        reason=reason,
        **extra,
    )


async def check_stage_order(tx: AsyncManagedTransaction, version_id: str, at: datetime) -> None:
    last = (await (await tx.run(LAST_STAGE_CHANGE, versionId=version_id)).single(strict=True))["last"]
    check_event_order(version_id, opt_datetime(last), at)
