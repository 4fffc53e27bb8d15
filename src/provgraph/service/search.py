"""Finding any node by name or id (the explorer's search box; `search` in the API)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import kind_of_label
from provgraph.domain.lineage import Entity
from provgraph.service import validate as v
from provgraph.store.search import SearchStore

_WORD = re.compile(r"[A-Za-z0-9]+")
MAX_TERMS = 8
MAX_RESULTS = 100


@dataclass(frozen=True)
class SearchHit:
    entity: Entity
    score: float


class SearchService:
    def __init__(self, store: SearchStore) -> None:
        self.store = store

    async def search(self, text: str, kinds: Sequence[str] | None, first: int | None) -> list[SearchHit]:
        """Nodes whose id, name, key, version, description or URI has words starting with every word of
        `text` (so `sentim v2` finds `modelVersion:sentiment:2`), best first."""
        checked = v.required_text(text, "text", 200)
        size = 20 if first is None else first
        if not 1 <= size <= MAX_RESULTS:
            raise InvalidArgument(f"first must be between 1 and {MAX_RESULTS}; got {size}", field="first")
        labels = None
        if kinds:
            for label in kinds:
                try:
                    kind_of_label(label)
                except KeyError:
                    raise InvalidArgument(
                        f"kinds holds {label!r}, which is not a node type", field="kinds"
                    ) from None
            labels = list(kinds)
        # Words only (the index splits on everything else too), each as a prefix, all required: the query
        # holds no Lucene syntax a caller could inject.
        words = [w.lower() for w in _WORD.findall(checked)][:MAX_TERMS]
        if not words:
            raise InvalidArgument("text must hold at least one letter or digit", field="text")
        query = " AND ".join(f"{word}*" for word in words)
        return [SearchHit(entity, score) for entity, score in await self.store.search(query, labels, size)]
