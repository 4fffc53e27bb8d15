"""Tamper evidence beyond the registry chains: seals, checkpoints and the ledgers of every other fact.

Each test records a small but complete history through the API, then edits the database directly (as
someone with database credentials could) and shows that verifyAuditChain reports it — naming the chain and
the subject — while an untouched graph verifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from neo4j import Driver

from conftest import GraphQL
from helpers import data, error
from provgraph.domain.facts import entry_hash
from provgraph.domain.registry import event_hash
from provgraph.store.events import registry_event_from
from provgraph.store.fragments import registry_event
from provgraph.store.ledger import entry_from

VERIFY = """query($cp: String, $m: String) { verifyAuditChain(model: $m, against: $cp) {
  valid models events entries facts sealed checkpointTakenAt breaks { chain modelId seq eventId problem } } }"""
CHECKPOINT = "{ auditCheckpoint }"
SERVED = """{
  v1: modelVersion(id: "modelVersion:m:1") { stage aliases }
  v2: modelVersion(id: "modelVersion:m:2") { stage aliases }
  production: modelVersions(where: {stage: PRODUCTION}) { nodes { id } }
  staging: modelVersions(where: {stage: STAGING}) { nodes { id } }
  champion: modelVersions(where: {alias: "champion"}) { nodes { id } }
  forged: modelVersions(where: {alias: "forged"}) { totalCount }
  march: modelVersion(id: "modelVersion:m:2") { stateAt(at: "2026-03-15T00:00:00Z") { stage aliases } }
  uses: modelsUsingSource(sourceId: "source:vendor", stage: PRODUCTION) { items { modelVersion { id } stage } }
}"""


def run(gql: GraphQL, document: str, **variables: Any) -> dict[str, Any]:
    return data(gql(document, variables))


@pytest.fixture
def recorded(gql: GraphQL) -> GraphQL:
    """Sources (one excluded), a dataset version with its sources, a derived version, a slice, a completed
    run, model m (two versions, stages, an alias), model other, deployments (one open, one ended, one
    backfilled closed) and inferences (a batch and a single one)."""
    for name, kind in (("crawl", "crawl"), ("vendor", "vendor")):
        run(
            gql,
            "mutation($n: String!, $k: String!) { registerSource(input: {name: $n, kind: $k}) { created } }",
            n=name,
            k=kind,
        )
    run(gql, 'mutation { registerDataset(input: {name: "corpus"}) { created } }')
    run(
        gql,
        """mutation { registerDatasetVersion(input: {dataset: "corpus", version: "v1", createdAt: "2026-01-02T00:00:00Z",
             sourceIds: ["source:crawl", "source:vendor"]}) { created } }""",
    )
    run(
        gql,
        """mutation { registerDatasetVersion(input: {dataset: "corpus", version: "v2", createdAt: "2026-01-03T00:00:00Z",
             derivedFrom: [{fromId: "datasetVersion:corpus:v1", transform: "dedup"}]}) { created } }""",
    )
    run(
        gql,
        """mutation { registerSlice(input: {datasetVersionId: "datasetVersion:corpus:v2", name: "train",
             createdAt: "2026-01-04T00:00:00Z"}) { created } }""",
    )
    run(
        gql,
        """mutation { registerRun(input: {key: "train-1", kind: TRAIN, experiment: "base", startedAt: "2026-01-10T00:00:00Z",
             params: [{key: "lr", value: "0.001"}], inputs: [{id: "slice:corpus:v2:train", role: TRAIN}]}) { created } }""",
    )
    run(
        gql,
        """mutation { completeRun(input: {runId: "run:train-1", status: FINISHED, endedAt: "2026-01-12T00:00:00Z",
             metrics: [{key: "loss", value: 0.3}]}) { created } }""",
    )
    for name in ("m", "other"):
        run(gql, "mutation($n: String!) { registerModel(input: {name: $n}) { created } }", n=name)
    for model, artifact in (("m", "s3://m/1"), ("m", "s3://m/2"), ("other", "s3://o/1")):
        run(
            gql,
            """mutation($m: String!, $a: String!) { registerModelVersion(input: {model: $m, artifactUri: $a,
                 trainedBy: "run:train-1", createdAt: "2026-01-20T00:00:00Z"}) { created } }""",
            m=model,
            a=artifact,
        )
    stage = "mutation($i: TransitionStageInput!) { transitionStage(input: $i) { created } }"
    run(
        gql, stage, i={"modelVersionId": "modelVersion:m:1", "stage": "STAGING", "at": "2026-02-01T00:00:00Z"}
    )
    run(
        gql,
        stage,
        i={
            "modelVersionId": "modelVersion:m:1",
            "stage": "PRODUCTION",
            "at": "2026-03-01T00:00:00Z",
            "reason": "approved by risk",
        },
    )
    run(
        gql, stage, i={"modelVersionId": "modelVersion:m:2", "stage": "STAGING", "at": "2026-03-01T00:00:00Z"}
    )
    run(
        gql,
        """mutation { setAlias(input: {model: "m", alias: "champion", modelVersionId: "modelVersion:m:1",
             at: "2026-03-01T00:00:00Z"}) { created } }""",
    )
    run(gql, 'mutation { registerEndpoint(input: {name: "ep", environment: "prod"}) { created } }')
    deploy = "mutation($i: DeployInput!) { deploy(input: $i) { deployment { id } } }"
    run(
        gql,
        deploy,
        i={
            "endpoint": "ep",
            "modelVersionId": "modelVersion:m:1",
            "startedAt": "2026-03-01T00:00:00Z",
            "trafficShare": 0.9,
        },
    )
    run(
        gql,
        deploy,
        i={
            "endpoint": "ep",
            "modelVersionId": "modelVersion:m:2",
            "startedAt": "2026-03-01T00:00:00Z",
            "trafficShare": 0.1,
        },
    )
    run(
        gql,
        'mutation { endDeployment(input: {deploymentId: "deployment:ep:2", endedAt: "2026-04-01T00:00:00Z", reason: "canary failed"}) { created } }',
    )
    run(
        gql,
        deploy,
        i={
            "endpoint": "ep",
            "modelVersionId": "modelVersion:m:2",
            "startedAt": "2026-04-10T00:00:00Z",
            "endedAt": "2026-04-20T00:00:00Z",
            "trafficShare": 0.1,
        },
    )  # deployment:ep:3, a backfilled closed interval
    batch = [
        {
            "key": f"batch-{n}",
            "endpoint": "ep",
            "modelVersionId": "modelVersion:m:1",
            "at": "2026-03-05T00:00:00Z",
        }
        for n in range(3)
    ]
    outcome = run(
        gql,
        "mutation($items: [InferenceInput!]!) { logInferences(inferences: $items) { accepted rejected { key } } }",
        items=batch,
    )
    assert outcome["logInferences"] == {"accepted": 3, "rejected": []}
    run(
        gql,
        """mutation { logInference(input: {key: "single", modelVersionId: "modelVersion:m:2",
             at: "2026-03-06T00:00:00Z"}) { created } }""",
    )
    run(
        gql,
        """mutation { excludeSource(input: {sourceId: "source:crawl", reason: "licence withdrawn",
             at: "2026-06-15T00:00:00Z"}) { created } }""",
    )
    return gql


def verify(gql: GraphQL, checkpoint: str | None = None, model: str | None = None) -> dict[str, Any]:
    return dict(data(gql(VERIFY, {"cp": checkpoint, "m": model}))["verifyAuditChain"])


def checkpoint(gql: GraphQL) -> str:
    return str(data(gql(CHECKPOINT))["auditCheckpoint"])


def tamper(driver: Driver, cypher: str, **params: Any) -> None:
    driver.execute_query(cypher, params, database_="neo4j")


def breaks_on(report: dict[str, Any], chain: str) -> list[dict[str, Any]]:
    return [b for b in report["breaks"] if b["chain"] == chain]


def assert_caught(report: dict[str, Any], chain: str, subject: str, *words: str) -> dict[str, Any]:
    """The report is invalid and has a break on `chain` naming `subject` whose problem says all `words`."""
    assert report["valid"] is False, report
    matching = [
        b
        for b in breaks_on(report, chain)
        if b["eventId"] == subject and all(w in b["problem"] for w in words)
    ]
    assert matching, report["breaks"]
    return matching[0]


# ---------------------------------------------------------------------------------------------------------


def test_an_untouched_graph_verifies(recorded: GraphQL) -> None:
    report = verify(recorded)
    assert report["valid"] is True, report["breaks"]
    assert report["breaks"] == []
    assert report["sealed"] is True
    assert report["models"] == 2 and report["events"] == 7
    assert report["entries"] > 0 and report["facts"] > 0
    cp = checkpoint(recorded)
    against = verify(recorded, cp)
    assert (against["valid"], against["breaks"]) == (True, [])
    assert against["checkpointTakenAt"] is not None
    # A checkpoint stays valid while the history only grows.
    run(recorded, 'mutation { registerSource(input: {name: "later", kind: "bucket"}) { created } }')
    run(
        recorded,
        'mutation { transitionStage(input: {modelVersionId: "modelVersion:m:2", stage: PRODUCTION}) { created } }',
    )
    later = verify(recorded, cp)
    assert (later["valid"], later["breaks"]) == (True, [])


def _events(driver: Driver, model_id: str) -> list[Any]:
    records, _, _ = driver.execute_query(
        "MATCH (e:RegistryEvent {modelId: $m}) RETURN " + registry_event("e") + " AS e ORDER BY e.seq",
        {"m": model_id},
        database_="neo4j",
    )
    return [registry_event_from(r["e"]) for r in records]


def test_a_truncated_chain_with_its_head_rewound_is_caught_against_a_checkpoint(
    recorded: GraphQL, clean_graph: Driver
) -> None:
    cp = checkpoint(recorded)
    events = _events(clean_graph, "model:m")
    last, previous = events[-1], events[-2]
    assert last.kind.value == "ALIAS_SET"
    tamper(clean_graph, "MATCH (e:RegistryEvent {id: $id}) DETACH DELETE e", id=last.id)
    tamper(
        clean_graph,
        "MATCH (m:Model {id: 'model:m'}) SET m.eventSeq = $seq, m.lastEventHash = $hash, m.lastEventAt = $at",
        seq=previous.seq,
        hash=previous.hash,
        at=previous.at,
    )
    # The chain alone agrees with itself: nothing after the new head, and the head matches.
    assert verify(recorded, model="m")["breaks"] == []
    assert breaks_on(verify(recorded), "model:m") == []
    report = verify(recorded, cp)
    assert report["valid"] is False
    assert breaks_on(report, "model:m") == [
        {
            "chain": "model:m",
            "modelId": "model:m",
            "seq": last.seq,
            "eventId": None,
            "problem": f"the chain was truncated: {previous.seq} records now, {last.seq} at the checkpoint",
        }
    ]


def test_an_edit_with_the_whole_chain_rehashed_is_caught_by_the_seals(
    recorded: GraphQL, clean_graph: Driver
) -> None:
    from dataclasses import replace

    events = _events(clean_graph, "model:m")
    # The forger's arithmetic is right: recomputing the untouched chain gives the stored hashes.
    assert all(event_hash(e) == e.hash for e in events)
    target = next(e for e in events if e.reason == "approved by risk")
    previous_hash: str | None = None
    for event in events:
        forged = replace(event, prev_hash=previous_hash)
        if event.id == target.id:
            forged = replace(forged, reason="approved by nobody")
        forged = replace(forged, hash=event_hash(forged))
        tamper(
            clean_graph,
            "MATCH (e:RegistryEvent {id: $id}) SET e.reason = $reason, e.prevHash = $prev, e.hash = $hash",
            id=event.id,
            reason=forged.reason,
            prev=forged.prev_hash,
            hash=forged.hash,
        )
        previous_hash = forged.hash
    tamper(clean_graph, "MATCH (m:Model {id: 'model:m'}) SET m.lastEventHash = $h", h=previous_hash)

    for report in (verify(recorded, model="m"), verify(recorded)):
        assert report["valid"] is False
        found = breaks_on(report, "model:m")
        assert len(found) == 1, found
        assert (found[0]["seq"], found[0]["eventId"], found[0]["modelId"]) == (
            target.seq,
            target.id,
            "model:m",
        )
        assert "seal" in found[0]["problem"]


def test_a_ledger_entry_edited_and_rehashed_is_caught_by_the_seals(
    recorded: GraphQL, clean_graph: Driver
) -> None:
    from dataclasses import replace

    records, _, _ = clean_graph.execute_query(
        "MATCH (x:LedgerEntry {scope: 'serving'}) RETURN x {.*, recordedAt: toString(x.recordedAt)} AS x ORDER BY x.seq",
        database_="neo4j",
    )
    entries = [entry_from(r["x"]) for r in records]

    def digest(entry: Any, prev: str | None) -> str:
        return entry_hash(
            entry.scope,
            entry.seq,
            entry.kind,
            entry.subject_id,
            entry.content,
            entry.actor,
            entry.recorded_at,
            prev,
        )

    assert all(digest(e, e.prev_hash) == e.hash for e in entries)
    target = next(e for e in entries if e.kind.value == "DEPLOYMENT_ENDED")
    previous: str | None = None
    for entry in entries:
        content = (
            {**entry.content, "endedAt": "2026-03-20T00:00:00+00:00"}
            if entry.id == target.id
            else entry.content
        )
        forged = replace(entry, content=content)
        new_hash = digest(forged, previous)
        tamper(
            clean_graph,
            "MATCH (x:LedgerEntry {id: $id}) SET x.content = $content, x.prevHash = $prev, x.hash = $hash",
            id=entry.id,
            content=json.dumps(content, sort_keys=True, separators=(",", ":")),
            prev=previous,
            hash=new_hash,
        )
        previous = new_hash
    tamper(clean_graph, "MATCH (l:Ledger {scope: 'serving'}) SET l.head = $h", h=previous)
    tamper(
        clean_graph,
        "MATCH (d:Deployment {id: 'deployment:ep:2'}) SET d.endedAt = datetime('2026-03-20T00:00:00Z')",
    )  # the graph edited to match the forged entry
    report = verify(recorded)
    found = breaks_on(report, "ledger:serving")
    assert report["valid"] is False
    assert [(b["seq"], b["eventId"]) for b in found] == [(target.seq, target.id)]
    assert "seal" in found[0]["problem"]


def test_a_deleted_model_is_caught_against_a_checkpoint_and_by_the_ledger(
    recorded: GraphQL, clean_graph: Driver
) -> None:
    cp = checkpoint(recorded)
    tamper(
        clean_graph,
        """MATCH (m:Model {id: 'model:other'})
           OPTIONAL MATCH (e:RegistryEvent {modelId: m.id})
           OPTIONAL MATCH (v:ModelVersion {modelId: m.id})
           DETACH DELETE m, e, v""",
    )
    assert data(recorded("{ models { totalCount } }"))["models"]["totalCount"] == 1
    report = verify(recorded, cp)
    assert report["valid"] is False
    gone = breaks_on(report, "model:other")
    assert [(b["seq"], b["problem"]) for b in gone] == [
        (1, "the chain is gone; it had 1 records at the checkpoint")
    ]
    assert_caught(report, "ledger:registry", "model:other", "MODEL_REGISTERED", "gone")
    assert_caught(report, "ledger:registry", "modelVersion:other:1", "MODEL_VERSION_REGISTERED", "gone")
    without = verify(recorded)
    assert_caught(without, "ledger:registry", "model:other", "MODEL_REGISTERED", "gone")


@pytest.mark.parametrize(
    "forgery",
    [
        "MATCH (v:ModelVersion {id: 'modelVersion:m:2'}) SET v.stage = 'PRODUCTION'",
        "MATCH (v:ModelVersion {id: 'modelVersion:m:1'}) SET v.stage = 'ARCHIVED', v.aliases = []",
        "MATCH (v:ModelVersion {id: 'modelVersion:m:2'}) SET v.aliases = ['champion', 'forged']",
        """MATCH (m:Model {id: 'model:m'}), (v:ModelVersion {id: 'modelVersion:m:2'})
           CREATE (m)-[:ALIAS {alias: 'forged', name: 'forged'}]->(v), (v)-[:ALIAS {alias: 'champion'}]->(m)""",
        """MATCH (v:ModelVersion {id: 'modelVersion:m:2'})
           CREATE (:Alias {model: 'model:m', alias: 'champion', name: 'champion'})-[:ALIAS]->(v)""",
    ],
)
def test_forged_stage_and_alias_properties_do_not_change_what_is_served(
    recorded: GraphQL, clean_graph: Driver, forgery: str
) -> None:
    before = data(recorded(SERVED))
    assert before["v1"] == {"stage": "PRODUCTION", "aliases": ["champion"]}
    assert before["v2"] == {"stage": "STAGING", "aliases": []}
    tamper(clean_graph, forgery)
    assert data(recorded(SERVED)) == before


@pytest.mark.parametrize(
    ("forgery", "subject"),
    [
        # an ended deployment's end moved
        (
            "MATCH (d:Deployment {id: 'deployment:ep:2'}) SET d.endedAt = datetime('2026-03-20T00:00:00Z')",
            "deployment:ep:2",
        ),
        # a backfilled, closed interval's end moved
        (
            "MATCH (d:Deployment {id: 'deployment:ep:3'}) SET d.endedAt = datetime('2026-04-30T00:00:00Z')",
            "deployment:ep:3",
        ),
        # an ended deployment made open again
        ("MATCH (d:Deployment {id: 'deployment:ep:2'}) REMOVE d.endedAt, d.endReason", "deployment:ep:2"),
        # an open deployment ended directly
        (
            "MATCH (d:Deployment {id: 'deployment:ep:1'}) SET d.endedAt = datetime('2026-03-20T00:00:00Z')",
            "deployment:ep:1",
        ),
        # its share changed
        ("MATCH (d:Deployment {id: 'deployment:ep:1'}) SET d.trafficShare = 0.5", "deployment:ep:1"),
        # its start moved
        (
            "MATCH (d:Deployment {id: 'deployment:ep:1'}) SET d.startedAt = datetime('2026-02-01T00:00:00Z')",
            "deployment:ep:1",
        ),
        # deleted
        ("MATCH (d:Deployment {id: 'deployment:ep:2'}) DETACH DELETE d", "deployment:ep:2"),
        # created directly
        (
            """MATCH (e:Endpoint {id: 'endpoint:ep'}), (v:ModelVersion {id: 'modelVersion:m:2'})
               CREATE (d:Deployment {id: 'deployment:ep:9', endpointId: e.id, modelVersionId: v.id,
                       startedAt: datetime('2026-05-01T00:00:00Z'), validFrom: datetime('2026-05-01T00:00:00Z'),
                       trafficShare: 0.1, recordedAt: datetime(), recordedBy: 'intruder'})
               CREATE (d)-[:OF]->(v), (d)-[:ON]->(e)""",
            "deployment:ep:9",
        ),
    ],
)
def test_deployment_tampering_is_caught(
    recorded: GraphQL, clean_graph: Driver, forgery: str, subject: str
) -> None:
    tamper(clean_graph, forgery)
    assert_caught(verify(recorded), "ledger:serving", subject)


def test_a_deployment_repointed_to_another_version_is_caught(recorded: GraphQL, clean_graph: Driver) -> None:
    """The OF edge is what modelsUsingSource and lineage follow: moving it changes the served answer."""
    question = '{ modelVersion(id: "modelVersion:m:2") { deployments { id } } }'
    before = data(recorded(question))
    tamper(
        clean_graph,
        """MATCH (d:Deployment {id: 'deployment:ep:1'})-[r:OF]->(), (v:ModelVersion {id: 'modelVersion:m:2'})
           CREATE (d)-[:OF {validFrom: r.validFrom, recordedAt: r.recordedAt}]->(v) DELETE r""",
    )
    assert data(recorded(question)) != before  # the served graph changed…
    assert_caught(verify(recorded), "ledger:serving", "deployment:ep:1")  # …and verification says so


@pytest.mark.parametrize(
    ("forgery", "subject", "kind"),
    [
        # the exclusion's date moved
        (
            "MATCH (s:Source {id: 'source:crawl'}) SET s.excludedAt = datetime('2026-01-01T00:00:00Z')",
            "source:crawl",
            "SOURCE_EXCLUDED",
        ),
        # the exclusion's reason rewritten
        (
            "MATCH (s:Source {id: 'source:crawl'}) SET s.exclusionReason = 'no reason'",
            "source:crawl",
            "SOURCE_EXCLUDED",
        ),
        # the exclusion removed
        ("MATCH (s:Source {id: 'source:crawl'}) REMOVE s.excludedAt", "source:crawl", "SOURCE_EXCLUDED"),
        # an exclusion added directly
        (
            "MATCH (s:Source {id: 'source:vendor'}) SET s.excludedAt = datetime('2026-05-01T00:00:00Z'), s.exclusionReason = 'x'",
            "source:vendor",
            "SOURCE_EXCLUDED",
        ),
        # a registration's licence rewritten
        (
            "MATCH (s:Source {id: 'source:vendor'}) SET s.license = 'MIT'",
            "source:vendor",
            "SOURCE_REGISTERED",
        ),
    ],
)
def test_exclusion_tampering_is_caught(
    recorded: GraphQL, clean_graph: Driver, forgery: str, subject: str, kind: str
) -> None:
    tamper(clean_graph, forgery)
    assert_caught(verify(recorded), "ledger:catalog", subject, kind)


def _first_inference_write(driver: Driver) -> str:
    records, _, _ = driver.execute_query(
        "MATCH (i:Inference {id: 'inference:batch-0'}) RETURN i.recordedIn AS w", database_="neo4j"
    )
    return str(records[0]["w"])


@pytest.mark.parametrize(
    "forgery",
    [
        "MATCH (i:Inference {id: 'inference:batch-1'}) DETACH DELETE i",
        "MATCH (i:Inference {id: 'inference:single'}) DETACH DELETE i",
        "MATCH (i:Inference {id: 'inference:batch-2'}) SET i.modelVersionId = 'modelVersion:m:2'",
        "MATCH (i:Inference {id: 'inference:batch-2'}) SET i.at = datetime('2026-03-04T00:00:00Z')",
        # created directly: alone, and slipped into an existing batch
        """MATCH (v:ModelVersion {id: 'modelVersion:m:1'})
           CREATE (i:Inference {id: 'inference:forged', at: datetime('2026-03-07T00:00:00Z'), validFrom: datetime('2026-03-07T00:00:00Z'),
                   modelVersionId: v.id, recordedAt: datetime(), recordedBy: 'intruder'})
           CREATE (i)-[:PREDICTED_WITH {validFrom: i.at, recordedAt: i.recordedAt}]->(v)""",
        """MATCH (v:ModelVersion {id: 'modelVersion:m:1'}), (first:Inference {id: 'inference:batch-0'})
           CREATE (i:Inference {id: 'inference:forged', at: first.at, validFrom: first.at, modelVersionId: v.id,
                   deploymentId: first.deploymentId, recordedAt: first.recordedAt, recordedBy: first.recordedBy,
                   recordedIn: first.recordedIn})
           CREATE (i)-[:PREDICTED_WITH {validFrom: i.at, recordedAt: i.recordedAt}]->(v)""",
    ],
)
def test_inference_tampering_is_caught(recorded: GraphQL, clean_graph: Driver, forgery: str) -> None:
    tamper(clean_graph, forgery)
    report = verify(recorded)
    assert report["valid"] is False
    assert breaks_on(report, "ledger:inferences"), report["breaks"]


@pytest.mark.parametrize(
    ("edge", "target", "field"),
    [
        ("PREDICTED_WITH", "(x:ModelVersion {id: 'modelVersion:m:2'})", "modelVersion"),
        ("SERVED_BY", "(x:Deployment {id: 'deployment:ep:2'})", "deployment"),
    ],
)
def test_an_inference_repointed_elsewhere_is_caught(
    recorded: GraphQL, clean_graph: Driver, edge: str, target: str, field: str
) -> None:
    """PREDICTED_WITH and SERVED_BY are what traceInference and impactReport follow: moving one changes
    what is served, so verification must notice."""
    question = (
        '{ traceInference(inferenceId: "inference:batch-0") { modelVersion { id } deployment { id } } }'
    )
    before = data(recorded(question))["traceInference"]
    assert before == {"modelVersion": {"id": "modelVersion:m:1"}, "deployment": {"id": "deployment:ep:1"}}
    tamper(
        clean_graph,
        f"""MATCH (i:Inference {{id: 'inference:batch-0'}})-[r:{edge}]->(), {target}
            CREATE (i)-[:{edge} {{validFrom: r.validFrom, recordedAt: r.recordedAt}}]->(x) DELETE r""",
    )
    after = data(recorded(question))["traceInference"]
    assert after[field] != before[field]  # the served answer changed…
    report = verify(recorded)
    assert report["valid"] is False, "…but verifyAuditChain still says valid"
    assert breaks_on(report, "ledger:inferences"), report["breaks"]


@pytest.mark.parametrize(
    ("forgery", "subject", "words"),
    [
        (
            "MATCH (:DatasetVersion {id: 'datasetVersion:corpus:v1'})-[r:FROM_SOURCE]->(:Source {id: 'source:crawl'}) DELETE r",
            "datasetVersion:corpus:v1",
            ("DATASET_VERSION_REGISTERED", "sourceIds"),
        ),
        (
            """MATCH (v:DatasetVersion {id: 'datasetVersion:corpus:v2'}), (s:Source {id: 'source:vendor'})
               CREATE (v)-[:FROM_SOURCE {validFrom: v.validFrom, recordedAt: v.recordedAt}]->(s)""",
            "datasetVersion:corpus:v2",
            ("DATASET_VERSION_REGISTERED", "sourceIds"),
        ),
        (
            "MATCH (:DatasetVersion {id: 'datasetVersion:corpus:v2'})-[r:DERIVED_FROM]->() DELETE r",
            "datasetVersion:corpus:v2",
            ("DATASET_VERSION_REGISTERED", "derivedFrom"),
        ),
        (
            "MATCH (:Slice {id: 'slice:corpus:v2:train'})-[r:SUBSET_OF]->() DELETE r",
            "slice:corpus:v2:train",
            ("SLICE_REGISTERED",),
        ),
    ],
)
def test_dataset_lineage_tampering_is_caught(
    recorded: GraphQL, clean_graph: Driver, forgery: str, subject: str, words: tuple[str, ...]
) -> None:
    tamper(clean_graph, forgery)
    assert_caught(verify(recorded), "ledger:catalog", subject, *words)


@pytest.mark.parametrize(
    ("forgery", "subject", "kind"),
    [
        ("MATCH (:Run {id: 'run:train-1'})-[r:USED]->() DELETE r", "run:train-1", "RUN_REGISTERED"),
        ("MATCH (r:Run {id: 'run:train-1'}) SET r.status = 'FAILED'", "run:train-1", "RUN_COMPLETED"),
        (
            "MATCH (r:Run {id: 'run:train-1'}) SET r.endedAt = datetime('2026-01-30T00:00:00Z')",
            "run:train-1",
            "RUN_COMPLETED",
        ),
        (
            "MATCH (r:Run {id: 'run:train-1'}) SET r.error = 'blamed on the data'",
            "run:train-1",
            "RUN_COMPLETED",
        ),
        (
            "MATCH (:ModelVersion {id: 'modelVersion:m:2'})-[r:GENERATED_BY]->() DELETE r",
            "modelVersion:m:2",
            "MODEL_VERSION_REGISTERED",
        ),
    ],
)
def test_run_and_training_lineage_tampering_is_caught(
    recorded: GraphQL, clean_graph: Driver, forgery: str, subject: str, kind: str
) -> None:
    tamper(clean_graph, forgery)
    report = verify(recorded)
    chain = "ledger:registry" if subject.startswith("modelVersion:") else "ledger:runs"
    assert_caught(report, chain, subject, kind)


def _entry(driver: Driver, scope: str, seq: int) -> dict[str, Any]:
    records, _, _ = driver.execute_query(
        "MATCH (x:LedgerEntry {scope: $s, seq: $q}) RETURN properties(x) AS x",
        {"s": scope, "q": seq},
        database_="neo4j",
    )
    return dict(records[0]["x"])


def test_an_edited_ledger_entry_is_caught_at_that_entry(recorded: GraphQL, clean_graph: Driver) -> None:
    entry = _entry(clean_graph, "catalog", 2)
    content = json.loads(entry["content"])
    content["kind"] = "licensed-vendor" if "kind" in content else "edited"
    tamper(
        clean_graph,
        "MATCH (x:LedgerEntry {scope: 'catalog', seq: 2}) SET x.content = $c",
        c=json.dumps(content, sort_keys=True, separators=(",", ":")),
    )
    report = verify(recorded)
    assert report["valid"] is False
    first = breaks_on(report, "ledger:catalog")[0]
    assert (first["seq"], first["eventId"], first["problem"]) == (
        2,
        "ledger:catalog:2",
        "content does not match its hash (altered)",
    )


@pytest.mark.parametrize("scope", ["serving", "catalog", "inferences", "registry", "runs"])
def test_the_last_ledger_entry_deleted_with_the_head_rewound_is_caught_against_a_checkpoint(
    recorded: GraphQL, clean_graph: Driver, scope: str
) -> None:
    cp = checkpoint(recorded)
    records, _, _ = clean_graph.execute_query(
        "MATCH (l:Ledger {scope: $s}) RETURN l.seq AS seq", {"s": scope}, database_="neo4j"
    )
    head = int(records[0]["seq"])
    last = _entry(clean_graph, scope, head)
    tamper(clean_graph, "MATCH (x:LedgerEntry {scope: $s, seq: $q}) DETACH DELETE x", s=scope, q=head)
    tamper(
        clean_graph,
        "MATCH (l:Ledger {scope: $s}) SET l.seq = $q, l.head = $h",
        s=scope,
        q=head - 1,
        h=last["prevHash"],
    )
    report = verify(recorded, cp)
    assert report["valid"] is False
    assert {
        "chain": f"ledger:{scope}",
        "modelId": None,
        "seq": head,
        "eventId": None,
        "problem": f"the chain was truncated: {head - 1} records now, {head} at the checkpoint",
    } in report["breaks"]


def test_an_edited_checkpoint_is_refused_by_its_signature(recorded: GraphQL) -> None:
    cp = json.loads(checkpoint(recorded))
    edits: list[Callable[[dict[str, Any]], None]] = [
        lambda c: c["heads"][0].update(seq=c["heads"][0]["seq"] - 1),
        lambda c: c["heads"][-1].update(hash="0" * 64),
        lambda c: c["heads"].pop(),
        lambda c: c.update(takenAt="2026-01-01T00:00:00+00:00"),
    ]
    for edit in edits:
        forged = json.loads(json.dumps(cp))
        edit(forged)
        report = verify(recorded, json.dumps(forged))
        assert report["valid"] is False
        assert [(b["chain"], "signature" in b["problem"]) for b in report["breaks"]] == [("checkpoint", True)]


@pytest.mark.parametrize(
    "malformed",
    [
        "not json",
        "",
        "[]",
        "{}",
        '{"format": "provgraph-checkpoint/1"}',
        '{"format": "provgraph-checkpoint/2", "takenAt": "2026-01-01T00:00:00Z", "keyId": "k", "signature": "s", "heads": []}',
        '{"format": "provgraph-checkpoint/1", "takenAt": "yesterday", "keyId": "k", "signature": "s", "heads": []}',
        '{"format": "provgraph-checkpoint/1", "takenAt": "2026-01-01T00:00:00Z", "keyId": "k", "signature": "s", "heads": [{"chain": "x"}]}',
        '{"format": "provgraph-checkpoint/1", "takenAt": "2026-01-01T00:00:00Z", "keyId": "k", "signature": "s", "heads": 5}',
        '{"format": "provgraph-checkpoint/1", "takenAt": "2026-01-01T00:00:00", "keyId": "k", "signature": "s", "heads": []}',
        '{"format": "provgraph-checkpoint/1", "takenAt": "2026-01-01T00:00:00Z", "keyId": "k", "signature": "s", "heads": [{"chain": "x", "seq": 1e999, "hash": null}]}',
        '{"format": "provgraph-checkpoint/1", "takenAt": "2026-01-01T00:00:00Z", "keyId": "k", "signature": "s", "heads": [{"chain": "x", "seq": NaN, "hash": null}]}',
    ],
)
def test_a_malformed_checkpoint_is_an_invalid_argument(recorded: GraphQL, malformed: str) -> None:
    failure = error(recorded(VERIFY, {"cp": malformed, "m": None}))
    assert (failure["extensions"]["code"], failure["extensions"].get("field")) == (
        "INVALID_ARGUMENT",
        "against",
    )
