"""Reading PROV exports back, with the real readers: the `prov` package for PROV-JSON and PROV-N, rdflib for
PROV-O (Turtle, JSON-LD); and the mapping table of the README, written out once so tests can check a
document against the graph's own answers."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from prov.model import ProvDocument, ProvRecord
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

PG = "urn:provgraph:"
PROV_NS = "http://www.w3.org/ns/prov#"
PGV = "urn:provgraph:vocab:"
FORMATS = ("json", "provn", "turtle", "jsonld")

# Each graph edge's PROV relation, and where its effective time goes: PROV's own time or pgv:validFrom.
RELATION_OF_EDGE = {
    "GENERATED_BY": ("Generation", "prov:time"),
    "SERVED_BY": ("Generation", "prov:time"),
    "USED": ("Usage", "prov:time"),
    "OF": ("Usage", "prov:time"),
    "ON": ("Association", "pgv:validFrom"),
    "DERIVED_FROM": ("Derivation", "pgv:validFrom"),
    "FROM_SOURCE": ("Derivation", "pgv:validFrom"),
    "SUBSET_OF": ("Derivation", "pgv:validFrom"),
    "FINE_TUNED_FROM": ("Derivation", "pgv:validFrom"),
    "PREDICTED_WITH": ("Derivation", "pgv:validFrom"),
    "PART_OF": ("Influence", "pgv:validFrom"),
    "VERSION_OF": ("Specialization", None),
}
# The prov:type that tells typed derivations apart, and PROV-O's unqualified property for each relation.
TYPE_OF_EDGE = {
    "FROM_SOURCE": "prov:PrimarySource",
    "SUBSET_OF": "pgv:Subset",
    "FINE_TUNED_FROM": "pgv:FineTuning",
    "PREDICTED_WITH": "pgv:Prediction",
    "PART_OF": "pgv:PartOf",
}
PROPERTY_OF_RELATION = {
    "Generation": "wasGeneratedBy",
    "Usage": "used",
    "Association": "wasAssociatedWith",
    "Derivation": "wasDerivedFrom",
    "Influence": "wasInfluencedBy",
    "Specialization": "specializationOf",
}
ACTIVITY_KINDS = ("run", "deployment")
AGENT_KINDS = ("endpoint",)


def read(fmt: str, body: bytes) -> ProvDocument | Graph:
    """PROV-JSON and PROV-N through prov's own readers; PROV-O through rdflib."""
    if fmt in ("json", "provn"):
        return ProvDocument.deserialize(content=body, format=fmt)
    graph = Graph()
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser builds the ConjunctiveGraph it deprecates (rdflib 7.x)
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        graph.parse(data=body, format={"turtle": "turtle", "jsonld": "json-ld"}[fmt])
    return graph


def pg_id(value: Any) -> str:
    """A provgraph id back from a PROV identifier (a QualifiedName or an IRI)."""
    uri = str(getattr(value, "uri", value))
    assert uri.startswith(PG), uri
    return uri[len(PG) :]


def attr(record: ProvRecord, name: str) -> list[Any]:
    """A record's values of one attribute, by its prefixed name (`prov:time`, `pgv:recordedAt`)."""
    return [v for k, v in record.attributes if str(k) == name]


def one(record: ProvRecord, name: str) -> Any:
    values = attr(record, name)
    assert len(values) == 1, (record, name, values)
    return values[0]


def elements(document: ProvDocument) -> dict[str, str]:
    """Every entity, activity and agent by provgraph id: its PROV class (Entity, Activity, Agent)."""
    return {
        pg_id(r.identifier): r.get_type().localpart
        for r in document.get_records()
        if r.is_element() and r.identifier is not None
    }


def relations(document: ProvDocument) -> dict[tuple[str, str, str], list[ProvRecord]]:
    """Relations by (PROV class, first formal argument's id, second's id)."""
    found: dict[tuple[str, str, str], list[ProvRecord]] = {}
    for r in document.get_records():
        if r.is_relation():
            first, second = r.formal_attributes[0][1], r.formal_attributes[1][1]
            key = (r.get_type().localpart, pg_id(first), pg_id(second))
            found.setdefault(key, []).append(r)
    return found


def when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def check_edges(document: ProvDocument, edges: Iterable[dict[str, Any]]) -> int:
    """Each graph edge (as the GraphQL API gives it) is its PROV relation, with its times; returns how many."""
    found = relations(document)
    checked = 0
    for edge in edges:
        kind, time_slot = RELATION_OF_EDGE[edge["type"]]
        records = [r for r in found.get((kind, edge["fromId"], edge["toId"]), []) if _fits(r, edge)]
        assert len(records) == 1, f"{len(records)} {kind} records for {edge}"
        checked += 1
        if time_slot is None:
            continue  # PROV gives specializationOf no attributes: the version's times are its own
        record = records[0]
        assert one(record, time_slot) == when(edge["validFrom"]), edge
        assert one(record, "pgv:recordedAt") == when(edge["recordedAt"]), edge
        if edge.get("transform"):
            assert one(record, "pgv:transform") == edge["transform"]
    return checked


def _fits(record: ProvRecord, edge: dict[str, Any]) -> bool:
    types = {str(t) for t in attr(record, "prov:type")}
    roles = {str(t) for t in attr(record, "prov:role")}
    wanted_type = TYPE_OF_EDGE.get(edge["type"])
    wanted_role = {"USED": "pgv:" + (edge.get("role") or "OTHER").lower(), "OF": "pgv:servedModel"}.get(
        edge["type"]
    )
    return (wanted_type is None or wanted_type in types) and (wanted_role is None or wanted_role in roles)


def check_rdf_edges(graph: Graph, edges: Iterable[dict[str, Any]]) -> None:
    """The same edges in PROV-O: the unqualified property PROV-O queries walk."""
    for edge in edges:
        prop = PROPERTY_OF_RELATION[RELATION_OF_EDGE[edge["type"]][0]]
        triple = (URIRef(PG + edge["fromId"]), URIRef(PROV_NS + prop), URIRef(PG + edge["toId"]))
        assert triple in graph, triple


def without_export(document: ProvDocument) -> set[ProvRecord]:
    """The records but the export's description (which states when a trace was drawn)."""
    return {
        r
        for r in document.get_records()
        if r.identifier is None or not pg_id(r.identifier).startswith("export:")
    }


def graph_without_export(graph: Graph) -> Graph:
    kept = Graph()
    for s, p, o in graph:
        if not str(s).startswith(PG + "export:"):
            kept.add((s, p, o))
    return kept


def same_graph(a: Graph, b: Graph) -> bool:
    return isomorphic(a, b)
