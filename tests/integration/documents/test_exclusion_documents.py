"""An exclusion case as documents: W3C PROV of the case (the source's impact, the case with its impact
digest, each decision with its actor and justification), its signed receipt as a download that verifies,
and the decisions in the dossier of each affected version."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from prov.model import ProvDocument
from starlette.testclient import TestClient

from conftest import GraphQL, Tokens
from dossier_pages import DossierPage
from helpers import data
from prov_docs import attr, elements, one, pg_id, relations
from story import load_story

CASE = "exclusionCase:crawl"
EXCLUDE = """mutation { excludeSource(input: {sourceId: "source:crawl", reason: "the crawl ignored robots.txt"}) {
  source { excludedAt } case { impactDigest affectedIds } } }"""
DECIDE = """mutation($v: ID!, $d: ExclusionDecisionKind!, $r: String!) { decideExclusion(input: {
  caseId: "exclusionCase:crawl", modelVersionId: $v, decision: $d, reason: $r}) { decision { at } } }"""
RETRAIN = "retrain on the licensed corpus only"


@pytest.fixture
def decided(gql: GraphQL) -> dict[str, Any]:
    """The story with the crawl excluded and one of its two affected versions decided (RETRAIN)."""
    load_story(gql)
    done = data(gql(EXCLUDE))["excludeSource"]
    decision = data(gql(DECIDE, {"v": "modelVersion:base:1", "d": "RETRAIN", "r": RETRAIN}))
    return {**done, "decidedAt": decision["decideExclusion"]["decision"]["at"]}


def get(client: TestClient, tokens: Tokens, path: str, **params: str) -> Any:
    return client.get(path, params=params, headers=tokens.header("reader"))


def prov_of_case(client: TestClient, tokens: Tokens, **params: str) -> ProvDocument:
    response = get(client, tokens, f"/v1/export/prov/{CASE}", format="json", **params)
    assert response.status_code == 200, response.text
    assert 'filename="exclusionCase-crawl.prov.json"' in response.headers["content-disposition"]
    return ProvDocument.deserialize(content=response.content, format="json")


def record(document: ProvDocument, node_id: str) -> Any:
    found = [r for r in document.get_records() if r.identifier and pg_id(r.identifier) == node_id]
    assert len(found) == 1, node_id
    return found[0]


def test_prov_of_a_case_holds_the_impact_the_case_and_each_decision(
    client: TestClient, tokens: Tokens, decided: dict[str, Any]
) -> None:
    document = prov_of_case(client, tokens)
    kinds = elements(document)
    assert kinds[CASE] == "Entity" and kinds["source:crawl"] == "Entity"
    assert {"modelVersion:base:1", "modelVersion:assistant:1"} <= kinds.keys()  # the impact's versions
    case = record(document, CASE)
    assert str(one(case, "pgv:impactDigest")) == decided["case"]["impactDigest"]
    assert str(one(case, "pgv:reason")) == "the crawl ignored robots.txt"
    assert [pg_id(v) for v in attr(case, "pgv:undecided")] == ["modelVersion:assistant:1"]
    found = relations(document)
    assert found[("Influence", CASE, "source:crawl")]  # the case is about its source
    decision_id = f"decision:{CASE}:modelVersion:base:1"
    assert kinds[decision_id] == "Activity"
    decision = record(document, decision_id)
    assert (str(one(decision, "pgv:decision")), str(one(decision, "pgv:reason"))) == ("RETRAIN", RETRAIN)
    roles = {str(one(r, "prov:role")) for r in found[("Usage", decision_id, CASE)]}
    roles |= {str(one(r, "prov:role")) for r in found[("Usage", decision_id, "modelVersion:base:1")]}
    assert roles == {"pgv:case", "pgv:affected"}
    assert found[("Association", decision_id, "agent:test-admin")]
    assert f"decision:{CASE}:modelVersion:assistant:1" not in kinds  # undecided: no decision is made up


def test_prov_of_a_case_before_its_decision_shows_none(
    client: TestClient, tokens: Tokens, decided: dict[str, Any]
) -> None:
    excluded_at = decided["source"]["excludedAt"]
    assert datetime.fromisoformat(excluded_at) < datetime.fromisoformat(decided["decidedAt"])
    document = prov_of_case(client, tokens, asOf=excluded_at)
    case = record(document, CASE)
    assert sorted(pg_id(v) for v in attr(case, "pgv:undecided")) == sorted(decided["case"]["affectedIds"])
    assert not any(k.startswith("decision:") for k in elements(document))
    # PROV-O too: rdflib reads the Turtle of the same case
    turtle = get(client, tokens, f"/v1/export/prov/{CASE}", format="turtle")
    assert turtle.status_code == 200 and b"ExclusionDecision" in turtle.content


def test_the_receipt_downloads_and_verifies(
    client: TestClient, tokens: Tokens, gql: GraphQL, decided: dict[str, Any]
) -> None:
    response = get(client, tokens, f"/v1/export/receipt/{CASE}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert 'filename="exclusionCase-crawl.receipt.json"' in response.headers["content-disposition"]
    receipt = json.loads(response.content)
    assert receipt["case"]["impactDigest"] == decided["case"]["impactDigest"]
    assert [d["decision"] for d in receipt["decisions"]] == ["RETRAIN"]
    check = "query($r: String!) { verifyExclusionReceipt(receipt: $r) { valid problems } }"
    assert data(gql(check, {"r": response.text}))["verifyExclusionReceipt"] == {"valid": True, "problems": []}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"/v1/export/receipt/{CASE}", {"asOf": "2026-01-01T00:00:00Z"}, "asOf"),  # issued now, over now
        ("/v1/export/receipt/modelVersion:base:1", {}, "id"),  # a receipt is of an exclusion case
        (f"/v1/export/prov/{CASE}", {"answer": "lineage"}, "id"),  # a case is not a node of the lineage
        (f"/v1/export/prov/{CASE}", {"asOf": "2020-01-01T00:00:00Z"}, "asOf"),  # before the exclusion
        (f"/v1/export/receipt/{CASE}", {"format": "pdf"}, "format"),
    ],
)
def test_requests_about_cases_it_refuses(
    client: TestClient,
    tokens: Tokens,
    decided: dict[str, Any],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    response = get(client, tokens, path, **params)
    assert response.status_code == 400, response.text
    failure = response.json()["error"]
    assert (failure["code"], failure["field"]) == ("INVALID_ARGUMENT", field)


def test_an_unknown_case_is_not_found(client: TestClient, tokens: Tokens, decided: dict[str, Any]) -> None:
    for kind in ("prov", "receipt"):
        response = get(client, tokens, f"/v1/export/{kind}/exclusionCase:nothing")
        # REST answers 400 for every caller error; the code says which
        assert (response.status_code, response.json()["error"]["code"]) == (400, "NOT_FOUND")


def test_the_dossier_shows_the_decision_or_that_none_was_taken(
    client: TestClient, tokens: Tokens, decided: dict[str, Any]
) -> None:
    decided_page = DossierPage(get(client, tokens, "/v1/export/dossier/modelVersion:base:1").text)
    [grid] = [g for c, g in decided_page.grids.items() if c.startswith(f"Decisions on {CASE}")]
    row = grid.row("modelVersion:base:1")
    assert (row["Decision"], row["Justification"], row["By"]) == ("RETRAIN", RETRAIN, "test-admin")
    undecided_page = DossierPage(get(client, tokens, "/v1/export/dossier/modelVersion:assistant:1").text)
    assert f"Nothing was decided about this version on {CASE}" in undecided_page.text
