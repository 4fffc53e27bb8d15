"""The PROV mapping on its own (no database): ids of every shape the graph allows, and principals of any
text, survive every format and its reader; what the graph does not hold is left out, not made up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from prov.model import ProvDocument

from prov_docs import FORMATS, attr, elements, read, relations, same_graph
from provgraph.domain.catalog import DatasetVersion, Source
from provgraph.domain.documents import Answer
from provgraph.domain.ids import NAME_PATTERN
from provgraph.domain.lineage import Edge
from provgraph.domain.records import Recorded
from provgraph.domain.runs import Code, Environment, InputRole, Run, RunInput, RunKind, RunStatus
from provgraph.service.documents.prov import rdf_graph, serialise
from provgraph.service.documents.prov_mapping import ProvAnswer, build, node_name

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def answer_with(name: str, principal: str) -> ProvAnswer:
    """A run that used a dataset version from a source, every id built from `name`."""
    recorded = Recorded(T0 + timedelta(days=30), principal)
    source = Source(f"source:{name}", name, "crawl", None, None, None, None, recorded)
    data = DatasetVersion(
        f"datasetVersion:{name}:{name}", f"dataset:{name}", name, None, None, None, None, T0,
        (source.id,), (), None, recorded,
    )  # fmt: skip
    run = Run(
        f"run:{name}", name, RunKind.TRAIN, None, RunStatus.RUNNING, T0 + timedelta(hours=1), None, {}, {},
        Code(), Environment(), (RunInput(data.id, InputRole.TRAIN),), (), recorded,
    )  # fmt: skip
    edges = (
        Edge("FROM_SOURCE", data.id, source.id, valid_from=T0, recorded_at=recorded.recorded_at),
        Edge(
            "USED", run.id, data.id, role="TRAIN", valid_from=run.started_at, recorded_at=recorded.recorded_at
        ),
    )
    nodes = {n.id: n for n in (source, data, run)}
    return ProvAnswer(Answer.LINEAGE, run.id, "t", T0, T0, False, nodes, edges)


names = st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda n: ":" not in n)


@settings(max_examples=25, deadline=None)
@given(
    name=names, principal=st.text(min_size=1, max_size=40).filter(lambda s: "\n" not in s and "\r" not in s)
)
def test_any_id_and_any_principal_survive_every_format(name: str, principal: str) -> None:
    document = build(answer_with(name, principal))
    bodies = {fmt: serialise(document, fmt) for fmt in FORMATS}
    json_doc, provn_doc = read("json", bodies["json"]), read("provn", bodies["provn"])
    assert json_doc == provn_doc == document
    assert same_graph(read("turtle", bodies["turtle"]), read("jsonld", bodies["jsonld"]))
    assert same_graph(read("turtle", bodies["turtle"]), rdf_graph(document))
    assert isinstance(json_doc, ProvDocument)
    found = elements(json_doc)
    assert {f"run:{name}", f"source:{name}", f"datasetVersion:{name}:{name}"} <= found.keys()
    (agent,) = [
        r for r in json_doc.get_records() if r.is_element() and str(r.identifier).startswith("pg:agent:")
    ]
    assert attr(agent, "pgv:name") == [principal]
    assert ("Usage", f"run:{name}", f"datasetVersion:{name}:{name}") in relations(json_doc)


def test_what_the_graph_does_not_hold_is_left_out() -> None:
    document = build(answer_with("bare", "someone"))
    source = next(
        r for r in document.get_records() if r.is_element() and r.identifier == node_name("source:bare")
    )
    names = {str(k) for k, _ in source.attributes}
    assert {"pgv:uri", "pgv:license", "pgv:owner", "pgv:excludedAt"}.isdisjoint(names)
    run = next(r for r in document.get_records() if r.is_element() and r.identifier == node_name("run:bare"))
    assert not attr(run, "prov:endTime") and not attr(run, "pgv:params") and not attr(run, "pgv:codeCommit")


def test_a_derivation_keeps_its_transform() -> None:
    answer = answer_with("x", "someone")
    older = DatasetVersion(
        "datasetVersion:x:old",
        "dataset:x",
        "old",
        None,
        None,
        None,
        None,
        T0,
        (),
        (),
        None,
        Recorded(T0, "someone"),
    )
    derived = Edge(
        "DERIVED_FROM", "datasetVersion:x:x", older.id, transform="dedupe", valid_from=T0, recorded_at=T0
    )
    document = build(
        ProvAnswer(
            Answer.LINEAGE,
            "run:x",
            "t",
            T0,
            T0,
            False,
            {**answer.nodes, older.id: older},
            (*answer.edges, derived),
        )
    )
    (record,) = relations(document)[("Derivation", "datasetVersion:x:x", older.id)]
    assert attr(record, "pgv:transform") == ["dedupe"]
    assert attr(record, "pgv:validFrom") == [T0]
