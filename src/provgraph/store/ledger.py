"""The ledgers in Neo4j: hash-chained, sealed entries, one chain per scope (see domain.facts).

An append runs inside the transaction that records the fact, as its last statement: it takes the scope's
write lock (so entries of one scope are numbered one writer at a time), creates the entries and moves the
head. Being last keeps the lock order the same everywhere — the fact's own locks first, the ledger's last —
and the lock is held only for the end of the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, LiteralString, TypeVar

from provgraph.domain.audit import AuditKey, canonical
from provgraph.domain.facts import Fact, FactKind, LedgerEntry, Scope, entry_hash
from provgraph.domain.records import Stamp
from provgraph.store.graph import Graph, Tx
from provgraph.store.values import as_datetime, opt_str

T = TypeVar("T")

# The scope's head, with its write lock.
LOCK_LEDGER = """
MERGE (l:Ledger {scope: $scope})
ON CREATE SET l.seq = 0
SET l._lock = true REMOVE l._lock
RETURN l.seq AS seq, l.head AS head
"""

APPEND_ENTRIES = """
MATCH (l:Ledger {scope: $scope})
UNWIND $entries AS entry
CREATE (x:LedgerEntry)
SET x = entry
WITH l, count(x) AS appended
SET l.seq = $seq, l.head = $head
RETURN appended
"""

# Every entry of every scope, in order, with each scope's recorded head.
ENTRIES = """
MATCH (l:Ledger)
CALL (l) {
  OPTIONAL MATCH (x:LedgerEntry {scope: l.scope})
  WITH x ORDER BY x.seq
  RETURN collect(x {.*, recordedAt: toString(x.recordedAt)}) AS entries
}
RETURN l.scope AS scope, l.seq AS seq, l.head AS head, entries
ORDER BY l.scope
"""


def entry_from(props: Mapping[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        id=props["id"],
        scope=Scope(props["scope"]),
        seq=int(props["seq"]),
        kind=FactKind(props["kind"]),
        subject_id=props["subjectId"],
        content=json.loads(props["content"]),
        actor=props["actor"],
        recorded_at=as_datetime(props["recordedAt"]),
        recorded_in=props["recordedIn"],
        prev_hash=opt_str(props, "prevHash"),
        hash=props["hash"],
        mac=opt_str(props, "mac"),
        key_id=opt_str(props, "keyId"),
    )


class Ledger:
    """Appends facts to their scope's chain.

    Parameters:
        key: the audit key that seals each entry (None: chained, not sealed).
    """

    def __init__(self, key: AuditKey | None) -> None:
        self.key = key

    async def record(self, tx: Tx, stamp: Stamp, facts: Sequence[Fact]) -> None:
        """Append `facts` (in order) within the caller's transaction. Facts of several scopes may be given."""
        by_scope: dict[Scope, list[Fact]] = {}
        for fact in facts:
            by_scope.setdefault(fact.kind.scope, []).append(fact)
        for scope in sorted(by_scope, key=lambda s: s.value):  # one lock order for every writer
            await self._append(tx, stamp, scope, by_scope[scope])

    async def _append(self, tx: Tx, stamp: Stamp, scope: Scope, facts: list[Fact]) -> None:
        head = await (await tx.run(LOCK_LEDGER, scope=scope.value)).single(strict=True)
        seq, prev = int(head["seq"]), head["head"]
        entries = []
        for fact in facts:
            seq += 1
            digest = entry_hash(
                scope, seq, fact.kind, fact.subject_id, fact.content, stamp.actor, stamp.now, prev
            )
            entries.append(
                {
                    "id": f"ledger:{scope.value}:{seq}",
                    "scope": scope.value,
                    "seq": seq,
                    "kind": fact.kind.value,
                    "subjectId": fact.subject_id,
                    "content": canonical(fact.content),
                    "actor": stamp.actor,
                    "recordedAt": stamp.now,
                    "recordedIn": stamp.write_id,
                    "prevHash": prev,
                    "hash": digest,
                    "mac": self.key.seal(digest) if self.key else None,
                    "keyId": self.key.id if self.key else None,
                }
            )
            prev = digest
        result = await tx.run(APPEND_ENTRIES, scope=scope.value, entries=entries, seq=seq, head=prev)
        await result.consume()


class LedgerReader:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def chains(self) -> list[tuple[Scope, int, str | None, list[LedgerEntry]]]:
        """Every scope's (head seq, head hash, entries in order)."""
        records = await self.graph.read(ENTRIES)
        return [
            (Scope(r["scope"]), int(r["seq"] or 0), r["head"], [entry_from(e) for e in r["entries"]])
            for r in records
        ]


async def merge_and_record(
    graph: Graph,
    ledger: Ledger,
    query: LiteralString,
    params: dict[str, Any],
    stamp: Stamp,
    convert: Callable[[Mapping[str, Any]], T],
    fact_of: Callable[[T], Fact],
) -> tuple[T, bool]:
    """Run a registration statement that returns `node` and `created` (fragments.merge_by_id); when it
    created the node, append its fact in the same transaction."""

    async def work(tx: Tx) -> tuple[T, bool]:
        record = await (await tx.run(query, params)).single(strict=True)
        entity, created = convert(record["node"]), bool(record["created"])
        if created:
            await ledger.record(tx, stamp, [fact_of(entity)])
        return entity, created

    return await graph.write(work)
