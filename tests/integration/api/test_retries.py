"""Retries are no-ops: an identical repeat answers with the recorded fact (`created: false`) and writes
nothing — for every registration, every stage and alias change, every deployment fact, run completions and
exclusions, and for requests retried under an `Idempotency-Key` whose time defaults to "now".

"Writes nothing" is checked on the whole stored graph: every node and relationship with all its
properties, before and after the repeat."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

import builders as b
from conftest import GraphQL
from helpers import data, error

T1 = "2026-02-01T09:00:00+00:00"
T2 = "2026-03-01T09:00:00+00:00"
T3 = "2026-04-01T09:00:00+00:00"

EVENT_FIELDS = "id seq kind modelVersionId at actor reason fromStage toStage alias previousVersionId prevHash hash recordedAt"
STAGE = f"""mutation($i: TransitionStageInput!) {{
  transitionStage(input: $i) {{ created modelVersion {{ id stage aliases }} events {{ {EVENT_FIELDS} }} }} }}"""
SET_ALIAS = f"""mutation($i: SetAliasInput!) {{
  setAlias(input: $i) {{ created modelVersion {{ id aliases }} events {{ {EVENT_FIELDS} }} }} }}"""
REMOVE_ALIAS = f"""mutation($i: RemoveAliasInput!) {{
  removeAlias(input: $i) {{ created modelVersion {{ id aliases }} events {{ {EVENT_FIELDS} }} }} }}"""
DEPLOY = """mutation($i: DeployInput!) { deploy(input: $i) {
  created deployment { id modelVersionId startedAt endedAt trafficShare reason endReason recordedAt } } }"""
END = """mutation($i: EndDeploymentInput!) { endDeployment(input: $i) {
  created deployment { id startedAt endedAt endReason recordedAt } } }"""
COMPLETE = """mutation($i: CompleteRunInput!) { completeRun(input: $i) {
  created run { id status endedAt metrics { key value } } } }"""
EXCLUDE = """mutation($i: ExcludeSourceInput!) { excludeSource(input: $i) {
  created source { id excludedAt exclusionReason } } }"""
HISTORY = f"query($id: ID!) {{ model(id: $id) {{ history {{ {EVENT_FIELDS} }} }} }}"


def graph_state(driver: Driver) -> dict[str, Any]:
    """Everything stored: each node with its labels and properties, each relationship with its ends and
    properties, and the counts the reports speak of."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:ApiToken RETURN labels(n) AS labels, properties(n) AS props",
        database_="neo4j",
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(z) RETURN a.id AS a, type(r) AS type, z.id AS z, properties(r) AS props",
        database_="neo4j",
    )
    return {
        "nodes": len(nodes),
        "relationships": len(rels),
        "registryEvents": sum("RegistryEvent" in n["labels"] for n in nodes),
        "ledgerEntries": sum("LedgerEntry" in n["labels"] for n in nodes),
        "nodeContent": sorted(repr((sorted(n["labels"]), sorted(n["props"].items()))) for n in nodes),
        "relationshipContent": sorted(
            repr((r["a"], r["type"], r["z"], sorted(r["props"].items()))) for r in rels
        ),
    }


def unchanged(driver: Driver, before: dict[str, Any]) -> None:
    after = graph_state(driver)
    counts = ("nodes", "relationships", "registryEvents", "ledgerEntries")
    assert {k: after[k] for k in counts} == {k: before[k] for k in counts}
    assert after == before


def key_header(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def refused_key(client: TestClient, query: str, variables: dict[str, Any], key: str) -> dict[str, Any]:
    """Send a request whose Idempotency-Key is refused before it runs: a client error (4xx), never 5xx,
    with the one error explaining it."""
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=key_header(key))
    assert response.status_code in (400, 409), (response.status_code, response.text)
    return error(response.json())


