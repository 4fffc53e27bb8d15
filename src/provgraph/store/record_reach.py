"""How far a record reaches from the data that holds it: key-preserving derivations, runs that used the
data, the model versions those runs made and everything fine-tuned from them, with their counts.

Membership follows `SUBSET_OF` (a slice is a subset of its version's records) and `DERIVED_FROM` when the
derived version declared its transform key-preserving (`keysPreserved`), and stops at data that registered
keys of its own (its own answer counts: it was either found holding the record or it does not hold it).
A derivation that is neither is where the walk stops; the answer lists it. Every edge is filtered by valid
time (`asOf`) and transaction time (`knownAt`), as the other provenance questions are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from provgraph.store import rollups
from provgraph.store.compaction import CompactionStore
from provgraph.store.graph import Graph

_KNOWN = "{rel}.validFrom <= $asOf AND {rel}.recordedAt <= $knownAt"


@cache
def reach_query(depth: int) -> str:
    inherit = _KNOWN.format(rel="r")
    used = _KNOWN.format(rel="u")
    generated = _KNOWN.format(rel="g")
    return f"""
UNWIND $holders AS holder
CALL (holder) {{
  MATCH (d:DatasetVersion {{id: holder}}) RETURN d
  UNION
  MATCH (d:Slice {{id: holder}}) RETURN d
}}
WITH holder, d WHERE d.recordedAt <= $knownAt AND coalesce(d.validFrom, d.recordedAt) <= $asOf
CALL (d) {{
  OPTIONAL MATCH (d) ((p)<-[r:DERIVED_FROM|SUBSET_OF]-(c)
    WHERE {inherit} AND (c:Slice OR c.keysPreserved = true) AND c.hasRecordKeys IS NULL){{1,{depth}}} (x)
  RETURN collect(DISTINCT x) AS inherited
}}
UNWIND [d] + inherited AS held
WITH DISTINCT holder, held
CALL (held) {{
  OPTIONAL MATCH (held)<-[r:DERIVED_FROM]-(c:DatasetVersion)
  WHERE {inherit} AND c.keysPreserved IS NULL AND c.hasRecordKeys IS NULL
  RETURN collect(DISTINCT c.id) AS stopped
}}
CALL (held) {{
  OPTIONAL MATCH (run:Run)-[u:USED]->(held) WHERE {used}
  CALL (run) {{
    OPTIONAL MATCH (mv:ModelVersion)-[g:GENERATED_BY]->(run) WHERE {generated}
    OPTIONAL MATCH (mv) ((m1)<-[f:FINE_TUNED_FROM]-(m2) WHERE {_KNOWN.format(rel="f")}){{1,{depth}}} (tuned)
    RETURN collect(DISTINCT mv.id) + collect(DISTINCT tuned.id) AS models
  }}
  RETURN collect(CASE WHEN run IS NULL THEN null ELSE [run.id, models] END) AS runs
}}
RETURN holder, held.id AS held, stopped, runs
"""


COUNTS = (
    """
UNWIND $ids AS modelVersionId
"""
    + rollups.counted("modelVersionId", "modelVersionId")
    + """
RETURN modelVersionId, inferences, coldCuts
"""
)


@dataclass(frozen=True)
class Reached:
    """What one holder reaches: each data node holding the record through it, with the derivations that
    stop there and the runs (each with the model versions it led to)."""

    holder: str
    held: str
    stopped: tuple[str, ...]
    runs: tuple[tuple[str, tuple[str, ...]], ...]


class RecordReach:
    """The walk downstream of the data holding a record."""

    def __init__(self, graph: Graph, tiers: CompactionStore) -> None:
        self.graph = graph
        self.tiers = tiers  # the cold part of inference counts

    async def reach(
        self, holders: Sequence[str], as_of: datetime, known_at: datetime, depth: int
    ) -> list[Reached]:
        records = await self.graph.read(
            reach_query(depth), {"holders": list(holders), "asOf": as_of, "knownAt": known_at}
        )
        return [
            Reached(
                holder=str(r["holder"]),
                held=str(r["held"]),
                stopped=tuple(sorted(r["stopped"])),
                runs=tuple(
                    (str(run_id), tuple(sorted({str(mv) for mv in models})))
                    for run_id, models in (pair for pair in r["runs"] if pair is not None)
                ),
            )
            for r in records
        ]

    async def inference_counts(
        self, ids: Sequence[str], as_of: datetime, known_at: datetime
    ) -> dict[str, int]:
        """Inferences each model version served up to `as_of`, both tiers."""
        if not ids:
            return {}
        records = await self.graph.read(COUNTS, {"ids": list(ids), "asOf": as_of, "knownAt": known_at})
        counts = {str(r["modelVersionId"]): int(r["inferences"]) for r in records}
        cuts: dict[str, list[list[Any]]] = {
            str(r["modelVersionId"]): list(r["coldCuts"]) for r in records if r["coldCuts"]
        }
        return await self.tiers.with_cold_cuts(counts, cuts, as_of, known_at) if cuts else counts
