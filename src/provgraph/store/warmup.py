"""Warm Neo4j's plan cache before the service says it is ready.

Neo4j compiles a plan the first time it sees a statement (keyed by its text and its parameters' types):
measured after a restart, the first impact report took 2.8 s against 12 ms warm. So before `/readyz`
answers 200, every named statement of the store is planned once with parameters of the types it will
get — lookups are run, against keys that no node has; scans and writes are only planned — and the
signature queries, at the depth requests use by default and in every variant, are run a few times the
same way, which also warms the server's execution paths (measured: a first impact report 217 ms after planning
alone, 41 ms after running, 12 ms warm).

A statement a request builds at another depth (an explicit `maxDepth`) is planned on its first use.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, LiteralString

from neo4j.exceptions import Neo4jError

from provgraph.domain.ids import CASE_KINDS, Kind
from provgraph.domain.lineage import Direction
from provgraph.store import lineage
from provgraph.store.graph import DeadlineExceeded, Graph

log = logging.getLogger("provgraph.store")

MISSING = "warmup:none"  # an id no node has: the warm-up runs find nothing and write nothing
_MOMENT = datetime(2026, 1, 1, tzinfo=UTC)

# Parameter types by name (what the store passes under that name); any other name is a string. A plan is
# cached per parameter types, so the warm-up must send the types requests send.
_TIMES = {
    "now",
    "asOf",
    "knownAt",
    "at",
    "startedAt",
    "endedAt",
    "expiresAt",
    "firstAt",
    "before",
    "cutoff",
    "boundary",
    "leaseUntil",
}
_INTS = {"limit", "first", "cap", "capPlusOne", "seq", "maxPaths", "afterSeq", "version", "snapshotId"}
_FLOATS = {"metricMin", "metricMax", "min"}
_LISTS = {
    "ids", "sourceIds", "metricKeys", "versionInputs", "sliceInputs", "rows", "entries",
    "derivedFrom", "datasets", "undecided", "scan",
}  # fmt: skip
_LISTS_OF_MAPS = {"rows", "entries", "versionInputs", "sliceInputs", "derivedFrom", "datasets"}
_MAPS = {"props", "event", "parameters"}
# Absent in the common request: cursors on a first page, no node-kind filter on a lineage.
_NULLS = {"after", "afterModel", "afterVersion", "labels"}
_KEYS = {"hash", "query", "artifactUri", "alias"}  # other parameters that select by an exact value

_STATEMENT_WORDS = ("MATCH", "MERGE", "RETURN")
_SIGNATURE_RUNS = 3  # the JVM compiles a plan's hot paths after a few executions
# Neo4j also keys a cached plan by the size of each list parameter, in powers of ten (measured on 5.26:
# lists of 1, 2-10, 11-100, 101-1,000 each planned anew, 0.4-0.8 s apiece): reads taking ids are warmed
# at one size of each bucket a page can reach (pages hold up to 500).
_LIST_SIZES = (1, 10, 100, 500)
_WRITE = re.compile(r"\b(MERGE|CREATE|SET|DELETE|REMOVE)\b")


@dataclass(frozen=True)
class Warmed:
    """What a warm-up did: plans compiled, signature queries run, statements that failed, seconds."""

    planned: int
    ran: int
    failed: tuple[str, ...]
    seconds: float


def named_statements() -> list[tuple[str, LiteralString]]:
    """Every statement the store modules hold as an upper-case module constant, by `module.NAME`."""
    import provgraph.store as store

    found: list[tuple[str, LiteralString]] = []
    for info in pkgutil.iter_modules(store.__path__):
        module = importlib.import_module(f"provgraph.store.{info.name}")
        for name, value in vars(module).items():
            statement = isinstance(value, str) and any(w in value for w in _STATEMENT_WORDS)
            if statement and name.isupper() and not name.startswith("_"):
                found.append((f"{info.name}.{name}", value))
    return found


def signature_queries(depth: int) -> list[tuple[str, str]]:
    """The traversal statements requests build, in every variant, at `depth`."""
    built = [
        ("models_using_source", lineage.models_using_source_query(depth)),
        ("trace_inference", lineage.trace_inference_query(depth)),
        ("trace_cold_inference", lineage.trace_cold_inference_query(depth)),
        ("impact", lineage.impact_query(depth)),
        ("compare", lineage.compare_query(depth)),
    ]
    for label in ("DatasetVersion", "Slice"):
        built.append((f"consumers-{label}", lineage.consumers_query(label, depth)))
    for label in (k.label for k in Kind if k not in CASE_KINDS):
        for direction in Direction:
            built.append(
                (f"lineage-{label}-{direction.value}", lineage.lineage_query(label, direction, depth))
            )
    return built


def _selects_by_key(statement: str) -> bool:
    """Whether the statement looks nodes up by a key (ids, an id, a token's hash, a search text), so that
    a key no node has makes it find nothing at once."""
    names = set(re.findall(r"\$(\w+)", statement))
    return any(n in _LISTS - _LISTS_OF_MAPS or n.endswith(("Id", "id")) or n in _KEYS for n in names)


def _has_list(statement: str) -> bool:
    """Whether the statement takes a list of ids (whose size bucket is part of its cached plan's key)."""
    return any(name in _LISTS - _LISTS_OF_MAPS for name in re.findall(r"\$(\w+)", statement))


def parameters_of(statement: str, size: int = 1) -> dict[str, Any]:
    """Values of the right types for every parameter the statement names; lists of ids hold `size`."""
    params: dict[str, Any] = {}
    for name in set(re.findall(r"\$(\w+)", statement)):
        if name in _TIMES:
            params[name] = _MOMENT
        elif name in _INTS:
            params[name] = 1
        elif name in _FLOATS:
            params[name] = 0.0
        elif name in _LISTS:
            # One element, not none: a plan is cached per parameter type, and an empty list's element
            # type is not a string list's (an empty list left the first real lineage request cold).
            params[name] = [] if name in _LISTS_OF_MAPS else [f"{MISSING}:{n}" for n in range(size)]
        elif name in _MAPS:
            params[name] = {}
        elif name in _NULLS:
            params[name] = None
        else:
            params[name] = MISSING
    return params


async def warm(graph: Graph, depth: int) -> Warmed:
    """Plan every named statement (running the reads at each list-size bucket) and run every signature
    query a few times; see the module's docstring. A statement that will not plan is reported in
    `failed`; Neo4j becoming unavailable ends the warm-up with that error."""
    started = time.monotonic()
    planned, ran, failed = 0, 0, []
    for name, statement in named_statements():
        explain: LiteralString = "EXPLAIN " + statement
        try:
            if _WRITE.search(statement):
                await graph.write_statement(explain, parameters_of(statement))
            elif _selects_by_key(statement):
                # A lookup runs: its keys match nothing, and running also warms the server's code paths.
                for size in _LIST_SIZES if _has_list(statement) else (1,):
                    await graph.read(statement, parameters_of(statement, size))
            else:  # a scan (audit, listings) is only planned: run, it would read everything
                await graph.read(explain, parameters_of(statement))
            planned += 1
        except (Neo4jError, DeadlineExceeded) as exc:  # reported and skipped; an outage ends the warm-up
            log.warning("warm-up: could not plan %s: %s", name, exc)
            failed.append(name)
    for name, statement in signature_queries(depth):
        try:
            for _ in range(_SIGNATURE_RUNS):
                await graph.read(statement, parameters_of(statement))
            ran += 1
        except (Neo4jError, DeadlineExceeded) as exc:
            log.warning("warm-up: could not run %s: %s", name, exc)
            failed.append(name)
    seconds = time.monotonic() - started
    log.info("warmed %d plans and ran %d signature queries in %.1fs", planned, ran, seconds)
    return Warmed(planned, ran, tuple(failed), seconds)
