"""W3C PROV exports of the story's answers: every answer in every format, read back with the real readers
(prov for PROV-JSON and PROV-N, rdflib for Turtle and JSON-LD) and compared with the GraphQL API's own
answers for the same times; the bytes are the same for the same request; bad requests get coded errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prov.model import ProvDocument
from rdflib import URIRef
from starlette.testclient import TestClient

from conftest import GraphQL, Tokens
from helpers import data, error
from prov_docs import (
    ACTIVITY_KINDS,
    AGENT_KINDS,
    FORMATS,
    PG,
    PGV,
    attr,
    check_edges,
    check_rdf_edges,
    elements,
    graph_without_export,
    one,
    pg_id,
    read,
    relations,
    same_graph,
    when,
    without_export,
)
from provgraph.service.documents.prov import rdf_graph
from story import Story, T

AS_OF = T["T8"]
MV = "modelVersion:assistant:1"

NODE_TYPES = ("Source", "Dataset", "DatasetVersion", "Slice", "Experiment", "Run", "Model", "ModelVersion")
NODE_TYPES += ("Endpoint", "Deployment", "Inference")
NODE_IDS = " ".join(f"... on {t} {{ id }}" for t in NODE_TYPES)
EDGE_FIELDS = "type fromId toId role transform validFrom recordedAt"


@pytest.fixture(scope="module")
def pinned(story: tuple[GraphQL, Story]) -> Iterator[tuple[GraphQL, datetime]]:
    """The story, and a transaction time after it was recorded: exports and answers drawn as of it."""
    send, _ = story
    yield send, datetime.now(UTC) + timedelta(seconds=1)


def times(known_at: datetime) -> dict[str, str]:
    return {"asOf": AS_OF.isoformat(), "knownAt": known_at.isoformat()}


def export(client: TestClient, tokens: Tokens, subject: str, fmt: str, **params: str) -> bytes:
    response = client.get(
        f"/v1/export/prov/{subject}", params={"format": fmt, **params}, headers=tokens.header("reader")
    )
    assert response.status_code == 200, response.text
    return response.content


def every_format(client: TestClient, tokens: Tokens, subject: str, **params: str) -> dict[str, Any]:
    return {fmt: read(fmt, export(client, tokens, subject, fmt, **params)) for fmt in FORMATS}


def check_formats_agree(docs: dict[str, Any], keep_export: bool = True) -> ProvDocument:
    """PROV-JSON and PROV-N read back as the same PROV document; Turtle and JSON-LD as the same graph,
    which is that document's PROV-O."""
    json_doc, provn_doc = docs["json"], docs["provn"]
    turtle, jsonld = docs["turtle"], docs["jsonld"]
    if keep_export:
        assert json_doc == provn_doc
        assert same_graph(turtle, jsonld)
        assert same_graph(turtle, rdf_graph(json_doc))
    else:  # a trace states when it was drawn, and each format was drawn a moment apart
        assert without_export(json_doc) == without_export(provn_doc)
        assert same_graph(graph_without_export(turtle), graph_without_export(jsonld))
        assert same_graph(graph_without_export(turtle), graph_without_export(rdf_graph(json_doc)))
    assert isinstance(json_doc, ProvDocument)
    return json_doc


def lineage(send: GraphQL, node: str, direction: str, known_at: datetime) -> dict[str, Any]:
    query = f"""query($n: ID!, $d: Direction!, $a: DateTime, $k: DateTime) {{
      lineage(nodeId: $n, direction: $d, asOf: $a, knownAt: $k, first: 500) {{
        nodes {{ {NODE_IDS} }} edges {{ {EDGE_FIELDS} }} isPartial pageInfo {{ hasNextPage }} }} }}"""
    found = data(send(query, {"n": node, "d": direction, "a": AS_OF.isoformat(), "k": known_at.isoformat()}))
    assert not found["lineage"]["pageInfo"]["hasNextPage"]
    return dict(found["lineage"])


def kind_of(node_id: str) -> str:
    kind = node_id.split(":", 1)[0]
    return "Activity" if kind in ACTIVITY_KINDS else "Agent" if kind in AGENT_KINDS else "Entity"


