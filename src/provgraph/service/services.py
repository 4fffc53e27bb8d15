"""The set of use-case services one process runs, wired to one Graph."""

from __future__ import annotations

from dataclasses import dataclass

from provgraph.config import Settings
from provgraph.service.catalog import CatalogService
from provgraph.store.catalog import CatalogStore
from provgraph.store.graph import Graph


@dataclass(frozen=True)
class Services:
    graph: Graph
    catalog: CatalogService

    @classmethod
    def build(cls, graph: Graph, settings: Settings) -> Services:
        return cls(graph=graph, catalog=CatalogService(CatalogStore(graph)))
