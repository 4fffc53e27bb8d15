"""The OpenLineage mapping's pure rules: names, versions, kinds, and the schema check."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from provgraph.domain.ids import NAME_PATTERN
from provgraph.domain.runs import RunKind, RunStatus
from provgraph.service.openlineage.mapping import event_id, name_of, run_plan
from provgraph.service.openlineage.schemas import event_problems

RUN_ID = str(uuid.uuid4())
P = "https://github.com/example/pipelines"  # _producer and _schemaURL are URIs in the spec
S = "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"

EVENT: dict[str, Any] = {
    "eventType": "COMPLETE",
    "eventTime": "2026-03-02T06:05:00+00:00",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {
        "runId": RUN_ID,
        "facets": {
            "nominalTime": {"_producer": P, "_schemaURL": S, "nominalStartTime": "2026-03-02T06:00:00+00:00"},
            "executionParameters": {"_producer": P, "_schemaURL": S, "parameters": [{"key": "lr rate", "value": "0.1"}]},
        },
    },
    "job": {"namespace": "airflow://x", "name": "dag.train", "facets": {}},
    "inputs": [{"namespace": "s3://lake", "name": "clean/orders"}],
    "outputs": [
        {
            "namespace": "mlflow://r",
            "name": "churn",
            "facets": {
                "datasetType": {"_producer": P, "_schemaURL": S, "datasetType": "MODEL"},
                "version": {"_producer": P, "_schemaURL": S, "datasetVersion": "3"},
            },
        }
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    "parts",
    [("s3://lake", "raw/orders"), ("postgres://db:5432", "public.orders"), ("a" * 300,), ("---",), ("ok",)],
)
def test_names_fit_the_rule_and_stay_distinct(parts: tuple[str, ...]) -> None:
    named = name_of(*parts)
    assert NAME_PATTERN.fullmatch(named)
    assert name_of(*parts) == named  # deterministic
    assert name_of(*parts[:-1], parts[-1] + "x") != named


def test_a_clean_name_is_kept_as_it_is() -> None:
    assert name_of("lake", "raw/orders.v2") == "lake/raw/orders.v2"


def test_a_run_plan_reads_the_facets() -> None:
    plan = run_plan(EVENT)
    assert plan.run_key == "ol-" + RUN_ID
    assert plan.status is RunStatus.FINISHED
    assert plan.kind is RunKind.TRAIN  # no job type, but it outputs a MODEL
    assert (
        plan.started_hint.isoformat() == "2026-03-02T06:00:00+00:00"
    )  # the nominal start, not the event time
    assert plan.params == {"lr-rate": "0.1"}
    assert plan.outputs[0].is_model and plan.outputs[0].version == "3"
    assert plan.inputs[0].version is None  # resolved to the latest recorded version when applied


@pytest.mark.parametrize(
    ("job_type", "kind"),
    [
        ("TRAIN", RunKind.TRAIN),
        ("training", RunKind.TRAIN),
        ("EVALUATION", RunKind.EVAL),
        ("fine-tune", RunKind.FINETUNE),
        ("QUERY", RunKind.TRAIN),
    ],
)
def test_the_kind_comes_from_the_job_type(job_type: str, kind: RunKind) -> None:
    event = copy.deepcopy(EVENT)
    event["job"]["facets"] = {
        "jobType": {
            "_producer": P,
            "_schemaURL": S,
            "processingType": "BATCH",
            "integration": "X",
            "jobType": job_type,
        }
    }
    assert run_plan(event).kind is kind


def test_an_output_without_a_version_gets_one_per_run() -> None:
    event = copy.deepcopy(EVENT)
    del event["outputs"][0]["facets"]["version"]
    first = run_plan(event).outputs[0].version
    event["run"]["runId"] = str(uuid.uuid4())
    assert first and first != run_plan(event).outputs[0].version


def test_an_event_id_is_a_digest_of_its_content() -> None:
    assert event_id(EVENT) == event_id(copy.deepcopy(EVENT))
    changed = copy.deepcopy(EVENT)
    changed["eventType"] = "FAIL"
    assert event_id(changed) != event_id(EVENT)


def test_the_spec_schemas_accept_a_valid_event_and_name_what_is_wrong() -> None:
    assert event_problems(EVENT) == []
    bad = copy.deepcopy(EVENT)
    bad["outputs"][0]["facets"]["datasetType"] = {"_producer": P, "_schemaURL": S}
    assert any("datasetType" in p and "required" in p for p in event_problems(bad))


def test_a_producer_that_is_not_a_uri_is_named() -> None:
    # Formats are checked whatever else is installed (jsonschema's format-nongpl extra is a dependency).
    bad = copy.deepcopy(EVENT)
    bad["outputs"][0]["facets"]["version"]["_producer"] = "not a uri"
    assert any("version" in p and "not a uri" in p for p in event_problems(bad))
    custom = copy.deepcopy(EVENT)
    custom["run"]["facets"]["myCompany_costs"] = {"_producer": P, "_schemaURL": S, "dollars": 3}
    assert event_problems(custom) == []  # custom facets are allowed and kept
