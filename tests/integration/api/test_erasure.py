"""An erasure request opens a case like a source's exclusion does (one mechanism, two triggers): a snapshot
of where the records were and which model versions learned from them, a decision per affected version, a
receipt, and the audit chain still valid."""

from __future__ import annotations

import json
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from conftest import GraphQL, Tokens
from helpers import data, error
from provgraph.domain.erasure import erasure_case_id
from record_story import build_chain, keys, mutate, register

OPEN = """mutation($h: [String!]!, $r: String!) { openErasureCase(keyHashes: $h, reason: $r) {
  created case { id trigger sourceId excludedAt keyHashCount reason openedBy impactDigest impact affectedIds
  undecidedIds decisions { modelVersionId } } } }"""
DECIDE = """mutation($i: DecideExclusionInput!) { decideExclusion(input: $i) {
  created decision { modelVersionId decision reason actor } case { trigger undecidedIds } } }"""
CASES = """query($u: Boolean!, $t: CaseTrigger) { exclusionCases(undecided: $u, trigger: $t) {
  totalCount nodes { id trigger keyHashCount sourceId undecidedIds } } }"""
RECEIPT = "query($c: ID!) { exclusionReceipt(caseId: $c) }"
CHECK = "query($r: String!) { verifyExclusionReceipt(receipt: $r) { valid caseId problems } }"
AUDIT = "{ verifyAuditChain { valid breaks { chain problem } } }"
RECORD = """query($h: String!) { recordProvenance(keyHash: $h) {
  holders { dataId certainty basis sourceId } modelVersions { modelVersion { id } stage inferences } } }"""
REASON = "erasure request #41 (GDPR Art. 17): the customer closed their account"
BASE, TUNED = "modelVersion:m:1", "modelVersion:m:2"


@pytest.fixture
def people(gql: GraphQL, client: TestClient) -> tuple[GraphQL, list[str]]:
    """The chain with 100 people's keys registered on v1 (from crm), v2 declared key-preserving (so the
    training slice and both model versions are reached), and 3 inferences served by the tuned version."""
    build_chain(gql)
    hashes = keys("person", 100)
    assert register(client, "datasetVersion:people:v1", "source:crm", hashes).status_code == 201
    mutate(
        gql,
        'mutation { declareKeyPreservingTransform(datasetVersionId: "datasetVersion:people:v2", '
        'transform: "dedupe") { created } }',
    )
    items = [
        {"key": f"inf-{i}", "at": f"2026-02-0{i + 2}T00:00:00Z", "modelVersionId": TUNED} for i in range(3)
    ]
    logged = mutate(
        gql, "mutation($i: [InferenceInput!]!) { logInferences(inferences: $i) { accepted } }", i=items
    )
    assert logged["logInferences"]["accepted"] == 3
    return gql, hashes


def decide(send: GraphQL, case_id: str, version: str, decision: str, reason: str) -> dict[str, Any]:
    body = {"caseId": case_id, "modelVersionId": version, "decision": decision, "reason": reason}
    return send(DECIDE, {"i": body})


def counts(driver: Driver) -> tuple[int, int, int]:
    """Nodes, exclusions-ledger entries, cases."""
    records, _, _ = driver.execute_query(
        "RETURN COUNT { MATCH (n) } AS nodes, COUNT { MATCH (x:LedgerEntry {scope: 'exclusions'}) } AS entries,"
        " COUNT { MATCH (c:ExclusionCase) } AS cases",
        database_="neo4j",
    )
    return records[0]["nodes"], records[0]["entries"], records[0]["cases"]


