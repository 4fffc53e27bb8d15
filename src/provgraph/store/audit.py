"""Reading the registry's event chains back for verification."""

from __future__ import annotations

from provgraph.domain.registry import RegistryEvent
from provgraph.store import fragments
from provgraph.store.events import registry_event_from
from provgraph.store.graph import Graph

# Every event of every model (or of one), in chain order, with each model's recorded chain head.
CHAINS = (
    """
MATCH (m:Model) WHERE $modelId IS NULL OR m.id = $modelId
CALL (m) {
  OPTIONAL MATCH (e:RegistryEvent {modelId: m.id})
  WITH e ORDER BY e.seq
  RETURN collect("""
    + fragments.node("e", "RegistryEvent")
    + """) AS events
}
RETURN m.id AS modelId, m.eventSeq AS headSeq, m.lastEventHash AS headHash, events
ORDER BY m.id
"""
)


class AuditStore:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

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
