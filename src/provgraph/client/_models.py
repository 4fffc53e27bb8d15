"""Typed results the SDK returns, parsed from GraphQL responses by field name (camelCase → snake_case).
Enum fields hold `_enums` members (a value this SDK does not know yet stays a plain string)."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from provgraph.client._enums import (
    ExclusionDecisionKind,
    InputRole,
    RegistryEventKind,
    RunKind,
    RunStatus,
    Stage,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: str
    uri: str | None = None
    owner: str | None = None
    license: str | None = None
    excluded_at: datetime | None = None
    exclusion_reason: str | None = None


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class Derivation:
    from_id: str
    transform: str | None = None


@dataclass(frozen=True)
class DatasetVersion:
    id: str
    dataset_id: str
    version: str
    created_at: datetime
    digest: str | None = None
    uri: str | None = None
    row_count: int | None = None
    source_ids: list[str] = field(default_factory=list)
    derived_from: list[Derivation] = field(default_factory=list)
    generated_by_id: str | None = None


@dataclass(frozen=True)
class Slice:
    id: str
    dataset_version_id: str
    name: str
    created_at: datetime
    predicate: str | None = None
    row_count: int | None = None
    source_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str


@dataclass(frozen=True)
class RunInput:
    id: str
    role: InputRole


@dataclass(frozen=True)
class Code:
    """The code a run executed (None: not recorded)."""

    repo: str | None = None
    commit: str | None = None
    entrypoint: str | None = None
    dirty: bool | None = None


@dataclass(frozen=True)
class Environment:
    """Where a run executed (None: not recorded)."""

    image_digest: str | None = None
    python: str | None = None
    framework: str | None = None
    framework_version: str | None = None
    packages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """A run. `code` and `environment` are filled by `get_run` and the run registrations; the lists of
    runs in traces, reports and lineage leave them out (None)."""

    id: str
    key: str
    kind: RunKind
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None = None
    experiment_id: str | None = None
    parent_run_id: str | None = None
    error: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    inputs: list[RunInput] = field(default_factory=list)
    output_ids: list[str] = field(default_factory=list)
    code: Code | None = None
    environment: Environment | None = None


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class ModelVersion:
    id: str
    model_id: str
    version: int
    artifact_uri: str
    stage: Stage
    created_at: datetime
    aliases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    framework: str | None = None
    trained_by_id: str | None = None
    fine_tuned_from_id: str | None = None


@dataclass(frozen=True)
class RegistryEvent:
    id: str
    seq: int
    kind: RegistryEventKind
    model_version_id: str
    at: datetime
    actor: str
    reason: str | None = None
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    alias: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class Endpoint:
    id: str
    name: str
    environment: str


@dataclass(frozen=True)
class Deployment:
    id: str
    endpoint_id: str
    model_version_id: str
    started_at: datetime
    traffic_share: float
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Inference:
    id: str
    at: datetime
    model_version_id: str
    deployment_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    index: int
    key: str
    code: str
    reason: str
    field: str | None = None


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class ProvenancePath:
    node_ids: list[str]
    edge_types: list[str]


@dataclass(frozen=True)
class SourceUse:
    model_version: ModelVersion
    stage: Stage
    deployments: list[Deployment]
    paths: list[ProvenancePath]


@dataclass(frozen=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = None


@dataclass(frozen=True)
class SourceUses:
    items: list[SourceUse]
    total_count: int
    page_info: PageInfo


@dataclass(frozen=True)
class Edge:
    type: str
    from_id: str
    to_id: str
    role: str | None = None


@dataclass(frozen=True)
class Trace:
    inference: Inference
    model_version: ModelVersion
    deployment: Deployment | None
    fine_tune_chain: list[ModelVersion]
    runs: list[Run]
    dataset_versions: list[DatasetVersion]
    slices: list[Slice]
    sources: list[Source]
    edges: list[Edge]


@dataclass(frozen=True)
class AffectedModelVersion:
    model_version: ModelVersion
    stage: Stage
    live_deployments: list[Deployment]
    inferences: int


@dataclass(frozen=True)
class ImpactReport:
    source: Source
    as_of: datetime
    dataset_versions: list[DatasetVersion]
    slices: list[Slice]
    runs: list[Run]
    model_versions: list[AffectedModelVersion]
    inferences: int
    is_partial: bool
    first_used_at: datetime | None = None


Node = (
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


@dataclass(frozen=True)
class Lineage:
    nodes: list[Node]
    edges: list[Edge]
    total_count: int
    page_info: PageInfo
    is_partial: bool


@dataclass(frozen=True)
class RunConsumer:
    run: Run
    direct: bool


@dataclass(frozen=True)
class Consumers:
    runs: list[RunConsumer]
    model_versions: list[ModelVersion]
    deployments: list[Deployment]
    endpoints: list[Endpoint]


@dataclass(frozen=True)
class ValueChange:
    key: str
    this: str | None = None
    other: str | None = None


@dataclass(frozen=True)
class Comparison:
    other_id: str
    data_only_here: list[str]
    data_only_there: list[str]
    data_in_both: list[str]
    params: list[ValueChange]
    metrics: list[ValueChange]
    code: list[ValueChange]
    environment: list[ValueChange]


@dataclass(frozen=True)
class ChainBreak:
    """Where verification failed: `chain` is `model:<name>`, `ledger:<scope>` or `checkpoint`."""

    chain: str
    seq: int
    problem: str
    model_id: str | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class AuditReport:
    """What `verify_audit` checked (registry events, ledger entries, facts) and every break it found."""

    valid: bool
    models: int
    events: int
    entries: int
    facts: int
    sealed: bool
    breaks: list[ChainBreak]
    checkpoint_taken_at: datetime | None = None


_BY_TYPENAME: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Source,
        Dataset,
        DatasetVersion,
        Slice,
        Experiment,
        Run,
        Model,
        ModelVersion,
        Endpoint,
        Deployment,
        Inference,
    )
}


@dataclass(frozen=True)
class ExclusionDecision:
    """What was decided about one model version a source's exclusion affects, by whom, when, why."""

    model_version_id: str
    decision: ExclusionDecisionKind
    reason: str
    at: datetime
    actor: str
    recorded_at: datetime


