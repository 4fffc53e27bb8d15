"""OpenLineage in: the real openlineage-python client (HTTP transport, with a bearer token) emits an
Airflow-like DAG run — extract → clean → train, the train task writing a MODEL dataset — to
`/api/v1/lineage`, and provgraph answers provenance questions across it."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from neo4j import Driver
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    dataset_type_dataset,
    dataset_version_dataset,
    datasource_dataset,
    error_message_run,
    execution_parameters_run,
    job_type_job,
    parent_run,
    schema_dataset,
    source_code_location_job,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from conftest import Tokens
from e2e.conftest import ApiServer

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/2.6.0"
NS = "airflow://scheduler"
DAG_RUN = str(uuid.uuid4())


def client_for(server: ApiServer, token: str) -> OpenLineageClient:
    config = HttpConfig(url=server.base, auth=ApiKeyTokenProvider({"api_key": token}), timeout=10)
    return OpenLineageClient(transport=HttpTransport(config))


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def source(name: str, uri: str) -> dict[str, Any]:
    return {"dataSource": datasource_dataset.DatasourceDatasetFacet(name=name, uri=uri)}


ORDERS = InputDataset(
    namespace="postgres://shop-db:5432",
    name="public.orders",
    facets={
        **source("shop-db", "postgres://shop-db:5432"),
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="int")]
        ),
    },
)
RAW = "s3://lake", "raw/orders"
CLEAN = "s3://lake", "clean/orders"
MODEL = "mlflow://registry", "churn-model"


def task(name: str, job_type: str = "TASK") -> Job:
    return Job(
        namespace=NS,
        name=f"shop_dag.{name}",
        facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="AIRFLOW", jobType=job_type
            ),
            "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet(
                type="git", url="https://git.example.com/shop/dags", repoUrl="git@git.example.com:shop/dags.git",
                path=f"dags/shop_dag.py:{name}", version="4f2c9e1",
            ),
        },
    )  # fmt: skip


def run_events(
    name: str, start: int, inputs: list[InputDataset], outputs: list[OutputDataset], **kw: Any
) -> list[RunEvent]:
    run_id = str(uuid.uuid4())
    facets: dict[str, Any] = {
        "parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=DAG_RUN), job=parent_run.Job(namespace=NS, name="shop_dag")
        ),
        "executionParameters": execution_parameters_run.ExecutionParametersRunFacet(
            parameters=[execution_parameters_run.ExecutionParameter(key="retries", value="2")]
        ),
    }
    job = task(name, kw.get("job_type", "TASK"))
    start_event = RunEvent(
        eventType=RunState.START,
        eventTime=at(start),
        run=Run(runId=run_id, facets=facets),
        job=job,
        producer=PRODUCER,
        inputs=inputs,
    )
    complete_event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=at(start + 5),
        run=Run(runId=run_id),
        job=job,
        producer=PRODUCER,
        inputs=inputs,
        outputs=outputs,
    )
    return [start_event, complete_event]


def dag() -> list[RunEvent]:
    raw = OutputDataset(
        *RAW, facets={"version": dataset_version_dataset.DatasetVersionDatasetFacet("2026-03-02")}
    )
    clean_out = OutputDataset(
        *CLEAN,
        facets={
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="2026-03-02"),
            "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(
                fields={
                    "id": column_lineage_dataset.Fields(
                        inputFields=[
                            column_lineage_dataset.InputField(namespace=RAW[0], name=RAW[1], field="id")
                        ]
                    )
                }
            ),
        },
    )
    model_out = OutputDataset(
        namespace=MODEL[0],
        name=MODEL[1],
        facets={
            "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(datasetType="MODEL"),
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="3"),
        },
    )
    return (
        run_events("extract", 0, [ORDERS], [raw])
        + run_events("clean", 10, [InputDataset(namespace=RAW[0], name=RAW[1])], [clean_out])
        + run_events(
            "train", 20, [InputDataset(namespace=CLEAN[0], name=CLEAN[1])], [model_out], job_type="TRAIN"
        )
    )


def gql(server: ApiServer, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = httpx.post(
        server.url,
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def counts(driver: Driver) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "RETURN COUNT { MATCH (n) WHERE NOT n:IdempotencyKey } AS n, COUNT { ()-[r]->() } AS r",
        database_="neo4j",
    )
    return records[0]["n"], records[0]["r"]


@pytest.fixture
def ingested(api_server: ApiServer, tokens: Tokens) -> ApiServer:
    client = client_for(api_server, tokens.writer)
    for event in dag():
        client.emit(event)
    return api_server


def test_a_dag_run_becomes_answerable_provenance(ingested: ApiServer, tokens: Tokens) -> None:
    uses = gql(
        ingested,
        tokens.reader,
        '{ modelsUsingSource(sourceId: "source:shop-db") { totalCount items { modelVersion { id artifactUri trainedBy { kind key } } '
        "paths { nodeIds edgeTypes } } } }",
    )["modelsUsingSource"]
    assert uses["totalCount"] == 1
    item = uses["items"][0]
    assert item["modelVersion"]["artifactUri"] == "mlflow://registry/churn-model@3"
    assert item["modelVersion"]["trainedBy"]["kind"] == "TRAIN"
    path = item["paths"][0]
    assert path["edgeTypes"] == [
        "GENERATED_BY",
        "USED",
        "GENERATED_BY",
        "USED",
        "GENERATED_BY",
        "USED",
        "FROM_SOURCE",
    ]
    assert path["nodeIds"][-1] == "source:shop-db"


def test_runs_carry_code_params_parent_status_and_facets(ingested: ApiServer, tokens: Tokens) -> None:
    runs = gql(
        ingested,
        tokens.reader,
        "{ runs(first: 10) { nodes { key kind status startedAt endedAt experimentId parentRunId "
        "params { key value } code { repo commit entrypoint } inputs { id } outputIds openLineageFacets } } }",
    )["runs"]["nodes"]
    assert len(runs) == 3
    by_experiment = {r["experimentId"]: r for r in runs}
    clean = by_experiment[
        "experiment:airflow-//scheduler/shop_dag.clean-" + by_experiment_suffix(by_experiment, "clean")
    ]
    assert clean["status"] == "FINISHED"
    assert (clean["startedAt"], clean["endedAt"]) == (at(10), at(15))
    assert clean["parentRunId"] == f"run:ol-{DAG_RUN}"
    assert clean["params"] == [{"key": "retries", "value": "2"}]
    assert clean["code"] == {
        "repo": "git@git.example.com:shop/dags.git",
        "commit": "4f2c9e1",
        "entrypoint": "dags/shop_dag.py:clean",
    }
    assert clean["inputs"] == [
        {"id": "datasetVersion:s3-//lake/raw/orders-" + dataset_suffix(RAW) + ":2026-03-02"}
    ]
    facets = clean["openLineageFacets"]
    assert facets["job"]["jobType"]["integration"] == "AIRFLOW"  # stored verbatim
    assert facets["run"]["parent"]["run"]["runId"] == DAG_RUN
    versions = gql(
        ingested, tokens.reader, "query($id: ID!) { datasetVersion(id: $id) { generatedById openLineageFacets } }",
        {"id": clean["outputIds"][0]},
    )["datasetVersion"]  # fmt: skip
    assert versions["generatedById"] == "run:" + clean["key"]
    column = versions["openLineageFacets"]["dataset"]["columnLineage"]["fields"]["id"]["inputFields"][0]
    assert (column["name"], column["field"]) == ("raw/orders", "id")


def by_experiment_suffix(runs: dict[str, Any], task_name: str) -> str:
    matching = [k for k in runs if f"shop_dag.{task_name}-" in k]
    assert len(matching) == 1, runs.keys()
    return matching[0].rsplit("-", 1)[1]


def dataset_suffix(pair: tuple[str, str]) -> str:
    import hashlib

    return hashlib.sha256("/".join(pair).encode()).hexdigest()[:12]


def test_sending_the_same_events_again_changes_nothing(
    ingested: ApiServer, tokens: Tokens, driver: Driver
) -> None:
    before = counts(driver)
    # The same events again, as one batch: every one a duplicate.
    events = [json.loads(Serde.to_json(e)) for e in recorded_events(driver)]
    response = httpx.post(
        ingested.base + "/api/v1/lineage",
        json=events,
        headers={"authorization": f"Bearer {tokens.writer}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert (response.json()["recorded"], response.json()["duplicates"]) == (0, len(events))
    assert counts(driver) == before


def recorded_events(driver: Driver) -> list[Any]:
    records, _, _ = driver.execute_query(
        "MATCH (e:OpenLineageEvent) RETURN e.body AS body", database_="neo4j"
    )
    return [json.loads(r["body"]) for r in records]


def test_complete_before_start_gives_the_same_end_state(api_server: ApiServer, tokens: Tokens) -> None:
    start, complete = run_events(
        "late", 40, [ORDERS], [OutputDataset(namespace="s3://lake", name="late/out")]
    )
    body = [json.loads(Serde.to_json(complete)), json.loads(Serde.to_json(start))]
    headers = {"authorization": f"Bearer {tokens.writer}", "content-type": "application/x-ndjson"}
    ndjson = "\n".join(json.dumps(e) for e in body).encode()
    response = httpx.post(api_server.base + "/api/v1/lineage", content=ndjson, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    run = gql(
        api_server,
        tokens.reader,
        "query($id: ID!) { run(id: $id) { status startedAt endedAt inputs { id } outputIds } }",
        {"id": f"run:ol-{start.run.runId}"},
    )["run"]
    assert (run["status"], run["startedAt"], run["endedAt"]) == ("FINISHED", at(40), at(45))
    assert len(run["inputs"]) == 1 and len(run["outputIds"]) == 1
    audit = gql(api_server, tokens.reader, "{ verifyAuditChain { valid breaks { chain problem } } }")
    assert audit["verifyAuditChain"] == {"valid": True, "breaks": []}


def test_a_failed_task_keeps_its_error_message(api_server: ApiServer, tokens: Tokens) -> None:
    start, _ = run_events("flaky", 50, [ORDERS], [])
    message = "java.lang.OutOfMemoryError: Java heap space\n\tat org.apache.spark.Executor.run"
    facet = error_message_run.ErrorMessageRunFacet(message=message, programmingLanguage="JAVA")
    fail = RunEvent(
        eventType=RunState.FAIL,
        eventTime=at(52),
        run=Run(runId=start.run.runId, facets={"errorMessage": facet}),
        job=start.job,
        producer=PRODUCER,
    )
    client = client_for(api_server, tokens.writer)
    for event in (start, fail, fail):  # the same FAIL twice: a repeat
        client.emit(event)
    query = "query($id: ID!) { run(id: $id) { status endedAt error } }"
    run = gql(api_server, tokens.reader, query, {"id": f"run:ol-{start.run.runId}"})["run"]
    assert run == {"status": "FAILED", "endedAt": at(52), "error": message}


def test_a_gzip_batch_and_roles(api_server: ApiServer, tokens: Tokens) -> None:
    events = [json.loads(Serde.to_json(e)) for e in run_events("zipped", 60, [ORDERS], [])]
    compressed = gzip.compress(json.dumps(events).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    reader = httpx.post(
        api_server.base + "/api/v1/lineage/batch",
        content=compressed,
        headers={**headers, "authorization": f"Bearer {tokens.reader}"},
    )
    assert (reader.status_code, reader.json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    anonymous = httpx.post(api_server.base + "/api/v1/lineage", content=compressed, headers=headers)
    assert anonymous.status_code == 401
    writer = httpx.post(
        api_server.base + "/api/v1/lineage/batch",
        content=compressed,
        headers={**headers, "authorization": f"Bearer {tokens.writer}"},
    )
    assert writer.status_code == 201, writer.text
    assert writer.json()["recorded"] == 2


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e["run"].update(runId="not-a-uuid"), "is not a 'uuid'"),
        (lambda e: e.pop("producer"), "'producer' is a required property"),
        (lambda e: e.update(eventType="FINISHED"), "is not one of"),
        (lambda e: e["job"]["facets"]["jobType"].update(processingType=5), "is not of type 'string'"),
        (lambda e: e.update(eventTime="2026-03-02T06:00:00"), "is not a 'date-time'"),  # no zone
    ],
)
def test_an_invalid_event_refuses_the_whole_batch_with_the_schema_reasons(
    api_server: ApiServer, tokens: Tokens, driver: Driver, mutate: Any, reason: str
) -> None:
    good, bad = (json.loads(Serde.to_json(e)) for e in run_events("invalid", 80, [ORDERS], []))
    mutate(bad)
    before = counts(driver)
    response = httpx.post(
        api_server.base + "/api/v1/lineage",
        json=[good, bad],
        headers={"authorization": f"Bearer {tokens.writer}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("INVALID_ARGUMENT", "events")
    assert reason in error["message"] and "event 1" in error["message"]
    assert counts(driver) == before  # the valid event of the batch was not written either


def test_inputs_reported_later_are_added_and_the_evidence_holds(
    api_server: ApiServer, tokens: Tokens, driver: Driver
) -> None:
    start, complete = run_events("grows", 100, [ORDERS], [])
    extra = InputDataset(namespace="s3://lake", name="lookups/regions")
    running = RunEvent(
        eventType=RunState.RUNNING, eventTime=at(102), run=Run(runId=start.run.runId), job=start.job,
        producer=PRODUCER, inputs=[ORDERS, extra],
    )  # fmt: skip
    client = client_for(api_server, tokens.writer)
    for event in (start, running, complete):
        client.emit(event)
    run = gql(
        api_server, tokens.reader, "query($id: ID!) { run(id: $id) { status inputs { id } } }",
        {"id": f"run:ol-{start.run.runId}"},
    )["run"]  # fmt: skip
    assert run["status"] == "FINISHED" and len(run["inputs"]) == 2
    assert (
        gql(api_server, tokens.reader, "{ verifyAuditChain { valid } }")["verifyAuditChain"]["valid"] is True
    )
    # Editing a kept event's body is caught: the event's id is a digest of its body.
    driver.execute_query(
        "MATCH (e:OpenLineageEvent {eventType: 'RUNNING'}) SET e.body = replace(e.body, 'regions', 'countries')",
        database_="neo4j",
    )
    report = gql(api_server, tokens.reader, "{ verifyAuditChain { valid breaks { chain problem } } }")
    assert report["verifyAuditChain"]["valid"] is False
    assert any("body was altered" in b["problem"] for b in report["verifyAuditChain"]["breaks"])
