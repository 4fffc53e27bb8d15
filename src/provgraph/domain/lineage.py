"""Provenance answers: subgraphs, explanation paths, traces, impact reports, consumers, comparisons.

Edges point from the derived thing to what it came from (PROV's direction): upstream follows them,
downstream walks them backwards. Provenance is transitive through every edge kind in `PROVENANCE_EDGES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.registry import Model, ModelVersion, Stage
from provgraph.domain.runs import Experiment, Run
from provgraph.domain.serving import Deployment, Endpoint, Inference

Entity = (
    Source
    | Dataset
    | DatasetVersion
    | Slice
    | Experiment
    | Run
    | Model
    | ModelVersion
    | Endpoint
    | Deployment
    | Inference
)


class Direction(Enum):
    UPSTREAM = "UPSTREAM"  # towards origins: data, sources, base models
    DOWNSTREAM = "DOWNSTREAM"  # towards what was derived: runs, models, deployments, inferences
    BOTH = "BOTH"


# Edges that carry provenance: a thing derived through any chain of these used what is at the end.
PROVENANCE_EDGES = ("GENERATED_BY", "USED", "DERIVED_FROM", "SUBSET_OF", "FROM_SOURCE", "FINE_TUNED_FROM")
# The rest of the graph a lineage view may walk: containers, deployments, inferences.
CONTEXT_EDGES = ("VERSION_OF", "PART_OF", "OF", "ON", "SERVED_BY", "PREDICTED_WITH")


@dataclass(frozen=True)
class Edge:
    type: str
    from_id: str
    to_id: str
    role: str | None = None
    transform: str | None = None
    # When the relation took effect (the derived thing's own time: a run's start, a version's creation)
    # and when the service recorded it; None only for edges a view adds (a trace's hops to the inference).
    valid_from: datetime | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class LineageQuery:
    node_id: str
    direction: Direction
    max_depth: int
    kinds: tuple[str, ...] | None  # node labels to return; None: all
    as_of: datetime | None
    first: int
    after: str | None
    known_at: datetime  # transaction time: answer as the service knew it then


@dataclass(frozen=True)
class LineagePage:
    nodes: list[Entity]
    edges: list[Edge]
    total: int
    has_next: bool
    end_cursor: str | None
    is_partial: bool  # a depth or size limit cut the subgraph


@dataclass(frozen=True)
class ProvenancePath:
    """One chain of edges from a model version to a source: why the version used that source."""

    node_ids: tuple[str, ...]
    edge_types: tuple[str, ...]


@dataclass(frozen=True)
class SourceUse:
    model_version: ModelVersion
    stage: Stage  # at the time asked about
    deployments: list[Deployment]  # live at the time asked about
    paths: list[ProvenancePath]


@dataclass(frozen=True)
class SourceUsePage:
    items: list[SourceUse]
    total: int
    has_next: bool
    end_cursor: str | None


@dataclass(frozen=True)
class Trace:
    """An inference back to everything it came from. The upstream nodes are given by id (sorted), so a
    trace over a large fan-out is read a page at a time."""

    inference: Inference
    deployment: Deployment | None
    model_version: ModelVersion
    fine_tune_chain: list[str]  # the versions it was fine-tuned from, nearest first
    upstream_ids: list[str]
    edges: list[Edge]


@dataclass(frozen=True)
class VersionAt:
    """A model version as it was at a time: its stage and the deployments live then."""

    model_version: ModelVersion
    stage: Stage
    live_deployments: list[Deployment]


@dataclass(frozen=True)
class ImpactReport:
    """Everything derived from a source as of a time. The affected nodes are given by id (sorted by id);
    their pages are loaded as they are asked for."""

    source: Source
    as_of: datetime
    known_at: datetime
    dataset_version_ids: list[str]
    slice_ids: list[str]
    run_ids: list[str]
    model_version_ids: list[str]
    inference_counts: dict[str, int]  # per affected model version, up to as_of
    first_used_at: datetime | None
    inferences: int
    is_partial: bool


@dataclass(frozen=True)
class Consumers:
    """Everything downstream of a dataset version or slice, by id (sorted)."""

    run_ids: list[str]
    direct_run_ids: frozenset[str]  # runs that used the data itself, not something derived from it
    model_version_ids: list[str]
    deployment_ids: list[str]
    endpoint_ids: list[str]


@dataclass(frozen=True)
class ValueChange:
    key: str
    this: str | None
    other: str | None


@dataclass(frozen=True)
class Comparison:
    """How two model versions differ in what made them."""

    other_id: str
    data_only_here: list[str]
    data_only_there: list[str]
    data_in_both: list[str]
    params: list[ValueChange]
    metrics: list[ValueChange]
    code: list[ValueChange]
    environment: list[ValueChange]
