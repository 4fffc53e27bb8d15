"""DOT and Mermaid text of lineage pictures: valid, complete, and safe for any id or label."""

from __future__ import annotations

import warnings

import pydot

from provgraph.domain.lineage import Edge
from provgraph.service.pictures import dot, label_of, mermaid

EDGES = [
    Edge("GENERATED_BY", "modelVersion:sentiment:2", "run:train-0410"),
    Edge("USED", "run:train-0410", "slice:reviews:v3:train", role="TRAIN"),
    Edge("SUBSET_OF", "slice:reviews:v3:train", "datasetVersion:reviews:v3"),
    Edge(
        "DERIVED_FROM", "datasetVersion:reviews:v3", "datasetVersion:reviews:v2", transform='dedupe "strict"'
    ),
    Edge("FROM_SOURCE", "datasetVersion:reviews:v2", "source:acme-reviews"),
]


def test_labels_come_from_ids() -> None:
    assert label_of("modelVersion:sentiment:2") == ("ModelVersion", "sentiment #2")
    assert label_of("slice:reviews:v3:train") == ("Slice", "reviews v3 / train")
    assert label_of("source:acme-reviews") == ("Source", "acme-reviews")


def test_dot_parses_and_holds_every_node_and_edge() -> None:
    text = dot(["modelVersion:sentiment:2"], EDGES, highlight=["modelVersion:sentiment:2"])
    with warnings.catch_warnings():  # pydot still calls pyparsing's camel-case API, deprecated since 3.3
        warnings.simplefilter("ignore", DeprecationWarning)
        (graph,) = pydot.graph_from_dot_data(text)
    names = {n.get_name().strip('"') for n in graph.get_nodes()} - {"node", "edge"}
    assert names == {e.from_id for e in EDGES} | {e.to_id for e in EDGES}
    assert len(graph.get_edges()) == len(EDGES)
    derived = next(e for e in graph.get_edges() if "DERIVED_FROM" in e.get("label"))
    assert 'dedupe \\"strict\\"' in derived.get("label")  # quotes in a transform are escaped, not fatal
    start = next(n for n in graph.get_nodes() if n.get_name().strip('"') == "modelVersion:sentiment:2")
    assert start.get("penwidth") == "2.5"


def test_mermaid_names_every_node_once_and_escapes_labels() -> None:
    text = mermaid([], EDGES, highlight=["source:acme-reviews"])
    lines = text.splitlines()
    assert lines[0] == "flowchart BT"
    nodes = [line for line in lines if '["' in line]
    assert len(nodes) == 6
    assert sum("-->|" in line for line in lines) == len(EDGES)
    assert '"strict"' not in text and "#quot;strict#quot;" in text
    assert any(line.startswith("  class ") and line.endswith(" highlight") for line in lines)
