"""Checking, inside a write transaction, that everything a new fact refers to exists."""

from __future__ import annotations

from collections.abc import Sequence

from provgraph.domain.errors import NotFound
from provgraph.domain.ids import Kind
from provgraph.store.graph import Tx

# Which of the given ids, per kind, do not exist. One list parameter per kind (labels cannot be
# parameters, so each kind has its own fixed clause).
MISSING_REFERENCES = """
RETURN
  [x IN $source WHERE NOT EXISTS { MATCH (:Source {id: x}) }] AS source,
  [x IN $dataset WHERE NOT EXISTS { MATCH (:Dataset {id: x}) }] AS dataset,
  [x IN $datasetVersion WHERE NOT EXISTS { MATCH (:DatasetVersion {id: x}) }] AS datasetVersion,
  [x IN $slice WHERE NOT EXISTS { MATCH (:Slice {id: x}) }] AS slice,
  [x IN $experiment WHERE NOT EXISTS { MATCH (:Experiment {id: x}) }] AS experiment,
  [x IN $run WHERE NOT EXISTS { MATCH (:Run {id: x}) }] AS run,
  [x IN $model WHERE NOT EXISTS { MATCH (:Model {id: x}) }] AS model,
  [x IN $modelVersion WHERE NOT EXISTS { MATCH (:ModelVersion {id: x}) }] AS modelVersion,
  [x IN $endpoint WHERE NOT EXISTS { MATCH (:Endpoint {id: x}) }] AS endpoint,
  [x IN $deployment WHERE NOT EXISTS { MATCH (:Deployment {id: x}) }] AS deployment
"""


async def require_existing(tx: Tx, references: Sequence[tuple[str, str]]) -> None:
    """`references` lists (field name, id); raise NotFound naming the field of the first missing one."""
    # Facts refer to provenance nodes only: never to inferences or exclusion cases.
    by_kind: dict[str, list[str]] = {
        kind.value: [] for kind in Kind if kind not in (Kind.INFERENCE, Kind.EXCLUSION_CASE)
    }
    for _, ref in references:
        by_kind[ref.split(":", 1)[0]].append(ref)
    result = await tx.run(MISSING_REFERENCES, by_kind)
    record = await result.single(strict=True)
    missing = {ref for kind in by_kind for ref in record[kind]}
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