def check_nodes(document: ProvDocument, node_ids: set[str]) -> None:
    """The document's elements are the answer's nodes (each as its PROV class), its recorders and actors
    (agents), its registry events, and its own description."""
    found = elements(document)
    nodes = {i: k for i, k in found.items() if not i.startswith(("agent:", "export:", "event:"))}
    assert nodes == {i: kind_of(i) for i in node_ids}
    assert [k for i, k in found.items() if i.startswith("export:")] == ["Entity"]
    assert all(k == "Agent" for i, k in found.items() if i.startswith("agent:"))


def export_record(document: ProvDocument) -> Any:
    (record,) = [r for r in document.get_records() if pg_id(r.identifier or PG).startswith("export:")]
    return record


def record_of(document: ProvDocument, node_id: str) -> Any:
    (record,) = [r for r in document.get_records() if r.is_element() and pg_id(r.identifier) == node_id]
    return record


def test_a_model_versions_whole_provenance(client: TestClient, tokens: Tokens, pinned: Any) -> None:
    send, known_at = pinned
    doc = check_formats_agree(every_format(client, tokens, MV, **times(known_at)))
    upstream = lineage(send, MV, "UPSTREAM", known_at)
    version = data(
        send(
            f"""{{ modelVersion(id: "{MV}") {{
              stateAt(at: "{AS_OF.isoformat()}") {{ stage aliases }}
              history {{ id kind at actor reason toStage fromStage hash prevHash recordedAt }}
              deployments {{ id endpointId startedAt endedAt recordedAt }} }} }}"""
        )
    )["modelVersion"]
    deployments = version["deployments"]
    assert deployments  # the story deploys it on chat
    upstream_ids = {n["id"] for n in upstream["nodes"]} | {MV}
    check_nodes(doc, upstream_ids | {d["id"] for d in deployments} | {d["endpointId"] for d in deployments})
    served = [
        {"type": t, "fromId": d["id"], "toId": to, "validFrom": d["startedAt"], "recordedAt": d["recordedAt"]}
        for d in deployments
        for t, to in (("OF", MV), ("ON", d["endpointId"]))
    ]
    assert check_edges(doc, upstream["edges"] + served) == len(upstream["edges"]) + len(served)
    check_rdf_edges(doc_graph := rdf_graph(doc), upstream["edges"] + served)
    # the version's stage as of asOf, and its registry history: who did what, when, why
    assert one(record_of(doc, MV), "pgv:stage") == version["stateAt"]["stage"]
    found = relations(doc)
    for event in version["history"]:
        activity = record_of(doc, event["id"])
        assert one(activity, "prov:startTime") == when(event["at"]) == one(activity, "prov:endTime")
        assert one(activity, "pgv:hash") == event["hash"]
        assert attr(activity, "pgv:reason") == ([event["reason"]] if event["reason"] else [])
        (used,) = found[("Usage", event["id"], MV)]
        assert one(used, "prov:time") == when(event["at"])
        assert ("Association", event["id"], f"agent:{event['actor']}") in found
    stated = export_record(doc)
    assert (one(stated, "pgv:asOf"), one(stated, "pgv:knownAt")) == (AS_OF, known_at)
    assert one(stated, "pgv:answer") == "provenance" and one(stated, "pgv:isPartial") is False
    # every relation states when it was recorded (PROV's specializationOf cannot carry attributes)
    assert all(
        attr(r, "pgv:recordedAt") for r in doc.get_records() if r.is_relation() and r.identifier is not None
    )
    assert (URIRef(PG + MV), URIRef(PGV + "stage"), None) in doc_graph


