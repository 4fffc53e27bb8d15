"""Finding nodes by name or id, through a Neo4j full-text index over the names people search by."""

from __future__ import annotations

from collections.abc import Sequence

from provgraph.domain.lineage import Entity
from provgraph.store import fragments
from provgraph.store.entities import entity_from
from provgraph.store.graph import Graph

INDEX = "node_search"
# The labels and properties a search looks in (the index is created with the constraints, schema.py).
SEARCHED_LABELS = (
    "Source", "Dataset", "DatasetVersion", "Slice", "Experiment", "Run", "Model", "ModelVersion", "Endpoint",
    "Deployment", "Inference",
)  # fmt: skip
SEARCHED_PROPERTIES = ("id", "name", "key", "version", "description", "artifactUri", "uri", "owner")

SEARCH = (
    """
CALL db.index.fulltext.queryNodes('node_search', $query, {limit: $scan}) YIELD node, score
WHERE $labels IS NULL OR labels(node)[0] IN $labels
WITH node, score ORDER BY score DESC, node.id LIMIT $first
RETURN """
    + fragments.any_node("node")
    + """ AS node, score
"""
)


class SearchStore:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def search(
        self, query: str, labels: Sequence[str] | None, first: int
    ) -> list[tuple[Entity, float]]:
        """Nodes matching a Lucene query, best first."""
        records = await self.graph.read(
            SEARCH,
            {"query": query, "labels": list(labels) if labels else None, "first": first, "scan": first * 20},
        )
        return [(entity_from(r["node"]), float(r["score"])) for r in records]