def test_an_erasure_case_end_to_end(people: tuple[GraphQL, list[str]], client: TestClient) -> None:
    send, hashes = people
    stranger = keys("nobody", 1)[0]  # registered nowhere: the case says so, and it affects nothing
    asked = [hashes[7], hashes[3], stranger]
    opened = data(send(OPEN, {"h": asked, "r": REASON}))["openErasureCase"]
    case = opened["case"]
    assert opened["created"] is True
    assert case["id"] == erasure_case_id(sorted(asked)) and case["id"].startswith("erasureCase:")
    assert (case["trigger"], case["sourceId"], case["excludedAt"]) == ("ERASURE_REQUEST", None, None)
    assert (case["keyHashCount"], case["reason"], case["openedBy"]) == (3, REASON, "test-admin")
    assert case["affectedIds"] == [BASE, TUNED] and case["undecidedIds"] == [BASE, TUNED]
    assert case["impactDigest"].startswith("sha256:") and case["decisions"] == []

    # The snapshot is the recordProvenance answer for each hash at that moment.
    snapshot = case["impact"]
    assert [r["keyHash"] for r in snapshot["records"]] == sorted(asked)
    answer = data(send(RECORD, {"h": hashes[3]}))["recordProvenance"]
    kept = next(r for r in snapshot["records"] if r["keyHash"] == hashes[3])
    assert [(h["dataId"], h["certainty"], h["basis"]) for h in kept["holders"]] == [
        (h["dataId"], h["certainty"], h["basis"]) for h in answer["holders"]
    ]
    assert ("datasetVersion:people:v1", "DEFINITELY", "EXACT_SET") in [
        (h["dataId"], h["certainty"], h["basis"]) for h in kept["holders"]
    ]
    assert kept["stopped"] == [
        {"dataId": "datasetVersion:people:summary", "derivedFrom": "datasetVersion:people:v1"}
    ]
    assert next(r for r in snapshot["records"] if r["keyHash"] == stranger)["holders"] == []
    models = {x["id"]: x for x in snapshot["modelVersions"]}
    assert models[TUNED]["liveDeploymentIds"] == ["deployment:api:1"] and models[TUNED]["inferences"] == 3
    assert models[TUNED]["keyHashCount"] == 2 and models[BASE]["liveDeploymentIds"] == []
    assert {x["modelVersion"]["id"]: x["stage"] for x in answer["modelVersions"]} == {
        i: x["stage"] for i, x in models.items()
    }
    assert snapshot["inferenceCounts"] == {BASE: 0, TUNED: 3}

    # A decision per affected version, with the decision mutation every case uses.
    first = data(decide(send, case["id"], TUNED, "RETIRE", "take it out of the api endpoint"))[
        "decideExclusion"
    ]
    assert (first["created"], first["decision"]["actor"]) == (True, "test-admin")
    assert first["case"] == {"trigger": "ERASURE_REQUEST", "undecidedIds": [BASE]}
    again = data(decide(send, case["id"], TUNED, "RETIRE", "take it out of the api endpoint"))[
        "decideExclusion"
    ]
    assert again == {**first, "created": False}
    changed = error(decide(send, case["id"], TUNED, "ACCEPT", "on second thought"))
    assert (changed["extensions"]["code"], changed["extensions"]["field"]) == ("CONFLICT", "decision")
    outside = error(decide(send, case["id"], "modelVersion:m:3", "RETIRE", "not affected"))
    assert (outside["extensions"]["code"], outside["extensions"]["field"]) == (
        "INVALID_ARGUMENT",
        "modelVersionId",
    )
    assert data(send(CASES, {"u": True, "t": "ERASURE_REQUEST"}))["exclusionCases"]["totalCount"] == 1
    data(decide(send, case["id"], BASE, "RETRAIN", "retrain without the 41st request's records"))
    assert data(send(CASES, {"u": True, "t": None}))["exclusionCases"] == {"totalCount": 0, "nodes": []}
    found = data(
        send(
            "query($i: ID!) { exclusionCase(id: $i) { undecidedIds decisions { decision } } }",
            {"i": case["id"]},
        )
    )
    assert found["exclusionCase"] == {
        "undecidedIds": [],
        "decisions": [{"decision": "RETRAIN"}, {"decision": "RETIRE"}],
    }

    # The receipt covers the case and its decisions, and verifies; an altered one does not.
    receipt = data(send(RECEIPT, {"c": case["id"]}))["exclusionReceipt"]
    assert receipt["format"] == "provgraph-exclusion-receipt/1"
    assert receipt["case"]["trigger"] == "ERASURE_REQUEST" and receipt["case"]["keyHashCount"] == 3
    assert receipt["case"]["impactDigest"] == case["impactDigest"] and receipt["undecided"] == []
    assert [e["kind"] for e in receipt["ledger"]["entries"]] == [
        "ERASURE_CASE_OPENED",
        "EXCLUSION_DECIDED",
        "EXCLUSION_DECIDED",
    ]
    check = data(send(CHECK, {"r": json.dumps(receipt)}))["verifyExclusionReceipt"]
    assert check == {"valid": True, "caseId": case["id"], "problems": []}
    forged = data(send(CHECK, {"r": json.dumps({**receipt, "decisions": receipt["decisions"][:1]})}))
    assert forged["verifyExclusionReceipt"]["valid"] is False
    download = client.get(
        f"/v1/export/receipt/{case['id']}"
    )  # the receipt as a document, like an exclusion's
    assert download.status_code == 200, download.text
    assert (
        f'filename="{case["id"].replace(":", "-")}.receipt.json"' in download.headers["content-disposition"]
    )
    downloaded = data(send(CHECK, {"r": download.text}))["verifyExclusionReceipt"]
    assert downloaded == {"valid": True, "caseId": case["id"], "problems": []}
    assert data(send(AUDIT))["verifyAuditChain"] == {"valid": True, "breaks": []}


