"""Tamper evidence: editing or removing a stored registry event is caught by verifyAuditChain."""

from __future__ import annotations

import pytest
from neo4j import Driver

import builders as b
from conftest import GraphQL
from helpers import data, error

VERIFY = "query($m: String) { verifyAuditChain(model: $m) { valid models events breaks { modelId seq eventId problem } } }"


@pytest.fixture
def history(gql: GraphQL) -> GraphQL:
    for name in ("m", "other"):
        b.model(gql, name)
        data(b.model_version(gql, model_name=name, artifact=f"s3://{name}/1"))
    data(b.stage(gql, "modelVersion:m:1", "STAGING", "2026-02-01T00:00:00Z"))
    data(b.stage(gql, "modelVersion:m:1", "PRODUCTION", "2026-03-01T00:00:00Z", reason="approved by risk"))
    data(
        gql(
            'mutation { setAlias(input: {model: "m", alias: "champion", modelVersionId: "modelVersion:m:1"}) { events { id } } }'
        )
    )
    return gql


def test_an_untouched_history_verifies(history: GraphQL) -> None:
    report = data(history(VERIFY))["verifyAuditChain"]
    assert report == {"valid": True, "models": 2, "events": 5, "breaks": []}


def test_an_edited_event_breaks_the_chain_at_that_event(history: GraphQL, clean_graph: Driver) -> None:
    clean_graph.execute_query(
        "MATCH (e:RegistryEvent {modelId: 'model:m', seq: 3}) SET e.reason = 'approved by nobody'",
        database_="neo4j",
    )
    report = data(history(VERIFY))["verifyAuditChain"]
    assert report["valid"] is False
    assert report["breaks"] == [
        {
            "modelId": "model:m",
            "seq": 3,
            "eventId": "event:m:3",
            "problem": "content does not match its hash (altered)",
        }
    ]
    assert data(history(VERIFY, {"m": "other"}))["verifyAuditChain"]["valid"] is True


def test_a_rehashed_forgery_is_caught_by_the_next_link(history: GraphQL, clean_graph: Driver) -> None:
    # Changing the stage and recomputing nothing else: the forged event's own hash no longer matches.
    clean_graph.execute_query(
        "MATCH (e:RegistryEvent {modelId: 'model:m', seq: 2}) SET e.toStage = 'PRODUCTION'", database_="neo4j"
    )
    breaks = data(history(VERIFY))["verifyAuditChain"]["breaks"]
    assert [(x["seq"], x["problem"]) for x in breaks] == [(2, "content does not match its hash (altered)")]


@pytest.mark.parametrize(
    ("seq", "problem"), [(2, "event 2 is missing (found 3 next)"), (4, "events were removed")]
)
def test_a_removed_event_is_reported(history: GraphQL, clean_graph: Driver, seq: int, problem: str) -> None:
    clean_graph.execute_query(
        "MATCH (e:RegistryEvent {modelId: 'model:m', seq: $seq}) DETACH DELETE e",
        {"seq": seq},
        database_="neo4j",
    )
    breaks = data(history(VERIFY))["verifyAuditChain"]["breaks"]
    assert len(breaks) == 1 and problem in breaks[0]["problem"]


def test_verifying_an_unknown_or_malformed_model(history: GraphQL) -> None:
    assert data(history(VERIFY, {"m": "ghost"}))["verifyAuditChain"] == {
        "valid": True,
        "models": 0,
        "events": 0,
        "breaks": [],
    }
    assert error(history(VERIFY, {"m": "bad name"}))["extensions"]["code"] == "INVALID_ARGUMENT"


def test_backdating_when_an_event_was_recorded_breaks_the_chain(
    history: GraphQL, clean_graph: Driver
) -> None:
    # recordedAt is what knownAt answers by, so it is hashed like the rest of the event (hash version 2).
    clean_graph.execute_query(
        "MATCH (e:RegistryEvent {modelId: 'model:m', seq: 3}) SET e.recordedAt = datetime('2026-01-01T00:00:00Z')",
        database_="neo4j",
    )
    breaks = data(history(VERIFY))["verifyAuditChain"]["breaks"]
    assert [(x["modelId"], x["seq"], x["problem"]) for x in breaks] == [
        ("model:m", 3, "content does not match its hash (altered)")
    ]