@pytest.fixture
def version(gql: GraphQL) -> GraphQL:
    """Model m with version 1 (created 1 January 2026)."""
    b.model(gql, "m")
    data(b.model_version(gql))
    return gql


def stage(gql: GraphQL, to: str, at: str | None = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"modelVersionId": "modelVersion:m:1", "stage": to, **extra}
    if at is not None:
        spec["at"] = at
    return gql(STAGE, {"i": spec})


# ---------------------------------------------------------------------------------------------------------
# Stage changes


def test_a_repeated_stage_change_at_the_same_time_records_nothing(
    version: GraphQL, clean_graph: Driver
) -> None:
    first = data(stage(version, "STAGING", T1, reason="eval passed"))["transitionStage"]
    assert first["created"] is True
    assert [(e["kind"], e["fromStage"], e["toStage"], e["at"]) for e in first["events"]] == [
        ("STAGE_CHANGED", "NONE", "STAGING", T1)
    ]
    before = graph_state(clean_graph)
    again = data(stage(version, "STAGING", T1, reason="eval passed"))["transitionStage"]
    assert again == {**first, "created": False}
    without_reason = data(stage(version, "STAGING", T1))["transitionStage"]
    assert without_reason == {**first, "created": False}
    unchanged(clean_graph, before)
    assert before["registryEvents"] == 2  # REGISTERED and the one stage change


def test_rerunning_a_whole_pipeline_changes_nothing(gql: GraphQL, clean_graph: Driver) -> None:
    def pipeline() -> list[dict[str, Any]]:
        model = data(
            gql('mutation { registerModel(input: {name: "m", owner: "ml"}) { created model { id } } }')
        )
        mv = data(
            b.model_version(
                gql, artifact="s3://m/1", framework="torch", metrics=[{"key": "f1", "value": 0.9}]
            )
        )
        staging = data(stage(gql, "STAGING", T1, reason="offline eval passed"))
        production = data(stage(gql, "PRODUCTION", T2, reason="approved"))
        return [
            model["registerModel"],
            mv["registerModelVersion"],
            staging["transitionStage"],
            production["transitionStage"],
        ]

    first = pipeline()
    assert [answer["created"] for answer in first] == [True, True, True, True]
    history = data(gql(HISTORY, {"id": "model:m"}))["model"]["history"]
    assert [(e["kind"], e["toStage"], e["at"]) for e in history] == [
        ("REGISTERED", None, "2026-01-01T00:00:00+00:00"),
        ("STAGE_CHANGED", "STAGING", T1),
        ("STAGE_CHANGED", "PRODUCTION", T2),
    ]
    before = graph_state(clean_graph)
    head_before = _chain_head(clean_graph, "model:m")

    second = pipeline()
    assert [answer["created"] for answer in second] == [False, False, False, False]
    # The same answers, except the version's stage *now*, which the first run's early answers preceded.
    assert [without_stage(a) for a in second] == [without_stage({**a, "created": False}) for a in first]
    assert (
        data(gql(HISTORY, {"id": "model:m"}))["model"]["history"] == history
    )  # no STAGING/PRODUCTION bounce
    assert _chain_head(clean_graph, "model:m") == head_before == (3, history[-1]["hash"])
    stage_now = data(gql('{ modelVersion(id: "modelVersion:m:1") { stage } }'))["modelVersion"]["stage"]
    assert stage_now == "PRODUCTION"
    unchanged(clean_graph, before)


def without_stage(answer: dict[str, Any]) -> dict[str, Any]:
    if "modelVersion" not in answer:
        return answer
    return {**answer, "modelVersion": {k: v for k, v in answer["modelVersion"].items() if k != "stage"}}


def _chain_head(driver: Driver, model_id: str) -> tuple[int, str]:
    records, _, _ = driver.execute_query(
        "MATCH (m:Model {id: $id}) RETURN m.eventSeq AS seq, m.lastEventHash AS hash",
        {"id": model_id},
        database_="neo4j",
    )
    return int(records[0]["seq"]), str(records[0]["hash"])


