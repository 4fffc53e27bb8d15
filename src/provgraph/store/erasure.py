"""Erasure cases in Neo4j: an :ExclusionCase node with `trigger: 'ERASURE_REQUEST'` (store/exclusions.py
holds the decisions, listings and receipts every case shares), opened with its ledger fact in one
transaction."""

from __future__ import annotations

import json
from typing import Any

from provgraph.domain import facts
from provgraph.domain.exclusions import ErasureCase, Trigger
from provgraph.domain.records import Stamp
from provgraph.store.exclusions import CASE_PROJECTION, case_from
from provgraph.store.graph import Graph, Tx
from provgraph.store.ledger import Ledger
from provgraph.store.values import stamp_params

# The case by its id (derived from its key hashes): created with `props` unless it exists. The id's
# uniqueness constraint makes two concurrent openings of one request one case.
OPEN_ERASURE_CASE = (
    """
MERGE (c:ExclusionCase {id: $id})
ON CREATE SET c += $props, c.recordedAt = $now, c.recordedBy = $actor, c.recordedIn = $writeId
WITH c, c.recordedIn = $writeId AS created
RETURN """
    + CASE_PROJECTION
    + " AS node, created"
)


class ErasureStore:
    def __init__(self, graph: Graph, ledger: Ledger) -> None:
        self.graph = graph
        self.ledger = ledger

    async def open(self, case_id: str, props: dict[str, Any], stamp: Stamp) -> tuple[ErasureCase, bool]:
        """Open the case with `props` (its snapshot as a dict) and append its fact, or return the case already recorded under
        `case_id` (nothing written). Returns the case and whether this call wrote."""

        async def work(tx: Tx) -> tuple[ErasureCase, bool]:
            result = await tx.run(
                OPEN_ERASURE_CASE,
                id=case_id,
                props={
                    **props,
                    "snapshot": json.dumps(props["snapshot"], sort_keys=True),
                    "trigger": Trigger.ERASURE_REQUEST.value,
                },
                **stamp_params(stamp),
            )
            record = await result.single(strict=True)
            case = case_from(record["node"])
            if not isinstance(case, ErasureCase):  # an id of another kind cannot get here (domain/ids.py)
                raise AssertionError(f"{case_id} is not an erasure case")
            if record["created"]:
                await self.ledger.record(tx, stamp, [facts.erasure_case_opened(case)])
            return case, bool(record["created"])

        return await self.graph.write(work)
