"""Runs through the API: idempotent registration, inputs, completion rules."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from conftest import GraphQL
from helpers import data, error

REGISTER_RUN = """mutation($i: RegisterRunInput!) { registerRun(input: $i) {
  created run { id kind status experiment { name } params { key value } inputs { id role datasetVersion { id } }
                code { commit } environment { packages } } } }"""
COMPLETE_RUN = "mutation($i: CompleteRunInput!) { completeRun(input: $i) { created run { status endedAt metrics { key value } } } }"


@pytest.fixture
def with_data(gql: GraphQL) -> GraphQL:
    data(gql('mutation { registerDataset(input: {name: "d"}) { created } }'))
    data(
        gql(
            'mutation { registerDatasetVersion(input: {dataset: "d", version: "v1", createdAt: "2026-01-01T00:00:00Z"}) { created } }'
        )
    )
    return gql


def run_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": "r1",
        "kind": "TRAIN",
        "experiment": "exp",
        "startedAt": "2026-02-01T00:00:00Z",
        "params": [{"key": "lr", "value": "0.1"}],
        "code": {"repo": "git@x:y.git", "commit": "abc"},
        "environment": {"python": "3.11", "packages": ["torch==2.5.1", "numpy==2.1.0"]},
        "inputs": [{"id": "datasetVersion:d:v1", "role": "TRAIN"}],
    }
    return {**base, **overrides}


def test_register_a_run_with_its_inputs_and_experiment(with_data: GraphQL) -> None:
    run = data(with_data(REGISTER_RUN, {"i": run_input()}))["registerRun"]
    assert run["created"] is True
    assert run["run"]["experiment"] == {"name": "exp"}
    assert run["run"]["inputs"] == [
        {"id": "datasetVersion:d:v1", "role": "TRAIN", "datasetVersion": {"id": "datasetVersion:d:v1"}}
    ]
    assert run["run"]["environment"]["packages"] == ["numpy==2.1.0", "torch==2.5.1"]
    again = data(with_data(REGISTER_RUN, {"i": run_input()}))["registerRun"]
    assert again == {**run, "created": False}
    listing = data(with_data('{ runs(experiment: "exp") { totalCount nodes { key } } }'))["runs"]
    assert listing == {"totalCount": 1, "nodes": [{"key": "r1"}]}


def test_changing_a_run_fact_is_a_conflict(with_data: GraphQL) -> None:
    data(with_data(REGISTER_RUN, {"i": run_input()}))
    failure = error(with_data(REGISTER_RUN, {"i": run_input(params=[{"key": "lr", "value": "0.2"}])}))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == ("CONFLICT", "params")
    code = error(with_data(REGISTER_RUN, {"i": run_input(code={"commit": "def"})}))
    assert code["extensions"]["field"] == "code"


def test_completing_a_run_once(with_data: GraphQL) -> None:
    data(with_data(REGISTER_RUN, {"i": run_input()}))
    done = data(
        with_data(
            COMPLETE_RUN,
            {
                "i": {
                    "runId": "run:r1",
                    "status": "FINISHED",
                    "endedAt": "2026-02-02T00:00:00Z",
                    "metrics": [{"key": "acc", "value": 0.9}],
                }
            },
        )
    )["completeRun"]
    assert done == {
        "created": True,
        "run": {
            "status": "FINISHED",
            "endedAt": "2026-02-02T00:00:00+00:00",
            "metrics": [{"key": "acc", "value": 0.9}],
        },
    }
    repeat = data(with_data(COMPLETE_RUN, {"i": {"runId": "run:r1", "status": "FINISHED"}}))["completeRun"]
    assert repeat == {**done, "created": False}
    changed = error(with_data(COMPLETE_RUN, {"i": {"runId": "run:r1", "status": "FAILED"}}))
    assert (changed["extensions"]["code"], changed["extensions"]["field"]) == ("CONFLICT", "status")
    missing = error(with_data(COMPLETE_RUN, {"i": {"runId": "run:r9", "status": "FAILED"}}))
    assert (missing["extensions"]["code"], missing["extensions"]["field"]) == ("NOT_FOUND", "runId")
    running = error(with_data(COMPLETE_RUN, {"i": {"runId": "run:r1", "status": "RUNNING"}}))
    assert running["extensions"]["code"] == "INVALID_ARGUMENT"


FAILED_RUN = "mutation($i: CompleteRunInput!) { completeRun(input: $i) { created run { status error } } }"


def test_a_failed_run_says_why(with_data: GraphQL) -> None:
    data(with_data(REGISTER_RUN, {"i": run_input()}))
    why = "ValueError: loss is NaN at step 1200\n  (the last line of the traceback)"
    failed = {"runId": "run:r1", "status": "FAILED", "error": why}
    done = data(with_data(FAILED_RUN, {"i": failed}))["completeRun"]
    assert done == {"created": True, "run": {"status": "FAILED", "error": why}}
    assert data(with_data(FAILED_RUN, {"i": failed}))["completeRun"]["created"] is False
    no_reason = {"runId": "run:r1", "status": "FAILED"}  # a repeat that does not restate the reason
    assert data(with_data(FAILED_RUN, {"i": no_reason}))["completeRun"] == {**done, "created": False}
    other = error(with_data(FAILED_RUN, {"i": {**failed, "error": "OOM"}}))
    assert (other["extensions"]["code"], other["extensions"]["field"]) == ("CONFLICT", "status")
    assert data(with_data('{ run(id: "run:r1") { error } }'))["run"]["error"] == why

    data(with_data(REGISTER_RUN, {"i": run_input(key="r2")}))
    finished = error(with_data(FAILED_RUN, {"i": {"runId": "run:r2", "status": "FINISHED", "error": "x"}}))
    assert (finished["extensions"]["code"], finished["extensions"]["field"]) == ("INVALID_ARGUMENT", "error")
    assert data(with_data('{ run(id: "run:r2") { status error } }'))["run"] == {
        "status": "RUNNING",
        "error": None,
    }

    one_shot = run_input(
        key="r3", status="FAILED", endedAt="2026-02-03T00:00:00Z", error="killed by the scheduler"
    )
    registered = data(
        with_data(REGISTER_RUN.replace("code { commit }", "code { commit } error"), {"i": one_shot})
    )
    assert registered["registerRun"]["run"]["error"] == "killed by the scheduler"
    changed = error(with_data(REGISTER_RUN, {"i": {**one_shot, "error": "other"}}))
    assert (changed["extensions"]["code"], changed["extensions"]["field"]) == ("CONFLICT", "error")
    audit = data(with_data("{ verifyAuditChain { valid breaks { chain problem } } }"))["verifyAuditChain"]
    assert audit == {
        "valid": True,
        "breaks": [],
    }  # the reasons are sealed in the ledger and agree with the graph


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"inputs": [{"id": "datasetVersion:d:v9", "role": "TRAIN"}]}, "NOT_FOUND", "inputs"),
        ({"inputs": [{"id": "dataset:d", "role": "TRAIN"}]}, "INVALID_ARGUMENT", "inputs"),
        ({"inputs": [{"id": "datasetVersion:d:v1", "role": "LEARNING"}]}, "INVALID_ARGUMENT", "role"),
        ({"kind": "TRAINING"}, "INVALID_ARGUMENT", "kind"),
        (
            {"params": [{"key": "lr", "value": "1"}, {"key": "lr", "value": "2"}]},
            "INVALID_ARGUMENT",
            "params",
        ),
        ({"params": [{"key": "has space", "value": "1"}]}, "INVALID_ARGUMENT", "params"),
        ({"status": "FINISHED", "endedAt": "2026-01-01T00:00:00Z"}, "INVALID_ARGUMENT", "endedAt"),
        ({"endedAt": "2026-03-01T00:00:00Z"}, "INVALID_ARGUMENT", "endedAt"),
        ({"metrics": [{"key": "acc", "value": 1.0}]}, "INVALID_ARGUMENT", "metrics"),
        ({"key": "with:colon"}, "INVALID_ARGUMENT", "key"),
        ({"startedAt": "2026-02-01 00:00"}, "INVALID_ARGUMENT", "startedAt"),
        ({"error": "boom"}, "INVALID_ARGUMENT", "error"),  # a RUNNING run has not failed
        (
            {"status": "FAILED", "endedAt": "2026-02-02T00:00:00Z", "error": "x" * 4097},
            "INVALID_ARGUMENT",
            "error",
        ),
    ],
)
def test_bad_runs(
    with_data: GraphQL, clean_graph: Driver, overrides: dict[str, Any], code: str, field: str
) -> None:
    failure = error(with_data(REGISTER_RUN, {"i": run_input(**overrides)}))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == (code, field), failure
    records, _, _ = clean_graph.execute_query("MATCH (r:Run) RETURN count(r) AS n")
    assert records[0]["n"] == 0
