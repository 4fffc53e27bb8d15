"""Small shared GraphQL types: key/value pairs and enums mirrored from the domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from provgraph.domain import lineage, registry, runs
from provgraph.domain.errors import InvalidArgument

V = TypeVar("V")

# The transaction-time argument of every time-aware query.
KnownAt = Annotated[
    datetime | None,
    strawberry.argument(
        description="Answer as the service knew it at this time (transaction time): facts recorded later, "
        "and later-recorded ends, exclusions and completions, are left out. Default: everything recorded."
    ),
]

Stage = strawberry.enum(registry.Stage, name="Stage", description="A model version's stage in the registry.")
EventKind = strawberry.enum(registry.EventKind, name="RegistryEventKind")
RunKind = strawberry.enum(runs.RunKind, name="RunKind")
RunStatus = strawberry.enum(runs.RunStatus, name="RunStatus")
InputRole = strawberry.enum(runs.InputRole, name="InputRole", description="What a run used an input for.")
Direction = strawberry.enum(lineage.Direction, name="Direction")


@strawberry.type(description="A named string value (a run parameter).")
class Param:
    key: str
    value: str


@strawberry.type(description="A named numeric value (a metric).")
class Metric:
    key: str
    value: float


@strawberry.input
class ParamInput:
    key: str
    value: str


@strawberry.input
class MetricInput:
    key: str
    value: float


def params_of(values: dict[str, str]) -> list[Param]:
    return [Param(key=k, value=values[k]) for k in sorted(values)]


def metrics_of(values: dict[str, float]) -> list[Metric]:
    return [Metric(key=k, value=values[k]) for k in sorted(values)]


def param_dict(items: list[ParamInput] | None, field: str) -> dict[str, str]:
    return _unique({i.key: i.value for i in items or []}, len(items or []), field)


def metric_dict(items: list[MetricInput] | None, field: str) -> dict[str, float]:
    return _unique({i.key: i.value for i in items or []}, len(items or []), field)


def _unique(values: dict[str, V], count: int, field: str) -> dict[str, V]:
    if len(values) != count:
        raise InvalidArgument(f"{field} names the same key twice", field=field)
    return values