@dataclass(frozen=True)
class ExclusionCase:
    """Opened when a source is excluded or an erasure is requested (`trigger`): the impact then (`impact`,
    with its `impact_digest`), and a decision per affected model version; `undecided_ids` is the work left.
    An erasure case has no source (`source_id` and `excluded_at` are None) and names `key_hash_count`
    records."""

    id: str
    source_id: str | None
    reason: str
    excluded_at: datetime | None
    opened_by: str
    opened_at: datetime
    impact_digest: str
    trigger: str = "SOURCE_EXCLUSION"
    key_hash_count: int = 0
    impact: Any = None
    affected_ids: list[str] = field(default_factory=list)
    decisions: list[ExclusionDecision] = field(default_factory=list)
    undecided_ids: list[str] = field(default_factory=list)


def parse(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build a result dataclass from a GraphQL object, converting nested values by the field types."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = _camel(f.name)
        if key in data:
            values[f.name] = _convert(hints[f.name], data[key])
    return cls(**values)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _convert(options[0], value)
        typename = value.get("__typename") if isinstance(value, Mapping) else None
        if typename in _BY_TYPENAME:
            return parse(_BY_TYPENAME[typename], value)
        return value
    if origin is list:
        (item,) = get_args(hint)
        return [_convert(item, v) for v in value]
    if origin is dict:
        _, item = get_args(hint)
        return {entry["key"]: _convert(item, entry["value"]) for entry in value}
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:  # a value added to the API after this SDK was released
            return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return parse(hint, value)
    return value
