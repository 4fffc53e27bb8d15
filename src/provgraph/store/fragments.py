"""Cypher fragments shared by several statements: how each kind of node is projected into a map.

Every statement that returns nodes uses these, so one mapping function per kind (in the area modules)
reads them all. The functions take the name of the Cypher variable; they are only ever called with
literal variable names from this package, never with user input.
"""

from __future__ import annotations

from typing import LiteralString

# Datetimes travel as ISO strings: the Python driver decodes each Neo4j temporal value into its own
# time type at about 0.1 ms apiece, which dominated result decoding (120 model versions: 14 ms as
# temporal values, 3 ms as strings, measured). `validFrom` (a copy of the fact's own time, there for
# filtering) and `recordedIn` (a write id) are internal and left out.
_TIMES = (
    "recordedAt",
    "createdAt",
    "startedAt",
    "endedAt",
    "completedAt",
    "at",
    "excludedAt",
    "exclusionRecordedAt",
    "endRecordedAt",
)


def _open(x: str, label: str) -> str:
    times = ", ".join(f"{t}: toString({x}.{t})" for t in _TIMES)
    return f"{x} {{.*, label: {label}, validFrom: null, recordedIn: null, {times}"


def node(x: LiteralString, label: LiteralString) -> LiteralString:
    """A node of a known label, with no computed fields."""
    return _open(x, f"'{label}'") + "}"


def merge_by_id(label: LiteralString) -> LiteralString:
    """Register a node that has no edges of its own: created with `$props` and the write stamp if new,
    returned as stored either way, with whether this write created it."""
    return (
        "MERGE (x:" + label + " {id: $id}) "
        "ON CREATE SET x += $props, x.recordedAt = $now, x.recordedBy = $actor, x.recordedIn = $writeId "
        "RETURN " + node("x", label) + " AS node, x.recordedIn = $writeId AS created"
    )


def page_by_id(label: LiteralString) -> LiteralString:
    """A page of nodes of one label ordered by id, after `$after`, at most `$limit`, with the total."""
    return (
        "CALL () { MATCH (x:" + label + ") WHERE $after IS NULL OR x.id > $after "
        "WITH x ORDER BY x.id LIMIT $limit RETURN collect(" + node("x", label) + ") AS nodes } "
        "RETURN nodes, COUNT { (:" + label + ") } AS total"
    )


def dataset_version(x: LiteralString) -> LiteralString:
    return (
        _open(x, "'DatasetVersion'") + ", sourceIds: [(" + x + ")-[:FROM_SOURCE]->(s) | s.id], "
        "derivedFrom: [(" + x + ")-[r:DERIVED_FROM]->(p) | {fromId: p.id, transform: r.transform}], "
        "generatedBy: head([(" + x + ")-[:GENERATED_BY]->(r) | r.id])}"
    )


def slice_(x: LiteralString) -> LiteralString:
    return (
        _open(x, "'Slice'") + ", datasetVersionId: head([(" + x + ")-[:SUBSET_OF]->(v) | v.id]), "
        "sourceIds: [(" + x + ")-[:FROM_SOURCE]->(s) | s.id]}"
    )


def run(x: LiteralString) -> LiteralString:
    return (
        _open(x, "'Run'") + ", inputs: [(" + x + ")-[u:USED]->(i) | {id: i.id, role: u.role}], "
        "outputIds: [(o)-[:GENERATED_BY]->(" + x + ") | o.id]}"
    )


def model_version(x: LiteralString) -> LiteralString:
    return (
        _open(x, "'ModelVersion'") + ", trainedBy: head([(" + x + ")-[:GENERATED_BY]->(r) | r.id]), "
        "fineTunedFrom: head([(" + x + ")-[:FINE_TUNED_FROM]->(b) | b.id]), "
        "aliases: [(:Model)-[a:ALIAS]->(" + x + ") | a.name]}"
    )


def any_node(x: LiteralString) -> LiteralString:
    """A projection for a node of any kind (lineage results)."""
    return (
        "CASE "
        "WHEN " + x + ":DatasetVersion THEN " + dataset_version(x) + " "
        "WHEN " + x + ":Slice THEN " + slice_(x) + " "
        "WHEN " + x + ":Run THEN " + run(x) + " "
        "WHEN " + x + ":ModelVersion THEN " + model_version(x) + " "
        "ELSE " + _open(x, "labels(" + x + ")[0]") + "} END"
    )


def edge(r: LiteralString) -> LiteralString:
    return (
        "{type: type(" + r + "), fromId: startNode(" + r + ").id, toId: endNode(" + r + ").id, "
        "role: " + r + ".role, transform: " + r + ".transform}"
    )


# The live-at predicate of a deployment interval [startedAt, endedAt).
def live(d: LiteralString, at: LiteralString) -> LiteralString:
    return d + ".startedAt <= " + at + " AND (" + d + ".endedAt IS NULL OR " + d + ".endedAt > " + at + ")"


# The stage a model version held at a time, from its registry events (NONE before the first change).
def stage_at(mv: LiteralString, at: LiteralString) -> LiteralString:
    return (
        "CALL (" + mv + ") { "
        "OPTIONAL MATCH (e:RegistryEvent {kind: 'STAGE_CHANGED'})-[:CONCERNS]->(" + mv + ") "
        "WHERE e.at <= " + at + " "
        "WITH e ORDER BY e.at DESC, e.seq DESC LIMIT 1 "
        "RETURN coalesce(e.toStage, 'NONE') AS stageAt }"
    )