def test_a_repeat_returns_the_case_and_writes_nothing(
    people: tuple[GraphQL, list[str]], clean_graph: Driver
) -> None:
    send, hashes = people
    first = data(send(OPEN, {"h": hashes[:5], "r": REASON}))["openErasureCase"]
    before = counts(clean_graph)
    # The same hashes in another order, one sent twice: the same request.
    repeat = data(send(OPEN, {"h": [*reversed(hashes[:5]), hashes[2]], "r": REASON}))["openErasureCase"]
    assert repeat == {**first, "created": False}
    other = error(send(OPEN, {"h": hashes[:5], "r": "another reason"}))
    assert (other["extensions"]["code"], other["extensions"]["field"]) == ("CONFLICT", "reason")
    assert counts(clean_graph) == before
    # Other hashes are another case.
    second = data(send(OPEN, {"h": hashes[5:7], "r": REASON}))["openErasureCase"]
    assert second["created"] is True and second["case"]["id"] != first["case"]["id"]
    assert counts(clean_graph)[2] == 2


@pytest.mark.parametrize(
    ("key_hashes", "reason", "field"),
    [
        (["not-a-hash"], REASON, "keyHashes"),
        (["0123456789ABCDEF0123456789ABCDEF"], REASON, "keyHashes"),  # upper case
        (["0123456789abcdef0123456789abcde"], REASON, "keyHashes"),  # 31 characters
        ([], REASON, "keyHashes"),
        ([f"{i:032x}" for i in range(1001)], REASON, "keyHashes"),  # over 1000
        ([f"{1:032x}"], "   ", "reason"),
        ([f"{1:032x}"], "x" * 2049, "reason"),
    ],
    ids=["malformed", "upper-case", "short", "empty", "too-many", "blank-reason", "long-reason"],
)
def test_bad_requests_are_refused_with_a_code_and_write_nothing(
    people: tuple[GraphQL, list[str]], clean_graph: Driver, key_hashes: list[str], reason: str, field: str
) -> None:
    send, _ = people
    before = counts(clean_graph)
    refused = error(send(OPEN, {"h": key_hashes, "r": reason}))
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("INVALID_ARGUMENT", field)
    assert counts(clean_graph) == before


def test_a_reader_cannot_open_one(
    people: tuple[GraphQL, list[str]], tokens: Tokens, clean_graph: Driver
) -> None:
    send, hashes = people
    before = counts(clean_graph)
    refused = error(send(OPEN, {"h": hashes[:1], "r": REASON}, **tokens.header("reader")))
    assert refused["extensions"]["code"] == "PERMISSION_DENIED"
    writer = data(send(OPEN, {"h": hashes[:1], "r": REASON}, **tokens.header("writer")))["openErasureCase"]
    assert writer["created"] is True and writer["case"]["openedBy"] == "test-writer"
    assert counts(clean_graph)[2] == before[2] + 1


def test_both_triggers_share_the_listing_and_the_audit(
    people: tuple[GraphQL, list[str]], clean_graph: Driver
) -> None:
    send, hashes = people
    erasure = data(send(OPEN, {"h": hashes[:2], "r": REASON}))["openErasureCase"]["case"]["id"]
    data(
        send(
            'mutation { excludeSource(input: {sourceId: "source:crm", reason: "consent withdrawn"}) { created } }'
        )
    )
    listed = data(send(CASES, {"u": True, "t": None}))["exclusionCases"]
    assert [(n["id"], n["trigger"], n["keyHashCount"], n["sourceId"]) for n in listed["nodes"]] == [
        (erasure, "ERASURE_REQUEST", 2, None),
        ("exclusionCase:crm", "SOURCE_EXCLUSION", 0, "source:crm"),
    ]
    only = data(send(CASES, {"u": False, "t": "SOURCE_EXCLUSION"}))["exclusionCases"]
    assert [n["id"] for n in only["nodes"]] == ["exclusionCase:crm"]
    assert data(send(AUDIT))["verifyAuditChain"] == {"valid": True, "breaks": []}

    # An edit of the erasure case in the database shows in the audit.
    clean_graph.execute_query(
        "MATCH (c:ExclusionCase {id: $id}) SET c.keyHashes = c.keyHashes[..1]",
        {"id": erasure},
        database_="neo4j",
    )
    breaks = data(send(AUDIT))["verifyAuditChain"]["breaks"]
    assert any("differs from its ERASURE_CASE_OPENED" in b["problem"] for b in breaks), breaks