def test_an_inferences_trace(client: TestClient, tokens: Tokens, pinned: Any) -> None:
    send, _ = pinned
    doc = check_formats_agree(every_format(client, tokens, "inference:inf-chat"), keep_export=False)
    trace = data(
        send(
            f"""{{ traceInference(inferenceId: "inference:inf-chat") {{
              inference {{ id at }} deployment {{ id endpointId }} modelVersion {{ id }}
              fineTuneChain {{ id }} runs(first: 500) {{ id }} datasetVersions(first: 500) {{ id }}
              slices(first: 500) {{ id }} sources(first: 500) {{ id }} edgeCount
              edges(first: 500) {{ {EDGE_FIELDS} }} }} }}"""
        )
    )["traceInference"]
    expected = {trace["inference"]["id"], trace["modelVersion"]["id"], trace["deployment"]["id"]}
    expected |= {trace["deployment"]["endpointId"]}
    for part in ("fineTuneChain", "runs", "datasetVersions", "slices", "sources"):
        expected |= {n["id"] for n in trace[part]}
    check_nodes(doc, expected)
    assert len(trace["edges"]) == trace["edgeCount"]
    check_edges(doc, trace["edges"])
    # the hops from the inference: generated by its deployment at its time, predicted with its version
    found = relations(doc)
    inference, deployment = trace["inference"], trace["deployment"]
    (generated,) = found[("Generation", inference["id"], deployment["id"])]
    assert one(generated, "prov:time") == when(inference["at"])
    assert ("Derivation", inference["id"], trace["modelVersion"]["id"]) in found
    assert ("Usage", deployment["id"], trace["modelVersion"]["id"]) in found
    assert ("Association", deployment["id"], deployment["endpointId"]) in found
    assert one(export_record(doc), "pgv:answer") == "trace"


def test_a_sources_impact(client: TestClient, tokens: Tokens, pinned: Any) -> None:
    send, known_at = pinned
    doc = check_formats_agree(every_format(client, tokens, "source:forum", **times(known_at)))
    report = data(
        send(
            """query($a: DateTime, $k: DateTime) { impactReport(sourceId: "source:forum", asOf: $a, knownAt: $k) {
              inferences datasetVersions(first: 500) { id } slices(first: 500) { id } runs(first: 500) { id }
              modelVersions(first: 500) { modelVersion { id } inferences } } }""",
            {"a": AS_OF.isoformat(), "k": known_at.isoformat()},
        )
    )["impactReport"]
    affected = {n["id"] for part in ("datasetVersions", "slices", "runs") for n in report[part]}
    affected |= {n["modelVersion"]["id"] for n in report["modelVersions"]}
    check_nodes(doc, affected | {"source:forum"})
    for affected_version in report["modelVersions"]:
        served = one(record_of(doc, affected_version["modelVersion"]["id"]), "pgv:inferenceCount")
        assert served == affected_version["inferences"]
    downstream = lineage(send, "source:forum", "DOWNSTREAM", known_at)
    among = [
        e
        for e in downstream["edges"]
        if e["fromId"] in affected | {"source:forum"} and e["toId"] in affected | {"source:forum"}
    ]
    assert among and check_edges(doc, among) == len(among)
    assert one(export_record(doc), "pgv:inferenceCount") == report["inferences"]


def test_any_nodes_lineage(client: TestClient, tokens: Tokens, pinned: Any) -> None:
    send, known_at = pinned
    subject = "datasetVersion:forum:v1"
    params = {"answer": "lineage", "direction": "DOWNSTREAM", **times(known_at)}
    doc = check_formats_agree(every_format(client, tokens, subject, **params))
    downstream = lineage(send, subject, "DOWNSTREAM", known_at)
    check_nodes(doc, {n["id"] for n in downstream["nodes"]} | {subject})
    assert check_edges(doc, downstream["edges"]) == len(downstream["edges"]) > 0
    stated = export_record(doc)
    assert (one(stated, "pgv:answer"), one(stated, "pgv:direction")) == ("lineage", "DOWNSTREAM")


def test_the_same_request_gives_the_same_bytes(client: TestClient, tokens: Tokens, pinned: Any) -> None:
    _, known_at = pinned
    for fmt in FORMATS:
        first = export(client, tokens, MV, fmt, **times(known_at))
        assert export(client, tokens, MV, fmt, **times(known_at)) == first
    later = export(
        client,
        tokens,
        MV,
        "provn",
        asOf=AS_OF.isoformat(),
        knownAt=(known_at + timedelta(days=1)).isoformat(),
    )
    assert later != first  # a document states the times it was drawn at


