"""Provgraph's nodes as PROV elements: their names (ids under a URN) and their attributes, each node as it
stood at the time a document describes. `prov_mapping.py` puts them together with the relations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from prov.constants import PROV
from prov.identifier import Namespace, QualifiedName

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.lineage import Entity
from provgraph.domain.registry import Model, ModelVersion, Stage
from provgraph.domain.runs import Experiment, Run, RunStatus
from provgraph.domain.serving import Deployment, Endpoint, Inference

# Node ids are provgraph's own (`modelVersion:sentiment:2`) under a URN: a name, not a locator (provgraph
# owns no domain to mint http IRIs under). The vocabulary (types, attributes, roles) has its own prefix.
PG = Namespace("pg", "urn:provgraph:")
PGV = Namespace("pgv", "urn:provgraph:vocab:")
MLS = Namespace("mls", "http://www.w3.org/ns/mls#")  # W3C ML Schema: mls:Run, mls:Model, mls:Dataset

Attributes = list[tuple[QualifiedName, Any]]


def node_name(node_id: str) -> QualifiedName:
    return PG[node_id]


def agent_name(principal: str) -> QualifiedName:
    # A principal is a token's name, any line of text: escaped so it is a valid local name and IRI.
    return PG["agent:" + quote(principal, safe="")]


def as_of(node: Entity, at: datetime) -> Entity:
    """A node as it stood at `at`: a run or deployment that ended later was still going, and a source
    excluded later was not excluded yet (the graph's nodes carry what is known now of their ends)."""
    if isinstance(node, Source) and node.excluded_at is not None and node.excluded_at > at:
        return replace(node, excluded_at=None, exclusion_reason=None, exclusion_recorded_at=None)
    if isinstance(node, Deployment) and node.ended_at is not None and node.ended_at > at:
        return replace(node, ended_at=None, end_reason=None, end_recorded_at=None)
    if isinstance(node, Run) and node.ended_at is not None and node.ended_at > at:
        metrics = {k: v for k, v in node.metrics.items() if k not in node.completion_metrics}
        return replace(
            node,
            status=RunStatus.RUNNING,
            ended_at=None,
            metrics=metrics,
            completed_at=None,
            completion_metrics=(),
            error=None,
        )
    return node


def present(*pairs: tuple[QualifiedName, Any]) -> Attributes:
    """The attributes that have a value: what the graph does not hold is left out, never made up."""
    return [(k, v) for k, v in pairs if v is not None and v != ""]


def _json(values: Mapping[str, object]) -> str | None:
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":")) if values else None


def _many(name: QualifiedName, values: Iterable[str]) -> Attributes:
    return [(name, v) for v in sorted(set(values))]


def source_attributes(s: Source) -> Attributes:
    return present(
        (PROV["type"], PGV["Source"]),
        (PGV["name"], s.name),
        (PGV["kind"], s.kind),
        (PGV["uri"], s.uri),
        (PGV["owner"], s.owner),
        (PGV["license"], s.license),
        (PGV["description"], s.description),
        (PGV["excludedAt"], s.excluded_at),
        (PGV["exclusionReason"], s.exclusion_reason),
        (PGV["exclusionRecordedAt"], s.exclusion_recorded_at),
    )


def dataset_version_attributes(d: DatasetVersion) -> Attributes:
    return present(
        (PROV["type"], PGV["DatasetVersion"]),
        (PROV["type"], MLS["Dataset"]),
        (PGV["version"], d.version),
        (PGV["digest"], d.digest),
        (PGV["uri"], d.uri),
        (PGV["rowCount"], d.row_count),
        (PGV["schema"], d.schema),
        (PGV["createdAt"], d.created_at),
    )


def slice_attributes(s: Slice) -> Attributes:
    return present(
        (PROV["type"], PGV["Slice"]),
        (PROV["type"], MLS["Dataset"]),
        (PGV["name"], s.name),
        (PGV["predicate"], s.predicate),
        (PGV["rowCount"], s.row_count),
        (PGV["digest"], s.digest),
        (PGV["createdAt"], s.created_at),
    )


def model_version_attributes(
    m: ModelVersion, stage: Stage | None, aliases: tuple[str, ...], inferences: int | None
) -> Attributes:
    # A node's stored stage is today's; only the subject of a whole-provenance answer states one, as of asOf.
    return (
        present(
            (PROV["type"], PGV["ModelVersion"]),
            (PROV["type"], MLS["Model"]),
            (PGV["version"], m.version),
            (PGV["artifactUri"], m.artifact_uri),
            (PGV["framework"], m.framework),
            (PGV["sizeBytes"], m.size_bytes),
            (PGV["metrics"], _json(m.metrics)),
            (PGV["description"], m.description),
            (PGV["createdAt"], m.created_at),
            (PGV["stage"], stage.value if stage else None),
            (PGV["inferenceCount"], inferences),
        )
        + _many(PGV["tag"], m.tags)
        + (_many(PGV["alias"], aliases) if stage else [])
    )


def run_attributes(r: Run) -> Attributes:
    code, env = r.code, r.environment
    return present(
        (PROV["type"], PGV["Run"]),
        (PROV["type"], MLS["Run"]),
        (PGV["key"], r.key),
        (PGV["kind"], r.kind.value),
        (PGV["status"], r.status.value),
        (PGV["params"], _json(r.params)),
        (PGV["metrics"], _json(r.metrics)),
        (PGV["codeRepo"], code.repo),
        (PGV["codeCommit"], code.commit),
        (PGV["codeEntrypoint"], code.entrypoint),
        (PGV["codeDirty"], code.dirty),
        (PGV["imageDigest"], env.image_digest),
        (PGV["python"], env.python),
        (PGV["framework"], env.framework),
        (PGV["frameworkVersion"], env.framework_version),
        (PGV["experiment"], node_name(r.experiment_id) if r.experiment_id else None),
        (PGV["parentRun"], node_name(r.parent) if r.parent else None),
        (PGV["error"], r.error),
        (PGV["completionRecordedAt"], r.completed_at),
    ) + _many(PGV["package"], env.packages)


def deployment_attributes(d: Deployment, inferences: int | None) -> Attributes:
    return present(
        (PROV["type"], PGV["Deployment"]),
        (PGV["trafficShare"], d.traffic_share),
        (PGV["reason"], d.reason),
        (PGV["endReason"], d.end_reason),
        (PGV["endRecordedAt"], d.end_recorded_at),
        (PGV["inferenceCount"], inferences),
    )


def endpoint_attributes(e: Endpoint) -> Attributes:
    return present(
        (PROV["type"], PGV["Endpoint"]),
        (PROV["type"], PROV["SoftwareAgent"]),
        (PGV["name"], e.name),
        (PGV["environment"], e.environment),
        (PGV["description"], e.description),
    )


def inference_attributes(i: Inference) -> Attributes:
    return present(
        (PROV["type"], PGV["Inference"]),
        (PGV["at"], i.at),
        (PGV["inputDigest"], i.input_digest),
        (PGV["outputDigest"], i.output_digest),
        (PGV["latencyMs"], i.latency_ms),
    )


def named_attributes(node: Dataset | Model | Experiment) -> Attributes:
    """Datasets, models and experiments: the named things versions and runs belong to."""
    return present(
        (PROV["type"], PGV[type(node).__name__]),
        (PGV["name"], node.name),
        (PGV["description"], node.description),
        (PGV["owner"], getattr(node, "owner", None)),
    )
