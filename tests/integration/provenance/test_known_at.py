"""knownAt: backdated facts must not silently change past answers.

A question asked with `knownAt: K` answers exactly as the service answered it at K, however many facts
about the past (a deployment that started earlier, an exclusion dated earlier, a stage change, a run's
completion, new data and models) were recorded since. Without knownAt the same question shows them.

Transaction times come from the server: K is the `recordedAt` the API returned for a write, and the test
sleeps a few milliseconds between writes so each is recorded at a distinct time."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import GraphQL
from helpers import data

AS_OF = "2026-06-01T00:00:00+00:00"
MID_MARCH = "2026-03-15T00:00:00+00:00"

MODELS_USING = """query($k: DateTime) {
  modelsUsingSource(sourceId: "source:crawl", asOf: "2026-06-01T00:00:00Z", knownAt: $k) {
    totalCount
    items { modelVersion { id } stage
            deployments { id endpointId startedAt endedAt endReason trafficShare }
            paths { nodeIds edgeTypes } } } }"""

NODE_FIELDS = """__typename
  ... on Source { id excludedAt exclusionReason }
  ... on Dataset { id }
  ... on DatasetVersion { id }
  ... on Slice { id }
  ... on Experiment { id }
  ... on Run { id status endedAt metrics { key value } }
  ... on Model { id }
  ... on ModelVersion { id }
  ... on Endpoint { id }
  ... on Deployment { id startedAt endedAt endReason }
  ... on Inference { id }"""

LINEAGE_DOWN = f"""query($k: DateTime) {{
  lineage(nodeId: "source:crawl", direction: DOWNSTREAM, asOf: "2026-06-01T00:00:00Z", knownAt: $k, first: 100) {{
    totalCount isPartial nodes {{ {NODE_FIELDS} }} edges {{ type fromId toId role transform }} }} }}"""

LINEAGE_UP = f"""query($k: DateTime) {{
  lineage(nodeId: "modelVersion:m:1", direction: BOTH, asOf: "2026-06-01T00:00:00Z", knownAt: $k, first: 100) {{
    totalCount isPartial nodes {{ {NODE_FIELDS} }} edges {{ type fromId toId role transform }} }} }}"""

IMPACT = """query($k: DateTime) {
  impactReport(sourceId: "source:crawl", asOf: "2026-06-01T00:00:00Z", knownAt: $k) {
    source { id excludedAt exclusionReason }
    datasetVersions { id } slices { id }
    runs { id status endedAt metrics { key value } }
    modelVersions { modelVersion { id } stage liveDeployments { id startedAt endedAt endReason trafficShare } inferences }
    firstUsedAt inferences isPartial } }"""

DEPLOYED = """query($k: DateTime) {
  ep: deployedAt(endpoint: "ep", at: "2026-06-01T00:00:00Z", knownAt: $k) {
    id modelVersionId startedAt endedAt endReason trafficShare }
  ep2: deployedAt(endpoint: "ep2", at: "2026-06-01T00:00:00Z", knownAt: $k) {
    id modelVersionId startedAt endedAt endReason trafficShare } }"""

STATE = """query($k: DateTime) {
  modelVersion(id: "modelVersion:m:1") {
    march: stateAt(at: "2026-03-15T00:00:00Z", knownAt: $k) { at existed stage aliases }
    june: stateAt(at: "2026-06-01T00:00:00Z", knownAt: $k) { at existed stage aliases }
    january: stateAt(at: "2026-01-25T00:00:00Z", knownAt: $k) { at existed stage aliases } } }"""

QUESTIONS = {
    "modelsUsingSource": MODELS_USING,
    "lineage downstream": LINEAGE_DOWN,
    "lineage around the version": LINEAGE_UP,
    "impactReport": IMPACT,
    "deployedAt": DEPLOYED,
    "stateAt": STATE,
}


def ask(gql: GraphQL, known_at: str | None = None) -> dict[str, dict[str, Any]]:
    return {name: data(gql(query, {"k": known_at})) for name, query in QUESTIONS.items()}


def pause() -> None:
    time.sleep(0.005)  # the next write is recorded at a later server time


def run_mutation(gql: GraphQL, document: str, **variables: Any) -> dict[str, Any]:
    return data(gql(document, variables))


def marker(gql: GraphQL, name: str) -> str:
    """A write whose only purpose is its recordedAt: a transaction time between two other writes."""
    pause()
    result = run_mutation(
        gql,
        "mutation($n: String!) { registerExperiment(input: {name: $n}) { experiment { recordedAt } } }",
        n=name,
    )
    pause()
    return str(result["registerExperiment"]["experiment"]["recordedAt"])


def record_the_known_world(gql: GraphQL) -> str:
    """Data, a run still running, a staged model version with an alias, a live deployment and an inference.
    Returns K1, the recordedAt of the last write."""
    run_mutation(gql, 'mutation { registerSource(input: {name: "crawl", kind: "crawl"}) { created } }')
    run_mutation(gql, 'mutation { registerDataset(input: {name: "corpus"}) { created } }')
    run_mutation(
        gql,
        """mutation { registerDatasetVersion(input: {dataset: "corpus", version: "v1",
             createdAt: "2026-01-02T00:00:00Z", sourceIds: ["source:crawl"]}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { registerRun(input: {key: "train-1", kind: TRAIN, startedAt: "2026-01-10T00:00:00Z",
             inputs: [{id: "datasetVersion:corpus:v1", role: TRAIN}]}) { created } }""",
    )
    run_mutation(gql, 'mutation { registerModel(input: {name: "m"}) { created } }')
    run_mutation(
        gql,
        """mutation { registerModelVersion(input: {model: "m", artifactUri: "s3://m/1", trainedBy: "run:train-1",
             createdAt: "2026-01-20T00:00:00Z"}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { transitionStage(input: {modelVersionId: "modelVersion:m:1", stage: STAGING,
             at: "2026-02-01T00:00:00Z"}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { setAlias(input: {model: "m", alias: "candidate", modelVersionId: "modelVersion:m:1",
             at: "2026-02-01T00:00:00Z"}) { created } }""",
    )
    for name in ("ep", "ep2"):
        run_mutation(
            gql,
            'mutation($n: String!) { registerEndpoint(input: {name: $n, environment: "prod"}) { created } }',
            n=name,
        )
    run_mutation(
        gql,
        """mutation { deploy(input: {endpoint: "ep", modelVersionId: "modelVersion:m:1",
             startedAt: "2026-03-01T00:00:00Z", trafficShare: 0.5}) { created } }""",
    )
    last = run_mutation(
        gql,
        """mutation { logInference(input: {key: "inf-1", endpoint: "ep", at: "2026-03-05T00:00:00Z"}) {
             inference { recordedAt } } }""",
    )
    return str(last["logInference"]["inference"]["recordedAt"])


@pytest.fixture
def backdated(gql: GraphQL) -> tuple[GraphQL, dict[str, Any], dict[str, str]]:
    """The known world, the answers given then, and the transaction times of each backdated write after."""
    k1 = record_the_known_world(gql)
    before = ask(gql)
    assert ask(gql, k1) == before  # asking "as known now" answers as without knownAt
    pause()
    times = {"K1": k1}

    # (a) a deployment on ep2 that started on 20 February — before K1 — recorded only now
    deployed = run_mutation(
        gql,
        """mutation { deploy(input: {endpoint: "ep2", modelVersionId: "modelVersion:m:1",
             startedAt: "2026-02-20T00:00:00Z", trafficShare: 1.0}) { deployment { recordedAt } } }""",
    )
    times["Ka"] = str(deployed["deploy"]["deployment"]["recordedAt"])
    pause()
    # (b) the deployment on ep ended on 1 April
    run_mutation(
        gql,
        """mutation { endDeployment(input: {deploymentId: "deployment:ep:1", endedAt: "2026-04-01T00:00:00Z",
             reason: "rollback"}) { created } }""",
    )
    times["Kb"] = marker(gql, "after-end")
    # (c) the source had been excluded on 15 March
    run_mutation(
        gql,
        """mutation { excludeSource(input: {sourceId: "source:crawl", reason: "licence withdrawn",
             at: "2026-03-15T00:00:00Z"}) { created } }""",
    )
    times["Kc"] = marker(gql, "after-exclusion")
    # (d) the version had gone to production on 10 March, with the alias moved
    run_mutation(
        gql,
        """mutation { transitionStage(input: {modelVersionId: "modelVersion:m:1", stage: PRODUCTION,
             at: "2026-03-10T00:00:00Z"}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { setAlias(input: {model: "m", alias: "champion", modelVersionId: "modelVersion:m:1",
             at: "2026-03-10T00:00:00Z"}) { created } }""",
    )
    run_mutation(
        gql,
        'mutation { removeAlias(input: {model: "m", alias: "candidate", at: "2026-03-10T00:00:00Z"}) { created } }',
    )
    times["Kd"] = marker(gql, "after-stage")
    # (e) the run had finished on 12 January
    run_mutation(
        gql,
        """mutation { completeRun(input: {runId: "run:train-1", status: FINISHED, endedAt: "2026-01-12T00:00:00Z",
             metrics: [{key: "loss", value: 0.3}]}) { created } }""",
    )
    times["Ke"] = marker(gql, "after-completion")
    # (f) new facts about the past: derived data, an earlier run, a second version, another inference
    run_mutation(
        gql,
        """mutation { registerDatasetVersion(input: {dataset: "corpus", version: "v2", createdAt: "2026-01-03T00:00:00Z",
             derivedFrom: [{fromId: "datasetVersion:corpus:v1", transform: "dedup"}]}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { registerRun(input: {key: "train-0", kind: TRAIN, startedAt: "2026-01-05T00:00:00Z",
             inputs: [{id: "datasetVersion:corpus:v2", role: TRAIN}]}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { registerModelVersion(input: {model: "m", artifactUri: "s3://m/2", trainedBy: "run:train-0",
             createdAt: "2026-01-06T00:00:00Z"}) { created } }""",
    )
    run_mutation(
        gql,
        """mutation { logInference(input: {key: "inf-2", modelVersionId: "modelVersion:m:1",
             at: "2026-03-20T00:00:00Z"}) { created } }""",
    )
    return gql, before, times


def test_known_at_answers_exactly_as_before_the_backdated_facts(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, before, times = backdated
    then = ask(gql, times["K1"])
    for name in QUESTIONS:
        assert then[name] == before[name], name
    now = ask(gql)
    for name in QUESTIONS:
        assert now[name] != before[name], f"{name}: the backdated facts should show without knownAt"


def test_without_known_at_the_backdated_facts_show(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, _ = backdated
    now = ask(gql)
    uses = now["modelsUsingSource"]["modelsUsingSource"]
    assert uses["totalCount"] == 2
    v1 = next(i for i in uses["items"] if i["modelVersion"]["id"] == "modelVersion:m:1")
    assert v1["stage"] == "PRODUCTION"
    assert [(d["id"], d["endedAt"]) for d in v1["deployments"]] == [("deployment:ep2:1", None)]

    impact = now["impactReport"]["impactReport"]
    assert impact["source"] == {
        "id": "source:crawl",
        "excludedAt": MID_MARCH,
        "exclusionReason": "licence withdrawn",
    }
    assert [(r["id"], r["status"], r["endedAt"]) for r in impact["runs"]] == [
        ("run:train-0", "RUNNING", None),
        ("run:train-1", "FINISHED", "2026-01-12T00:00:00+00:00"),
    ]
    assert impact["firstUsedAt"] == "2026-01-05T00:00:00+00:00"
    assert impact["inferences"] == 2
    assert [d["id"] for d in impact["datasetVersions"]] == [
        "datasetVersion:corpus:v1",
        "datasetVersion:corpus:v2",
    ]

    deployed = now["deployedAt"]
    assert deployed["ep"] == []
    assert [d["id"] for d in deployed["ep2"]] == ["deployment:ep2:1"]

    state = now["stateAt"]["modelVersion"]
    assert (state["march"]["stage"], state["march"]["aliases"]) == ("PRODUCTION", ["champion"])

    down = {n.get("id") for n in now["lineage downstream"]["lineage"]["nodes"]}
    assert {"datasetVersion:corpus:v2", "run:train-0", "modelVersion:m:2", "inference:inf-2"} <= down


def test_facts_recorded_after_known_at_are_absent(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, times = backdated
    then = ask(gql, times["K1"])
    uses = then["modelsUsingSource"]["modelsUsingSource"]
    assert [i["modelVersion"]["id"] for i in uses["items"]] == ["modelVersion:m:1"]
    assert uses["items"][0]["stage"] == "STAGING"
    assert then["deployedAt"]["ep2"] == []
    down = {n.get("id") for n in then["lineage downstream"]["lineage"]["nodes"]}
    assert down.isdisjoint(
        {"datasetVersion:corpus:v2", "run:train-0", "modelVersion:m:2", "inference:inf-2", "deployment:ep2:1"}
    )
    impact = then["impactReport"]["impactReport"]
    assert impact["firstUsedAt"] == "2026-01-10T00:00:00+00:00"
    assert impact["inferences"] == 1
    v2_then = data(
        gql(
            """query($k: DateTime) { modelVersion(id: "modelVersion:m:2") {
                 stateAt(at: "2026-06-01T00:00:00Z", knownAt: $k) { existed stage aliases } } }""",
            {"k": times["K1"]},
        )
    )["modelVersion"]["stateAt"]
    assert v2_then == {"existed": False, "stage": "NONE", "aliases": []}


def test_an_end_recorded_later_leaves_the_deployment_open_as_known_then(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, times = backdated
    open_then = {
        "id": "deployment:ep:1",
        "modelVersionId": "modelVersion:m:1",
        "startedAt": "2026-03-01T00:00:00+00:00",
        "endedAt": None,
        "endReason": None,
        "trafficShare": 0.5,
    }
    at_ka = data(gql(DEPLOYED, {"k": times["Ka"]}))
    assert at_ka["ep"] == [open_then]  # the end was not known yet…
    assert [d["id"] for d in at_ka["ep2"]] == ["deployment:ep2:1"]  # …but the ep2 deployment was
    assert data(gql(DEPLOYED, {"k": times["Kb"]}))["ep"] == []
    live_then = data(gql(IMPACT, {"k": times["Ka"]}))["impactReport"]["modelVersions"][0]["liveDeployments"]
    assert {d["id"]: d["endedAt"] for d in live_then} == {"deployment:ep:1": None, "deployment:ep2:1": None}
    # At a time when it was still live, the deployment as known after its end shows the end.
    april = data(
        gql(
            """query($k: DateTime) { deployedAt(endpoint: "ep", at: "2026-03-20T00:00:00Z", knownAt: $k) {
                 id endedAt endReason } }""",
            {"k": times["Kb"]},
        )
    )["deployedAt"]
    assert april == [
        {"id": "deployment:ep:1", "endedAt": "2026-04-01T00:00:00+00:00", "endReason": "rollback"}
    ]
    april_before = data(
        gql(
            """query($k: DateTime) { deployedAt(endpoint: "ep", at: "2026-03-20T00:00:00Z", knownAt: $k) {
                 id endedAt endReason } }""",
            {"k": times["Ka"]},
        )
    )["deployedAt"]
    assert april_before == [{"id": "deployment:ep:1", "endedAt": None, "endReason": None}]


def test_an_exclusion_recorded_later_is_not_known_before(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, times = backdated
    unexcluded = {"id": "source:crawl", "excludedAt": None, "exclusionReason": None}
    excluded = {"id": "source:crawl", "excludedAt": MID_MARCH, "exclusionReason": "licence withdrawn"}
    assert data(gql(IMPACT, {"k": times["Kb"]}))["impactReport"]["source"] == unexcluded
    assert data(gql(IMPACT, {"k": times["Kc"]}))["impactReport"]["source"] == excluded
    for k, expected in ((times["Kb"], unexcluded), (times["Kc"], excluded)):
        nodes = data(gql(LINEAGE_UP, {"k": k}))["lineage"]["nodes"]
        source = next(n for n in nodes if n.get("id") == "source:crawl")
        assert {key: source[key] for key in expected} == expected


def test_a_completion_recorded_later_leaves_the_run_running_as_known_then(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, times = backdated
    running = {"id": "run:train-1", "status": "RUNNING", "endedAt": None, "metrics": []}
    finished = {
        "id": "run:train-1",
        "status": "FINISHED",
        "endedAt": "2026-01-12T00:00:00+00:00",
        "metrics": [{"key": "loss", "value": 0.3}],
    }
    for k, expected in ((times["Kd"], running), (times["Ke"], finished)):
        assert data(gql(IMPACT, {"k": k}))["impactReport"]["runs"] == [expected]
        nodes = data(gql(LINEAGE_DOWN, {"k": k}))["lineage"]["nodes"]
        run = next(n for n in nodes if n.get("id") == "run:train-1")
        assert {key: run[key] for key in expected} == expected


def test_a_stage_change_recorded_later_is_not_known_before(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, times = backdated
    for k, stage, aliases in (
        (times["Kc"], "STAGING", ["candidate"]),
        (times["Kd"], "PRODUCTION", ["champion"]),
    ):
        march = data(gql(STATE, {"k": k}))["modelVersion"]["march"]
        assert (march["stage"], march["aliases"]) == (stage, aliases), k
        assert data(gql(MODELS_USING, {"k": k}))["modelsUsingSource"]["items"][0]["stage"] == stage
        impact_stage = data(gql(IMPACT, {"k": k}))["impactReport"]["modelVersions"][0]["stage"]
        assert impact_stage == stage


def test_a_known_at_without_a_time_zone_is_refused(
    backdated: tuple[GraphQL, dict[str, Any], dict[str, str]],
) -> None:
    gql, _, _ = backdated
    body = gql(IMPACT, {"k": "2026-03-01T00:00:00"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