def test_as_of_a_time_before_the_promotion(client: TestClient, tokens: Tokens, pinned: Any) -> None:
    _, known_at = pinned
    before = T["T3"] + timedelta(hours=12)
    doc = read(
        "json", export(client, tokens, MV, "json", asOf=before.isoformat(), knownAt=known_at.isoformat())
    )
    assert isinstance(doc, ProvDocument)
    assert one(record_of(doc, MV), "pgv:stage") == "STAGING"
    events = [r for r in doc.get_records() if r.identifier and pg_id(r.identifier).startswith("event:")]
    assert sorted(str(t) for r in events for t in attr(r, "prov:type") if str(t) != "pgv:RegistryEvent") == [
        "pgv:Registered",
        "pgv:StageChanged",
    ]
    assert not [i for i in elements(doc) if i.startswith("deployment:")]  # deployed at T4, after asOf


@pytest.mark.parametrize(
    ("subject", "params", "code", "field"),
    [
        (MV, {"format": "xml"}, "INVALID_ARGUMENT", "format"),
        (MV, {"answer": "trace"}, "INVALID_ARGUMENT", "id"),  # a trace is of an inference
        ("source:forum", {"answer": "provenance"}, "INVALID_ARGUMENT", "id"),
        ("modelVersion:nobody:1", {}, "NOT_FOUND", None),
        ("inference:nobody", {}, "NOT_FOUND", None),
        ("source:nobody", {}, "NOT_FOUND", None),
        ("datasetVersion:nobody:v1", {"answer": "lineage"}, "NOT_FOUND", None),
        (MV, {"knownAt": "2020-01-01T00:00:00+00:00"}, "NOT_FOUND", None),  # not recorded by then
        (MV, {"asOf": "2026-01-01T00:00:00+00:00"}, "INVALID_ARGUMENT", "asOf"),  # before it was created
        (
            "datasetVersion:forum:v1",
            {"answer": "lineage", "asOf": "2025-12-31T00:00:00+00:00"},
            "INVALID_ARGUMENT",
            "asOf",
        ),
        (
            "inference:inf-chat",
            {"asOf": AS_OF.isoformat()},
            "INVALID_ARGUMENT",
            "asOf",
        ),  # a trace is drawn now
        ("inference:inf-chat", {"knownAt": AS_OF.isoformat()}, "INVALID_ARGUMENT", "knownAt"),
        (MV, {"asOf": "2026-07-01T00:00:00"}, "INVALID_ARGUMENT", "asOf"),  # no zone
    ],
)
def test_bad_requests_get_coded_errors(
    client: TestClient,
    tokens: Tokens,
    pinned: Any,
    subject: str,
    params: dict[str, str],
    code: str,
    field: str | None,
) -> None:
    response = client.get(f"/v1/export/prov/{subject}", params=params, headers=tokens.header("reader"))
    assert 400 <= response.status_code < 500
    failure = response.json()["error"]
    assert failure["code"] == code, failure
    if field is not None:
        assert failure["field"] == field, failure


def test_an_export_needs_a_token(client: TestClient, pinned: Any) -> None:
    response = client.get(f"/v1/export/prov/{MV}", headers={"authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


EXPORT = """query($id: ID!, $format: String, $asOf: DateTime, $knownAt: DateTime) {
  exportDocument(kind: PROV, id: $id, format: $format, asOf: $asOf, knownAt: $knownAt) {
    kind format mediaType filename url text completeness { score } } }"""


def test_graphql_returns_the_text_and_its_download_url(
    client: TestClient, tokens: Tokens, pinned: Any
) -> None:
    send, known_at = pinned
    asked = {"id": MV, "format": "turtle", "asOf": AS_OF.isoformat(), "knownAt": known_at.isoformat()}
    exported = data(send(EXPORT, asked, **tokens.header("reader")))["exportDocument"]
    assert (exported["mediaType"], exported["filename"]) == (
        "text/turtle",
        "modelVersion-assistant-1.prov.ttl",
    )
    assert exported["completeness"] is None  # PROV has no recommended fields to count
    graph = read("turtle", exported["text"].encode())
    assert (URIRef(PG + MV), None, None) in graph
    downloaded = client.get(exported["url"], headers=tokens.header("reader"))
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("text/turtle")
    assert downloaded.content == exported["text"].encode()
    failure = error(send(EXPORT, {**asked, "format": "xml"}, **tokens.header("reader")))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == ("INVALID_ARGUMENT", "format")
    missing = error(send(EXPORT, {**asked, "id": "modelVersion:nobody:1"}, **tokens.header("reader")))
    assert missing["extensions"]["code"] == "NOT_FOUND"