def test_promoting_again_without_a_time_is_the_recorded_change_and_a_new_time_is_refused(
    version: GraphQL, clean_graph: Driver
) -> None:
    first = data(stage(version, "STAGING", T1))["transitionStage"]
    before = graph_state(clean_graph)
    again = data(stage(version, "STAGING"))["transitionStage"]
    assert again == {**first, "created": False}  # the recorded event, not a new one
    moved = error(stage(version, "STAGING", T2))
    assert (moved["extensions"]["code"], moved["extensions"]["field"]) == ("FAILED_PRECONDITION", "stage")
    unchanged(clean_graph, before)


@pytest.mark.parametrize("with_time", [True, False])
def test_a_repeated_promotion_that_archived_others_answers_with_all_its_events(
    version: GraphQL, clean_graph: Driver, with_time: bool
) -> None:
    gql = version
    data(b.model_version(gql, artifact="s3://a/2"))
    data(stage(gql, "STAGING", T1))
    data(stage(gql, "PRODUCTION", T2))
    data(gql(STAGE, {"i": {"modelVersionId": "modelVersion:m:2", "stage": "STAGING", "at": T2}}))
    promotion: dict[str, Any] = {
        "modelVersionId": "modelVersion:m:2",
        "stage": "PRODUCTION",
        "archiveOthers": True,
    }
    if with_time:
        promotion["at"] = T3
    first = data(gql(STAGE, {"i": promotion}))["transitionStage"]
    assert first["created"] is True
    assert [(e["modelVersionId"], e["toStage"]) for e in first["events"]] == [
        ("modelVersion:m:1", "ARCHIVED"),
        ("modelVersion:m:2", "PRODUCTION"),
    ]
    before = graph_state(clean_graph)
    again = data(gql(STAGE, {"i": promotion}))["transitionStage"]
    assert again == {**first, "created": False}
    unchanged(clean_graph, before)


# ---------------------------------------------------------------------------------------------------------
# Aliases


