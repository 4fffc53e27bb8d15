"""Checking, inside a write transaction, that everything a new fact refers to exists."""

from __future__ import annotations

from collections.abc import Sequence

from provgraph.domain.errors import NotFound
from provgraph.domain.ids import CASE_KINDS, Kind
from provgraph.store.graph import Tx

# Which of the given ids do not exist: each checked against its kind's label (its prefix). One list
# parameter for all kinds (see lineage.ENTITIES_BY_IDS on why not one per kind). Facts refer to provenance
# nodes only: never to inferences or cases (exclusion, erasure), whose ids are reported missing here.
_CHECKS = " OR ".join(
    f"(x STARTS WITH '{kind.value}:' AND EXISTS {{ MATCH (:{kind.label} {{id: x}}) }})"
    for kind in Kind
    if kind is not Kind.INFERENCE and kind not in CASE_KINDS
)
MISSING_REFERENCES = "RETURN [x IN $ids WHERE NOT (" + _CHECKS + ")] AS missing"


async def require_existing(tx: Tx, references: Sequence[tuple[str, str]]) -> None:
    """`references` lists (field name, id); raise NotFound naming the field of the first missing one."""
    if not references:
        return
    result = await tx.run(MISSING_REFERENCES, {"ids": sorted({ref for _, ref in references})})
    record = await result.single(strict=True)
    missing = set(record["missing"])
    for field, ref in references:
        if ref in missing:
            raise NotFound(f"{field} refers to {ref!r}, which does not exist", field=field)


def fields_of(**ids: Sequence[str] | str | None) -> list[tuple[str, str]]:
    """Build the (field, id) list from keyword arguments whose values are an id, ids, or None."""
    pairs: list[tuple[str, str]] = []
    for field, value in ids.items():
        if value is None:
            continue
        for ref in [value] if isinstance(value, str) else value:
            pairs.append((field, ref))
    return pairs
