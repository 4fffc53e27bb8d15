"""Excluding a source opens a case: a snapshot of the impact, a decision per affected model version, a receipt."""

from __future__ import annotations

import json
from typing import Any

import pytest
from neo4j import Driver

from conftest import GraphQL
from helpers import data, error
from story import load_story

EXCLUDE = """mutation($s: ID!, $r: String!) { excludeSource(input: {sourceId: $s, reason: $r}) {
  created source { excludedAt } case { id sourceId reason openedBy impactDigest impact affectedIds undecidedIds } } }"""
DECIDE = """mutation($i: DecideExclusionInput!) { decideExclusion(input: $i) {
  created decision { modelVersionId decision reason actor at } case { undecidedIds } } }"""
UNDECIDED = "{ exclusionCases(undecided: true) { totalCount nodes { id undecidedIds } } }"
RECEIPT = "query($c: ID!) { exclusionReceipt(caseId: $c) }"
CHECK = "query($r: String!) { verifyExclusionReceipt(receipt: $r) { valid caseId problems } }"
AUDIT = "{ verifyAuditChain { valid breaks { chain problem } } }"


@pytest.fixture
def excluded(gql: GraphQL) -> tuple[GraphQL, dict[str, Any]]:
    load_story(gql)
    case = data(gql(EXCLUDE, {"s": "source:crawl", "r": "the crawl ignored robots.txt"}))["excludeSource"]
    return gql, case


def decide(send: GraphQL, version: str, decision: str, reason: str) -> dict[str, Any]:
    body = {
        "caseId": "exclusionCase:crawl",
        "modelVersionId": version,
        "decision": decision,
        "reason": reason,
    }
    return send(DECIDE, {"i": body})


def test_excluding_a_source_opens_a_case_with_the_impact_then(
    excluded: tuple[GraphQL, dict[str, Any]],
) -> None:
    send, done = excluded
    case = done["case"]
    assert (done["created"], case["id"], case["sourceId"]) == (True, "exclusionCase:crawl", "source:crawl")
    assert case["affectedIds"] == ["modelVersion:assistant:1", "modelVersion:base:1"]
    assert case["undecidedIds"] == case["affectedIds"]
    assert case["openedBy"] == "test-admin" and case["impactDigest"].startswith("sha256:")
    report = data(
        send(
            '{ impactReport(sourceId: "source:crawl") { modelVersions(first: 100) { modelVersion { id } } inferences runs(first: 100) { id } } }'
        )
    )
    impact = report["impactReport"]
    assert case["impact"]["modelVersionIds"] == sorted(
        v["modelVersion"]["id"] for v in impact["modelVersions"]
    )
    assert case["impact"]["inferences"] == impact["inferences"]
    assert case["impact"]["runIds"] == sorted(r["id"] for r in impact["runs"])
    again = data(send(EXCLUDE, {"s": "source:crawl", "r": "the crawl ignored robots.txt"}))["excludeSource"]
    assert again == {**done, "created": False}  # a retry: the recorded exclusion and its case
    by_source = data(send('{ exclusionCase(sourceId: "source:crawl") { id } }'))["exclusionCase"]
    assert by_source == {"id": "exclusionCase:crawl"}


def test_a_decision_per_affected_version_until_none_is_left(excluded: tuple[GraphQL, dict[str, Any]]) -> None:
    send, _ = excluded
    assert data(send(UNDECIDED))["exclusionCases"]["totalCount"] == 1
    first = data(decide(send, "modelVersion:base:1", "RETRAIN", "retrain on the licensed corpus only"))
    assert first["decideExclusion"]["created"] is True
    assert first["decideExclusion"]["decision"]["actor"] == "test-admin"
    assert first["decideExclusion"]["case"]["undecidedIds"] == ["modelVersion:assistant:1"]
    repeat = data(decide(send, "modelVersion:base:1", "RETRAIN", "retrain on the licensed corpus only"))
    assert repeat["decideExclusion"] == {**first["decideExclusion"], "created": False}
    changed = error(decide(send, "modelVersion:base:1", "RETIRE", "changed our mind"))
    assert (changed["extensions"]["code"], changed["extensions"]["field"]) == ("CONFLICT", "decision")
    data(decide(send, "modelVersion:assistant:1", "ACCEPT", "legal review: the crawl share is de minimis"))
    assert data(send(UNDECIDED))["exclusionCases"] == {"totalCount": 0, "nodes": []}
    all_cases = data(
        send("{ exclusionCases { totalCount nodes { decisions { modelVersionId decision } } } }")
    )
    assert all_cases["exclusionCases"]["nodes"][0]["decisions"] == [
        {"modelVersionId": "modelVersion:assistant:1", "decision": "ACCEPT"},
        {"modelVersionId": "modelVersion:base:1", "decision": "RETRAIN"},
    ]
    assert data(send(AUDIT))["verifyAuditChain"] == {"valid": True, "breaks": []}


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"modelVersionId": "modelVersion:base:2"}, "INVALID_ARGUMENT", "modelVersionId"),  # not affected
        ({"modelVersionId": "source:crawl"}, "INVALID_ARGUMENT", "modelVersionId"),
        ({"caseId": "exclusionCase:forum"}, "NOT_FOUND", "caseId"),  # forum was not excluded
        ({"caseId": "source:crawl"}, "INVALID_ARGUMENT", "caseId"),
        ({"reason": "   "}, "INVALID_ARGUMENT", "reason"),
        ({"at": "2999-01-01T00:00:00Z"}, "INVALID_ARGUMENT", "at"),
    ],
)
def test_bad_decisions_are_refused_and_record_nothing(
    excluded: tuple[GraphQL, dict[str, Any]],
    clean_graph: Driver,
    overrides: dict[str, str],
    code: str,
    field: str,
) -> None:
    send, _ = excluded
    body = {
        "caseId": "exclusionCase:crawl",
        "modelVersionId": "modelVersion:base:1",
        "decision": "RETIRE",
        "reason": "r",
        **overrides,
    }
    refused = error(send(DECIDE, {"i": body}))
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == (code, field)
    records, _, _ = clean_graph.execute_query(
        "MATCH (d:ExclusionDecision) RETURN count(d) AS n", database_="neo4j"
    )
    assert records[0]["n"] == 0


