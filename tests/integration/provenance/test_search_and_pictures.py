"""Search by name or id (a full-text index), and lineage and traces as DOT and Mermaid text."""

from __future__ import annotations

import pytest

from conftest import GraphQL
from helpers import data, error
from story import Story

StoryFixture = tuple[GraphQL, Story]

KINDS = [
    "Source",
    "Dataset",
    "DatasetVersion",
    "Slice",
    "Experiment",
    "Run",
    "Model",
    "ModelVersion",
    "Endpoint",
    "Deployment",
    "Inference",
]
SEARCH = (
    "query($t: String!, $k: [String!], $n: Int) { search(text: $t, kinds: $k, first: $n) { score node { __typename "
    + " ".join(f"... on {kind} {{ id }}" for kind in KINDS)
    + " } } }"
)


def found(send: GraphQL, text: str, kinds: list[str] | None = None, first: int | None = None) -> list[str]:
    hits = data(send(SEARCH, {"t": text, "k": kinds, "n": first}))["search"]
    assert all(hit["score"] > 0 for hit in hits)
    return [hit["node"]["id"] for hit in hits]


def test_search_finds_nodes_by_words_of_their_names_and_ids(story: StoryFixture) -> None:
    send, _ = story
    assert found(send, "assistant", ["ModelVersion"]) == ["modelVersion:assistant:1"]
    assert "source:forum" in found(send, "for")  # a prefix is enough
    assert found(send, "corpus v3", ["DatasetVersion"]) == ["datasetVersion:corpus:v3"]
    assert found(send, "datasetVersion:corpus:v6")[0] == "datasetVersion:corpus:v6"  # an id, pasted
    assert found(send, "nothing-like-this-exists") == []
    assert len(found(send, "corpus", first=2)) == 2


def test_search_finds_what_was_just_written(story: StoryFixture) -> None:
    send, _ = story
    data(send('mutation { registerSource(input: {name: "fresh-lake", kind: "bucket"}) { created } }'))
    assert found(send, "fresh lake") == ["source:fresh-lake"]  # read your writes: no index lag to wait out


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"t": "   "}, "text"),
        ({"t": "***"}, "text"),
        ({"t": "x", "k": ["Table"]}, "kinds"),
        ({"t": "x", "n": 0}, "first"),
        ({"t": "x" * 201}, "text"),
    ],
)
def test_bad_searches(story: StoryFixture, variables: dict[str, object], field: str) -> None:
    send, _ = story
    refused = error(send(SEARCH, variables))
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("INVALID_ARGUMENT", field)


def test_a_lineage_page_and_a_trace_as_pictures(story: StoryFixture) -> None:
    send, _ = story
    page = data(
        send(
            '{ lineage(nodeId: "modelVersion:assistant:1", first: 100) { nodes { __typename } edges { type } dot mermaid } }'
        )
    )["lineage"]
    assert page["dot"].startswith("digraph provenance {") and page["dot"].rstrip().endswith("}")
    assert '"modelVersion:assistant:1"' in page["dot"] and "penwidth=2.5" in page["dot"]
    assert page["dot"].count(" -> ") == len(page["edges"])
    assert page["mermaid"].count("-->|") == len(page["edges"])
    trace = data(send('{ traceInference(inferenceId: "inference:inf-chat") { edgeCount dot mermaid } }'))[
        "traceInference"
    ]
    # The trace adds the inference → deployment → model version hops to its provenance edges.
    assert trace["dot"].count(" -> ") == trace["edgeCount"] + 3
    assert '"inference:inf-chat"' in trace["dot"] and "source:forum" in trace["dot"]
    assert "Inference<br/>inf-chat" in trace["mermaid"]
