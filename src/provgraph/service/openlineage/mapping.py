"""How an OpenLineage event maps onto the provenance graph (pure functions; the service applies the plan).

| OpenLineage | provgraph |
|---|---|
| job (namespace, name) + run.runId | Run `run:ol-<runId>`, in the experiment named after the job |
| eventType START / RUNNING / COMPLETE / FAIL, ABORT / OTHER | status RUNNING / RUNNING / FINISHED / FAILED / unchanged |
| job facet `jobType.jobType` (TRAIN…, EVAL…, FINETUNE…) | the run's kind; otherwise TRAIN when it outputs a MODEL dataset, else PREPROCESS |
| job facet `sourceCodeLocation` (repoUrl or url, version, path) | the run's code (repo, commit, entrypoint) |
| run facet `executionParameters` | the run's params |
| run facet `parent` | the run's parent run |
| run facet `errorMessage` of a FAIL event | the run's error (its message) |
| input / output dataset (namespace, name) | Dataset named `<namespace>/<name>` (characters outside the name rule become `-`) |
| dataset facet `datasetVersion` | the DatasetVersion's version; without it, an output's version is a digest of its schema, namespace, name and the run id, and an input is the dataset's latest recorded version (else a digest of schema, namespace, name and eventTime) |
| dataset facet `dataSource` (name, uri) | Source (kind `datasource`), linked FROM_SOURCE |
| outputs of a COMPLETE event | DatasetVersions GENERATED_BY the run |
| dataset facet `datasetType: MODEL` | Model + ModelVersion trained by the run (an input MODEL is the version fine-tuned from) |
| every other facet, column lineage included | kept verbatim with the event, readable as JSON (`Run.openLineageFacets`, `DatasetVersion.openLineageFacets`) |
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from provgraph.domain.catalog import SourceSpec
from provgraph.domain.ids import NAME_PATTERN
from provgraph.domain.runs import Code, RunKind, RunStatus
from provgraph.domain.time import parse_timestamp

_OUTSIDE_NAME = re.compile(r"[^A-Za-z0-9._\-/+]+")
MAX_NAME = 128


def name_of(*parts: str) -> str:
    """A provgraph name for an OpenLineage name: deterministic, within the name rule, distinct for distinct
    inputs (long or rewritten names keep a digest of the original)."""
    original = "/".join(parts)
    cleaned = _OUTSIDE_NAME.sub("-", original).strip("-/.+") or "unnamed"
    if not cleaned[0].isalnum():
        cleaned = "x" + cleaned
    if cleaned == original and len(cleaned) <= MAX_NAME:
        return cleaned
    digest = hashlib.sha256(original.encode()).hexdigest()[:12]
    head = cleaned[: MAX_NAME - len(digest) - 1].rstrip("-/.+")
    named = f"{head}-{digest}"
    assert NAME_PATTERN.fullmatch(named), named
    return named


def _digest(*parts: object) -> str:
    return "ol-" + hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DatasetRef:
    """One dataset an event names, as provgraph will record it."""

    namespace: str
    name: str
    dataset: str  # the provgraph dataset name
    version: str | None  # None: an input without a version facet (resolved to the latest recorded one)
    fallback_version: str  # the version to record when an input has no recorded version yet
    source: SourceSpec | None
    is_model: bool
    schema: str | None  # the schema facet's fields, as JSON text


@dataclass(frozen=True)
class RunPlan:
    """What one RunEvent says about its run."""

    run_key: str
    event_type: str
    event_time: datetime
    started_hint: datetime  # when the run started, as far as this event tells
    experiment: str
    kind: RunKind
    status: RunStatus | None  # None: the event does not change the status (OTHER)
    code: Code
    params: dict[str, str]
    parent_run_key: str | None
    inputs: tuple[DatasetRef, ...]
    outputs: tuple[DatasetRef, ...]
    error: str | None = None  # a FAIL event's `errorMessage` facet, as the run's error


_STATUS = {
    "START": RunStatus.RUNNING,
    "RUNNING": RunStatus.RUNNING,
    "COMPLETE": RunStatus.FINISHED,
    "FAIL": RunStatus.FAILED,
    "ABORT": RunStatus.FAILED,
}


def facet(facets: Any, key: str) -> dict[str, Any]:
    value = (facets or {}).get(key) if isinstance(facets, dict) else None
    return value if isinstance(value, dict) else {}


def dataset_ref(raw: dict[str, Any], event_time: datetime, run_id: str | None, output: bool) -> DatasetRef:
    namespace, name = str(raw["namespace"]), str(raw["name"])
    facets = raw.get("facets") or {}
    schema_facet = facet(facets, "schema")
    schema = (
        json.dumps(schema_facet.get("fields"), sort_keys=True)
        if schema_facet.get("fields") is not None
        else None
    )
    declared = facet(facets, "version").get("datasetVersion") or facet(facets, "datasetVersion").get(
        "datasetVersion"
    )
    version = name_of(str(declared)) if declared else None
    if version is None and output:
        version = _digest(schema, namespace, name, run_id)
    source_facet = facet(facets, "dataSource")
    source = None
    if source_facet.get("name") or source_facet.get("uri"):
        source_name = str(source_facet.get("name") or source_facet.get("uri"))
        source = SourceSpec(name=name_of(source_name), kind="datasource", uri=source_facet.get("uri"))
    dataset_type = str(facet(facets, "datasetType").get("datasetType") or "").upper()
    return DatasetRef(
        namespace=namespace,
        name=name,
        dataset=name_of(namespace, name),
        version=version,
        fallback_version=_digest(schema, namespace, name, event_time.isoformat()),
        source=source,
        is_model=dataset_type == "MODEL",
        schema=schema,
    )


def run_plan(event: dict[str, Any]) -> RunPlan:
    """The plan of a RunEvent (validated against the spec beforehand)."""
    run, job = event["run"], event["job"]
    run_id = str(run["runId"])
    event_time = parse_timestamp(str(event["eventTime"]), "eventTime")
    nominal = facet(run.get("facets"), "nominalTime").get("nominalStartTime")
    started_hint = event_time
    if event["eventType"] != "START" and nominal:
        started_hint = min(event_time, parse_timestamp(str(nominal), "nominalStartTime"))
    inputs = tuple(dataset_ref(d, event_time, run_id, output=False) for d in event.get("inputs") or [])
    outputs = tuple(dataset_ref(d, event_time, run_id, output=True) for d in event.get("outputs") or [])
    code_facet = facet(job.get("facets"), "sourceCodeLocation")
    code = Code(
        repo=code_facet.get("repoUrl") or code_facet.get("url"),
        commit=code_facet.get("version") or code_facet.get("tag"),
        entrypoint=code_facet.get("path"),
    )
    params = {
        _param_key(p["key"]): str(p.get("value", ""))
        for p in facet(run.get("facets"), "executionParameters").get("parameters") or []
        if isinstance(p, dict) and p.get("key")
    }
    parent = facet(run.get("facets"), "parent").get("run") or {}
    message = facet(run.get("facets"), "errorMessage").get("message")
    return RunPlan(
        run_key="ol-" + run_id,
        event_type=str(event["eventType"]),
        event_time=event_time,
        started_hint=started_hint,
        experiment=name_of(str(job["namespace"]), str(job["name"])),
        kind=_kind(facet(job.get("facets"), "jobType").get("jobType"), outputs),
        status=_STATUS.get(str(event.get("eventType"))),
        code=code,
        params=params,
        parent_run_key="ol-" + str(parent["runId"]) if parent.get("runId") else None,
        inputs=inputs,
        outputs=outputs,
        error=_error_text(message) if _STATUS.get(str(event.get("eventType"))) is RunStatus.FAILED else None,
    )


def _error_text(message: object) -> str | None:
    """The facet's message as a run's error: control characters (other than line breaks and tabs) become
    spaces and it is cut to the API's limit, so a long stack-trace-like message never refuses the event."""
    if not isinstance(message, str) or not message.strip():
        return None
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", " ", message)[:4096]


def _kind(job_type: object, outputs: tuple[DatasetRef, ...]) -> RunKind:
    text = str(job_type or "").upper().replace("-", "_")
    if text.startswith(("FINETUNE", "FINE_TUNE")):
        return RunKind.FINETUNE
    if text.startswith("TRAIN"):
        return RunKind.TRAIN
    if text.startswith("EVAL"):
        return RunKind.EVAL
    return RunKind.TRAIN if any(o.is_model for o in outputs) else RunKind.PREPROCESS


def _param_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-/]+", "-", key)[:128] or "parameter"


def parse_time(text: str) -> datetime:
    """An event's time, which must carry a zone (the spec requires ISO-8601 with an offset)."""
    return parse_timestamp(text, "eventTime")


def event_id(event: Any) -> str:
    """An event's identity: a digest of its canonical JSON (the same event sent twice is one event)."""
    return (
        "olevent:"
        + hashlib.sha256(json.dumps(event, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    )


def event_kind(event: dict[str, Any]) -> str:
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    return "JobEvent"