def test_a_receipt_verifies_until_it_or_the_ledger_is_altered(
    excluded: tuple[GraphQL, dict[str, Any]], clean_graph: Driver
) -> None:
    send, _ = excluded
    data(decide(send, "modelVersion:base:1", "RETIRE", "superseded by base:2"))
    receipt = data(send(RECEIPT, {"c": "exclusionCase:crawl"}))["exclusionReceipt"]
    assert receipt["format"] == "provgraph-exclusion-receipt/1"
    assert [d["decision"] for d in receipt["decisions"]] == ["RETIRE"]
    assert receipt["undecided"] == ["modelVersion:assistant:1"]
    assert [e["kind"] for e in receipt["ledger"]["entries"]] == ["EXCLUSION_CASE_OPENED", "EXCLUSION_DECIDED"]
    text = json.dumps(receipt)
    assert data(send(CHECK, {"r": text}))["verifyExclusionReceipt"] == {
        "valid": True,
        "caseId": "exclusionCase:crawl",
        "problems": [],
    }
    forged = json.dumps({**receipt, "undecided": []})
    check = data(send(CHECK, {"r": forged}))["verifyExclusionReceipt"]
    assert not check["valid"] and "altered" in check["problems"][0]
    seq = receipt["ledger"]["entries"][1]["seq"]
    clean_graph.execute_query(
        "MATCH (x:LedgerEntry {scope: 'exclusions', seq: $seq}) "
        # Flip the first hex digit to one it is not (a fixed 'f' left 1 hash in 16 unchanged).
        " SET x.hash = CASE WHEN x.hash STARTS WITH 'f' THEN '0' ELSE 'f' END + substring(x.hash, 1)",
        {"seq": seq},
        database_="neo4j",
    )
    check = data(send(CHECK, {"r": text}))["verifyExclusionReceipt"]
    assert check["problems"] == [f"ledger entry exclusions:{seq} was rewritten since the receipt was issued"]
    malformed = error(send(CHECK, {"r": "{not json"}))
    assert (malformed["extensions"]["code"], malformed["extensions"]["field"]) == (
        "INVALID_ARGUMENT",
        "receipt",
    )


@pytest.mark.parametrize(
    ("forgery", "problem"),
    [
        (
            "MATCH (d:ExclusionDecision) SET d.reason = 'we always meant to retire it'",
            "differs from its EXCLUSION_DECIDED",
        ),
        ("MATCH (d:ExclusionDecision) DETACH DELETE d", "was recorded (EXCLUSION_DECIDED) but is gone"),
        (
            "MATCH (c:ExclusionCase) SET c.snapshot = replace(c.snapshot, 'modelVersion:base:1', 'modelVersion:base:2')",
            "impact snapshot was altered",
        ),
    ],
)
def test_editing_a_case_in_the_database_is_caught(
    excluded: tuple[GraphQL, dict[str, Any]], clean_graph: Driver, forgery: str, problem: str
) -> None:
    send, _ = excluded
    data(decide(send, "modelVersion:base:1", "RETIRE", "superseded by base:2"))
    clean_graph.execute_query(forgery, database_="neo4j")
    breaks = data(send(AUDIT))["verifyAuditChain"]["breaks"]
    assert any(problem in b["problem"] for b in breaks), breaks
