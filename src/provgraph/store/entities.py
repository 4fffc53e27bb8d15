"""Any projected node back to its domain entity, by the `label` every projection carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provgraph.domain.lineage import Edge, Entity
from provgraph.store.catalog import dataset_from, dataset_version_from, slice_from, source_from
from provgraph.store.registry import model_from, model_version_from
from provgraph.store.runs import experiment_from, run_from
from provgraph.store.serving import deployment_from, endpoint_from, inference_from
from provgraph.store.values import opt_datetime

_BY_LABEL: dict[str, Callable[[Mapping[str, Any]], Entity]] = {
    "Source": source_from,
    "Dataset": dataset_from,
    "DatasetVersion": dataset_version_from,
    "Slice": slice_from,
    "Experiment": experiment_from,
    "Run": run_from,
    "Model": model_from,
    "ModelVersion": model_version_from,
    "Endpoint": endpoint_from,
    "Deployment": deployment_from,
    "Inference": inference_from,
}


def entity_from(props: Mapping[str, Any]) -> Entity:
    return _BY_LABEL[props["label"]](props)


def edge_from(props: Mapping[str, Any]) -> Edge:
    return Edge(
        type=props["type"],
        from_id=props["fromId"],
        to_id=props["toId"],
        role=props.get("role"),
        transform=props.get("transform"),
        valid_from=opt_datetime(props.get("validFrom")),
        recorded_at=opt_datetime(props.get("recordedAt")),
    )