def test_repeated_alias_changes_record_nothing(version: GraphQL, clean_graph: Driver) -> None:
    gql = version
    target = {"model": "m", "modelVersionId": "modelVersion:m:1"}

    # Without a time ("point it now"): the repeat is the recorded event.
    set_now = data(gql(SET_ALIAS, {"i": {**target, "alias": "champion"}}))["setAlias"]
    assert set_now["created"] is True and set_now["modelVersion"]["aliases"] == ["champion"]
    before = graph_state(clean_graph)
    assert data(gql(SET_ALIAS, {"i": {**target, "alias": "champion"}}))["setAlias"] == {
        **set_now,
        "created": False,
    }
    unchanged(clean_graph, before)

    removed = data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "champion"}}))["removeAlias"]
    assert removed["created"] is True and removed["modelVersion"]["aliases"] == []
    before = graph_state(clean_graph)
    assert data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "champion"}}))["removeAlias"] == {
        **removed,
        "created": False,
    }
    unchanged(clean_graph, before)

    # With an explicit time: the same change at the same time is the recorded event.
    set_at = data(gql(SET_ALIAS, {"i": {**target, "alias": "challenger", "at": T1}}))["setAlias"]
    assert set_at["created"] is True
    before = graph_state(clean_graph)
    assert data(gql(SET_ALIAS, {"i": {**target, "alias": "challenger", "at": T1}}))["setAlias"] == {
        **set_at,
        "created": False,
    }
    unchanged(clean_graph, before)
    removed_at = data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "challenger", "at": T2}}))[
        "removeAlias"
    ]
    assert removed_at["created"] is True
    before = graph_state(clean_graph)
    assert data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "challenger", "at": T2}}))["removeAlias"] == {
        **removed_at,
        "created": False,
    }
    assert data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "challenger"}}))["removeAlias"] == {
        **removed_at,
        "created": False,
    }

    never_set = error(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "shadow"}}))
    assert (never_set["extensions"]["code"], never_set["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "alias",
    )
    never_set_at = error(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "shadow", "at": T3}}))
    assert (never_set_at["extensions"]["code"], never_set_at["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "alias",
    )
    unchanged(clean_graph, before)


def test_replaying_a_history_of_alias_moves_records_nothing(version: GraphQL, clean_graph: Driver) -> None:
    gql = version
    data(b.model_version(gql, artifact="s3://a/2"))
    moves = [
        (
            SET_ALIAS,
            "setAlias",
            {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:m:1", "at": T1},
        ),
        (
            SET_ALIAS,
            "setAlias",
            {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:m:2", "at": T2},
        ),
        (REMOVE_ALIAS, "removeAlias", {"model": "m", "alias": "champion", "at": T3}),
    ]
    firsts = [data(gql(doc, {"i": spec}))[name] for doc, name, spec in moves]
    assert [f["created"] for f in firsts] == [True, True, True]
    before = graph_state(clean_graph)
    for (doc, name, spec), first in zip(moves, firsts, strict=True):
        again = data(gql(doc, {"i": spec}))[name]
        assert again["created"] is False
        assert again["events"] == first["events"]
    unchanged(clean_graph, before)


# ---------------------------------------------------------------------------------------------------------
# Deployments


@pytest.fixture
def endpoint(version: GraphQL) -> GraphQL:
    b.endpoint(version, "ep")
    return version


def test_deploying_now_again_while_live_with_the_same_share_is_a_repeat(
    endpoint: GraphQL, clean_graph: Driver
) -> None:
    gql = endpoint
    spec = {"endpoint": "ep", "modelVersionId": "modelVersion:m:1", "trafficShare": 0.5}
    first = data(gql(DEPLOY, {"i": spec}))["deploy"]
    assert first["created"] is True
    before = graph_state(clean_graph)
    time.sleep(0.01)  # "now" has moved on: the repeat must still name the live deployment
    again = data(gql(DEPLOY, {"i": spec}))["deploy"]
    assert again == {**first, "created": False}
    unchanged(clean_graph, before)


def test_deploying_at_the_same_start_again_is_a_repeat(endpoint: GraphQL, clean_graph: Driver) -> None:
    gql = endpoint
    spec = {"endpoint": "ep", "modelVersionId": "modelVersion:m:1", "startedAt": T1, "reason": "launch"}
    first = data(gql(DEPLOY, {"i": spec}))["deploy"]
    assert first["created"] is True and first["deployment"]["startedAt"] == T1
    before = graph_state(clean_graph)
    assert data(gql(DEPLOY, {"i": spec}))["deploy"] == {**first, "created": False}
    # A backfilled, closed interval (on another endpoint) sent twice is recorded once as well.
    closed = {**spec, "endpoint": "ep2", "startedAt": T2, "endedAt": T3, "trafficShare": 0.5}
    b.endpoint(gql, "ep2")
    backfilled = data(gql(DEPLOY, {"i": closed}))["deploy"]
    assert backfilled["created"] is True and backfilled["deployment"]["endedAt"] == T3
    before = graph_state(clean_graph)
    assert data(gql(DEPLOY, {"i": closed}))["deploy"] == {
        **backfilled,
        "created": False,
    }
    unchanged(clean_graph, before)


@pytest.mark.parametrize("repeat_with_time", [False, True])
def test_ending_a_deployment_again_is_a_repeat(
    endpoint: GraphQL, clean_graph: Driver, repeat_with_time: bool
) -> None:
    gql = endpoint
    deployment = data(
        gql(DEPLOY, {"i": {"endpoint": "ep", "modelVersionId": "modelVersion:m:1", "startedAt": T1}})
    )["deploy"]["deployment"]["id"]
    ended = data(gql(END, {"i": {"deploymentId": deployment, "endedAt": T2, "reason": "rollback"}}))[
        "endDeployment"
    ]
    assert ended["created"] is True and ended["deployment"]["endedAt"] == T2
    before = graph_state(clean_graph)
    repeat: dict[str, Any] = {"deploymentId": deployment}
    if repeat_with_time:
        repeat["endedAt"] = T2
    assert data(gql(END, {"i": repeat}))["endDeployment"] == {**ended, "created": False}
    unchanged(clean_graph, before)


def test_ending_now_again_is_a_repeat(endpoint: GraphQL, clean_graph: Driver) -> None:
    gql = endpoint
    deployment = data(
        gql(DEPLOY, {"i": {"endpoint": "ep", "modelVersionId": "modelVersion:m:1", "startedAt": T1}})
    )["deploy"]["deployment"]["id"]
    ended = data(gql(END, {"i": {"deploymentId": deployment}}))["endDeployment"]
    assert ended["created"] is True and ended["deployment"]["endedAt"] is not None
    before = graph_state(clean_graph)
    time.sleep(0.01)
    assert data(gql(END, {"i": {"deploymentId": deployment}}))["endDeployment"] == {**ended, "created": False}
    unchanged(clean_graph, before)


# ---------------------------------------------------------------------------------------------------------
# Runs and exclusions


def test_completing_a_run_again_is_a_repeat(gql: GraphQL, clean_graph: Driver) -> None:
    data(
        gql(
            'mutation { registerRun(input: {key: "r1", kind: TRAIN, startedAt: "2026-01-10T00:00:00Z"}) { created } }'
        )
    )
    completion = {
        "runId": "run:r1",
        "status": "FINISHED",
        "endedAt": "2026-01-11T00:00:00Z",
        "metrics": [{"key": "loss", "value": 0.25}],
    }
    first = data(gql(COMPLETE, {"i": completion}))["completeRun"]
    assert first["created"] is True and first["run"]["status"] == "FINISHED"
    before = graph_state(clean_graph)
    assert data(gql(COMPLETE, {"i": completion}))["completeRun"] == {**first, "created": False}
    # Reporting the same end without its time (or without the metrics) is the same end.
    assert data(gql(COMPLETE, {"i": {"runId": "run:r1", "status": "FINISHED"}}))["completeRun"] == {
        **first,
        "created": False,
    }
    unchanged(clean_graph, before)


@pytest.mark.parametrize("repeat_with_time", [False, True])
def test_excluding_a_source_again_is_a_repeat(
    gql: GraphQL, clean_graph: Driver, repeat_with_time: bool
) -> None:
    data(gql('mutation { registerSource(input: {name: "forum", kind: "crawl"}) { created } }'))
    exclusion = {"sourceId": "source:forum", "reason": "terms changed", "at": T2}
    first = data(gql(EXCLUDE, {"i": exclusion}))["excludeSource"]
    assert first == {
        "created": True,
        "source": {"id": "source:forum", "excludedAt": T2, "exclusionReason": "terms changed"},
    }
    before = graph_state(clean_graph)
    repeat = exclusion if repeat_with_time else {"sourceId": "source:forum", "reason": "terms changed"}
    assert data(gql(EXCLUDE, {"i": repeat}))["excludeSource"] == {**first, "created": False}
    unchanged(clean_graph, before)


def test_excluding_now_again_is_a_repeat(gql: GraphQL, clean_graph: Driver) -> None:
    data(gql('mutation { registerSource(input: {name: "forum", kind: "crawl"}) { created } }'))
    exclusion = {"sourceId": "source:forum", "reason": "terms changed"}
    first = data(gql(EXCLUDE, {"i": exclusion}))["excludeSource"]
    assert first["created"] is True
    before = graph_state(clean_graph)
    time.sleep(0.01)
    assert data(gql(EXCLUDE, {"i": exclusion}))["excludeSource"] == {**first, "created": False}
    unchanged(clean_graph, before)


# ---------------------------------------------------------------------------------------------------------
# Every registration


REGISTRATIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "registerSource",
        "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { created source { id recordedAt } } }",
        {"name": "crawl", "kind": "crawl", "uri": "s3://crawl", "license": "CC-BY-4.0"},
    ),
    (
        "registerDataset",
        "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { created dataset { id recordedAt } } }",
        {"name": "corpus", "owner": "data"},
    ),
    (
        "registerDatasetVersion",
        """mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) {
             created datasetVersion { id createdAt sourceIds recordedAt } } }""",
        {
            "dataset": "corpus",
            "version": "v1",
            "rowCount": 10,
            "createdAt": "2026-01-02T00:00:00Z",
            "sourceIds": ["source:crawl"],
        },
    ),
    (
        "registerDatasetVersion",
        """mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) {
             created datasetVersion { id createdAt derivedFrom { fromId transform } recordedAt } } }""",
        {
            "dataset": "corpus",
            "version": "v2",
            "derivedFrom": [{"fromId": "datasetVersion:corpus:v1", "transform": "dedup"}],
        },
    ),
    (
        "registerSlice",
        "mutation($i: RegisterSliceInput!) { registerSlice(input: $i) { created slice { id createdAt recordedAt } } }",
        {"datasetVersionId": "datasetVersion:corpus:v1", "name": "train", "predicate": "split = 'train'"},
    ),
    (
        "registerExperiment",
        """mutation($i: RegisterExperimentInput!) { registerExperiment(input: $i) {
             created experiment { id recordedAt } } }""",
        {"name": "base", "description": "baseline"},
    ),
    (
        "registerRun",
        "mutation($i: RegisterRunInput!) { registerRun(input: $i) { created run { id status startedAt recordedAt } } }",
        {
            "key": "train-1",
            "kind": "TRAIN",
            "experiment": "base",
            "startedAt": "2026-01-03T00:00:00Z",
            "params": [{"key": "lr", "value": "0.001"}],
            "code": {"repo": "git@x:ml.git", "commit": "abc"},
            "environment": {"python": "3.11", "packages": ["torch==2.5.1"]},
            "inputs": [{"id": "slice:corpus:v1:train", "role": "TRAIN"}],
        },
    ),
    (
        "registerModel",
        "mutation($i: RegisterModelInput!) { registerModel(input: $i) { created model { id recordedAt } } }",
        {"name": "m", "owner": "ml"},
    ),
    (
        "registerModelVersion",
        """mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) {
             created modelVersion { id version createdAt recordedAt } } }""",
        {
            "model": "m",
            "artifactUri": "s3://m/1",
            "trainedBy": "run:train-1",
            "createdAt": "2026-01-04T00:00:00Z",
        },
    ),
    (
        "registerEndpoint",
        """mutation($i: RegisterEndpointInput!) { registerEndpoint(input: $i) {
             created endpoint { id recordedAt } } }""",
        {"name": "ep", "environment": "production"},
    ),
    (
        "logInference",
        """mutation($i: InferenceInput!) { logInference(input: $i) {
             created inference { id modelVersionId recordedAt } } }""",
        {"key": "inf-1", "modelVersionId": "modelVersion:m:1", "at": "2026-01-05T00:00:00Z"},
    ),
]


def test_every_registration_sent_twice_records_once(gql: GraphQL, clean_graph: Driver) -> None:
    firsts = []
    for name, document, spec in REGISTRATIONS:
        answer = data(gql(document, {"i": spec}))[name]
        assert answer["created"] is True, (name, spec)
        firsts.append(answer)
    before = graph_state(clean_graph)
    for (name, document, spec), first in zip(REGISTRATIONS, firsts, strict=True):
        again = data(gql(document, {"i": spec}))[name]
        assert again == {**first, "created": False}, name
    unchanged(clean_graph, before)
    # …and once more in reverse order, as a pipeline resumed from the end would.
    for (name, document, spec), first in reversed(list(zip(REGISTRATIONS, firsts, strict=True))):
        assert data(gql(document, {"i": spec}))[name] == {**first, "created": False}, name
    unchanged(clean_graph, before)


# ---------------------------------------------------------------------------------------------------------
# Idempotency-Key


def test_a_stage_change_retried_under_its_key_records_nothing(version: GraphQL, clean_graph: Driver) -> None:
    gql = version
    key = "stage-" + uuid.uuid4().hex
    request = {"i": {"modelVersionId": "modelVersion:m:1", "stage": "STAGING", "reason": "eval passed"}}
    first = data(gql(STAGE, request, **key_header(key)))["transitionStage"]
    assert first["created"] is True
    staged_at = first["events"][0]["at"]
    before = graph_state(clean_graph)
    time.sleep(0.01)
    retry = data(gql(STAGE, request, **key_header(key)))["transitionStage"]
    assert retry == {**first, "created": False}
    unchanged(clean_graph, before)

    # The pipeline moved on (PRODUCTION a moment later); a late retry of the lost reply still names the
    # STAGING event it recorded — without the key it would move the version back to STAGING.
    time.sleep(0.01)
    later = (datetime.fromisoformat(staged_at) + timedelta(milliseconds=5)).isoformat()
    data(stage(gql, "PRODUCTION", later))
    before = graph_state(clean_graph)
    late_retry = data(gql(STAGE, request, **key_header(key)))["transitionStage"]
    assert late_retry["created"] is False
    assert late_retry["events"] == first["events"]
    assert late_retry["modelVersion"]["stage"] == "PRODUCTION"
    unchanged(clean_graph, before)


def test_a_deploy_retried_under_its_key_records_nothing(endpoint: GraphQL, clean_graph: Driver) -> None:
    gql = endpoint
    key = "deploy-" + uuid.uuid4().hex
    request = {"i": {"endpoint": "ep", "modelVersionId": "modelVersion:m:1", "trafficShare": 1.0}}
    first = data(gql(DEPLOY, request, **key_header(key)))["deploy"]
    assert first["created"] is True
    before = graph_state(clean_graph)
    time.sleep(0.01)
    retry = data(gql(DEPLOY, request, **key_header(key)))["deploy"]
    assert retry == {**first, "created": False}
    unchanged(clean_graph, before)

    # Ended since (a rollback); the late retry names the deployment it started, and starts no new one.
    deployment_id = first["deployment"]["id"]
    time.sleep(0.01)
    data(gql(END, {"i": {"deploymentId": deployment_id, "reason": "rollback"}}))
    before = graph_state(clean_graph)
    late_retry = data(gql(DEPLOY, request, **key_header(key)))["deploy"]
    assert late_retry["created"] is False
    assert late_retry["deployment"]["id"] == deployment_id
    assert late_retry["deployment"]["startedAt"] == first["deployment"]["startedAt"]
    assert b.count(clean_graph, "MATCH (d:Deployment) RETURN count(d)") == 1
    unchanged(clean_graph, before)


def test_a_key_reused_for_another_request_is_a_conflict(
    version: GraphQL, clean_graph: Driver, client: TestClient
) -> None:
    gql = version
    key = "reuse-" + uuid.uuid4().hex
    staging = {"i": {"modelVersionId": "modelVersion:m:1", "stage": "STAGING"}}
    data(gql(STAGE, staging, **key_header(key)))
    before = graph_state(clean_graph)
    archived = {"i": {"modelVersionId": "modelVersion:m:1", "stage": "ARCHIVED"}}
    refused = refused_key(client, STAGE, archived, key)
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("CONFLICT", "Idempotency-Key")
    other_document = refused_key(
        client,
        'mutation { transitionStage(input: {modelVersionId: "modelVersion:m:1", stage: ARCHIVED}) { created } }',
        {},
        key,
    )
    assert (other_document["extensions"]["code"], other_document["extensions"]["field"]) == (
        "CONFLICT",
        "Idempotency-Key",
    )
    unchanged(clean_graph, before)
    stage_now = data(gql('{ modelVersion(id: "modelVersion:m:1") { stage } }'))["modelVersion"]["stage"]
    assert stage_now == "STAGING"


def test_a_refused_first_attempt_leaves_its_key_unused(
    endpoint: GraphQL, clean_graph: Driver, client: TestClient
) -> None:
    gql = endpoint
    key = "typo-" + uuid.uuid4().hex
    before = graph_state(clean_graph)
    wrong = {"i": {"endpoint": "ep", "modelVersionId": "modelVersion:m:9"}}
    refused = error(gql(DEPLOY, wrong, **key_header(key)))
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("NOT_FOUND", "modelVersionId")
    unchanged(clean_graph, before)  # not even the key is remembered
    corrected = {"i": {"endpoint": "ep", "modelVersionId": "modelVersion:m:1"}}
    answer = data(gql(DEPLOY, corrected, **key_header(key)))["deploy"]
    assert answer["created"] is True
    assert b.count(clean_graph, "MATCH (d:Deployment) RETURN count(d)") == 1
    # …and from now on the key belongs to the corrected request.
    assert data(gql(DEPLOY, corrected, **key_header(key)))["deploy"] == {**answer, "created": False}
    refused_again = refused_key(client, DEPLOY, wrong, key)
    assert (refused_again["extensions"]["code"], refused_again["extensions"]["field"]) == (
        "CONFLICT",
        "Idempotency-Key",
    )

    stage_key = "stage-typo-" + uuid.uuid4().hex
    bad_stage = {"i": {"modelVersionId": "modelVersion:m:7", "stage": "STAGING"}}
    assert error(gql(STAGE, bad_stage, **key_header(stage_key)))["extensions"]["code"] == "NOT_FOUND"
    good_stage = {"i": {"modelVersionId": "modelVersion:m:1", "stage": "STAGING"}}
    assert data(gql(STAGE, good_stage, **key_header(stage_key)))["transitionStage"]["created"] is True


@pytest.mark.parametrize("operation", ["transitionStage", "deploy", "setAlias", "removeAlias"])
def test_a_fresh_idempotency_key_does_not_change_what_a_repeat_means(
    endpoint: GraphQL, clean_graph: Driver, operation: str
) -> None:
    """The SDK sends a fresh key with every write. "Promote it now" while it is promoted (deploy now while
    live, point the alias now where it points, remove it now while removed) is a repeat with or without a
    key: running the same script twice must not fail the second time."""
    gql = endpoint
    documents = {
        "transitionStage": (STAGE, {"modelVersionId": "modelVersion:m:1", "stage": "STAGING"}),
        "deploy": (DEPLOY, {"endpoint": "ep", "modelVersionId": "modelVersion:m:1", "trafficShare": 0.5}),
        "setAlias": (SET_ALIAS, {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:m:1"}),
        "removeAlias": (REMOVE_ALIAS, {"model": "m", "alias": "champion"}),
    }
    if operation == "removeAlias":
        data(gql(*_as_request(documents["setAlias"])))
    document, spec = documents[operation]
    first = data(gql(document, {"i": spec}, **key_header("first-" + uuid.uuid4().hex)))[operation]
    assert first["created"] is True
    before = graph_state(clean_graph)
    time.sleep(0.01)
    for headers in ({}, key_header("second-" + uuid.uuid4().hex)):
        again = data(gql(document, {"i": spec}, **headers))[operation]
        assert again == {**first, "created": False}, headers
    unchanged(clean_graph, before)


def _as_request(pair: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    return pair[0], {"i": pair[1]}
