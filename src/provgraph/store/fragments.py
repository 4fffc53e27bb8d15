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


# Pattern comprehensions inside a projection bind their own variables. They are named `fx…` so that they
# can never coincide with the projected node's variable: `slice_("s")` once wrote `(s)-[:FROM_SOURCE]->(s)`,
# which matched nothing, and every slice read back without its sources.
_INNER = frozenset(
    {
        "fxSource",
        "fxDerivation",
        "fxParent",
        "fxRun",
        "fxVersion",
        "fxUse",
        "fxInput",
        "fxOutput",
        "fxBase",
        "fxStage",
        "fxSet",
        "fxLater",
    }
)


def _checked(x: LiteralString) -> LiteralString:
    if x in _INNER:
        raise ValueError(f"{x!r} is reserved for the projections' own variables")
    return x


def dataset_version(x: LiteralString) -> LiteralString:
    x = _checked(x)
    return (
        _open(x, "'DatasetVersion'") + ", sourceIds: [(" + x + ")-[:FROM_SOURCE]->(fxSource) | fxSource.id], "
        "derivedFrom: [(" + x + ")-[fxDerivation:DERIVED_FROM]->(fxParent) | "
        "{fromId: fxParent.id, transform: fxDerivation.transform}], "
        "generatedBy: head([(" + x + ")-[:GENERATED_BY]->(fxRun) | fxRun.id])}"
    )


def slice_(x: LiteralString) -> LiteralString:
    x = _checked(x)
    return (
        _open(x, "'Slice'")
        + ", datasetVersionId: head([("
        + x
        + ")-[:SUBSET_OF]->(fxVersion) | fxVersion.id]), "
        "sourceIds: [(" + x + ")-[:FROM_SOURCE]->(fxSource) | fxSource.id]}"
    )


def run(x: LiteralString) -> LiteralString:
    x = _checked(x)
    return (
        _open(x, "'Run'")
        + ", inputs: [("
        + x
        + ")-[fxUse:USED]->(fxInput) | {id: fxInput.id, role: fxUse.role}], "
        "outputIds: [(fxOutput)-[:GENERATED_BY]->(" + x + ") | fxOutput.id]}"
    )


def stage_now(x: LiteralString) -> LiteralString:
    """A model version's stage, derived from its registry events — never from a stored property, so editing
    the database cannot change what is served without breaking the audit chain."""
    return (
        "coalesce(COLLECT { MATCH (fxStage:RegistryEvent {kind: 'STAGE_CHANGED'})-[:CONCERNS]->(" + x + ") "
        "RETURN fxStage.toStage ORDER BY fxStage.at DESC, fxStage.seq DESC LIMIT 1 }[0], 'NONE')"
    )


def aliases_now(x: LiteralString) -> LiteralString:
    """The aliases pointing at a model version: those whose latest event set them on it. (Each alias's
    events are appended in time order, so the latest by sequence is the latest in time.)"""
    return (
        "COLLECT { MATCH (fxSet:RegistryEvent {kind: 'ALIAS_SET'})-[:CONCERNS]->(" + x + ") "
        "WHERE NOT EXISTS { MATCH (fxLater:RegistryEvent {modelId: fxSet.modelId, alias: fxSet.alias}) "
        "WHERE fxLater.seq > fxSet.seq } RETURN DISTINCT fxSet.alias AS alias ORDER BY alias }"
    )


def model_version(x: LiteralString) -> LiteralString:
    x = _checked(x)
    return (
        _open(x, "'ModelVersion'") + ", trainedBy: head([(" + x + ")-[:GENERATED_BY]->(fxRun) | fxRun.id]), "
        "fineTunedFrom: head([(" + x + ")-[:FINE_TUNED_FROM]->(fxBase) | fxBase.id]), "
        "stage: " + stage_now(x) + ", aliases: " + aliases_now(x) + "}"
    )


def registry_event(e: LiteralString) -> LiteralString:
    """A registry event (it keeps `recordedIn`: a repeated request answers with the events it recorded)."""
    return (
        e
        + " {.*, label: 'RegistryEvent', at: toString("
        + e
        + ".at), recordedAt: toString("
        + e
        + ".recordedAt)}"
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
        "role: " + r + ".role, transform: " + r + ".transform, "
        "validFrom: toString(" + r + ".validFrom), recordedAt: toString(" + r + ".recordedAt)}"
    )


def live(d: LiteralString, at: LiteralString, known: LiteralString | None = None) -> LiteralString:
    """The predicate "deployment `d` was live at `at`" — its interval [startedAt, endedAt) holds `at`.
    With `known` (a parameter holding a transaction time), as the service knew it then: a deployment
    recorded later did not exist yet, and an end recorded later had not happened yet."""
    if known is None:
        return (
            d + ".startedAt <= " + at + " AND (" + d + ".endedAt IS NULL OR " + d + ".endedAt > " + at + ")"
        )
    return (
        d + ".recordedAt <= " + known + " AND " + d + ".startedAt <= " + at + " AND (" + d + ".endedAt IS NULL OR "
        + d + ".endRecordedAt > " + known + " OR " + d + ".endedAt > " + at + ")"
    )  # fmt: skip


def stage_at(mv: LiteralString, at: LiteralString, known: LiteralString) -> LiteralString:
    """`stageAt`: the stage a model version held at `at` as known at `known`, from its registry events
    (NONE before its first change)."""
    return (
        "CALL (" + mv + ") { "
        "OPTIONAL MATCH (e:RegistryEvent {kind: 'STAGE_CHANGED'})-[:CONCERNS]->(" + mv + ") "
        "WHERE e.at <= " + at + " AND e.recordedAt <= " + known + " "
        "WITH e ORDER BY e.at DESC, e.seq DESC LIMIT 1 "
        "RETURN coalesce(e.toStage, 'NONE') AS stageAt }"
    )
