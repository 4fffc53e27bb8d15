"""The model registry: models, versions, stage transitions, aliases, and their history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from provgraph.domain.errors import InvalidArgument, NotFound
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Caller
from provgraph.domain.registry import (
    AliasChange,
    Model,
    ModelSpec,
    ModelVersion,
    ModelVersionFilter,
    ModelVersionSpec,
    RegistryEvent,
    RegistryPlan,
    Stage,
    StageChange,
    VersionHistory,
    plan_alias_change,
    plan_stage_change,
)
from provgraph.service import validate as v
from provgraph.service.catalog import Registered, check_unchanged, pick
from provgraph.store.registry import RegistryStore


@dataclass(frozen=True)
class RegistryChange:
    """The outcome of a stage or alias change: the version afterwards, the events of the change, and
    whether this call recorded them (False: a repeat, answered with what was recorded before)."""

    version: ModelVersion
    events: list[RegistryEvent]
    created: bool


@dataclass(frozen=True)
class VersionState:
    """What the registry said about a version at a time."""

    at: datetime
    existed: bool
    stage: Stage
    aliases: list[str]


class RegistryService:
    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    async def register_model(self, spec: ModelSpec, caller: Caller) -> Registered[Model]:
        spec = ModelSpec(
            name=v.name(spec.name, "name"),
            description=v.text(spec.description, "description", 4096),
            owner=v.line(spec.owner, "owner", 256),
        )
        model, created = await self.store.merge_model(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "model",
                model.id,
                {"description": (spec.description, model.description), "owner": (spec.owner, model.owner)},
            )
        return Registered(model, created)

    async def register_model_version(
        self, spec: ModelVersionSpec, caller: Caller
    ) -> Registered[ModelVersion]:
        spec = replace(
            spec,
            model=v.name(spec.model, "model"),
            artifact_uri=v.required_line(spec.artifact_uri, "artifactUri", 2048),
            framework=v.line(spec.framework, "framework", 128),
            size_bytes=v.non_negative(spec.size_bytes, "sizeBytes"),
            metrics=v.measurements(spec.metrics, "metrics"),
            trained_by=v.opt_id(spec.trained_by, "trainedBy", Kind.RUN),
            fine_tuned_from=v.opt_id(spec.fine_tuned_from, "fineTunedFrom", Kind.MODEL_VERSION),
            tags=v.tags(spec.tags),
            description=v.text(spec.description, "description", 4096),
            created_at=v.not_in_future(spec.created_at, "createdAt"),
        )
        version, created = await self.store.create_model_version(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "model version",
                version.id,
                {
                    "framework": (spec.framework, version.framework),
                    "sizeBytes": (spec.size_bytes, version.size_bytes),
                    "metrics": (spec.metrics or None, version.metrics),
                    "trainedBy": (spec.trained_by, version.trained_by),
                    "fineTunedFrom": (spec.fine_tuned_from, version.fine_tuned_from),
                    "tags": (list(spec.tags) or None, list(version.tags)),
                    "description": (spec.description, version.description),
                    "createdAt": (spec.created_at, version.created_at),
                },
            )
        return Registered(version, created)

    async def change_stage(self, change: StageChange, caller: Caller) -> RegistryChange:
        """Move a version to another stage (see domain.registry.plan_stage_change for the rules). A repeat
        of a recorded change — the same version, stage and time, or no time while it is already in that
        stage — records nothing and answers with the recorded events (`created` false)."""
        change = replace(
            change,
            version_id=v.one_id(change.version_id, "versionId", Kind.MODEL_VERSION),
            reason=v.text(change.reason, "reason", 2048),
            at=v.not_in_future(change.at, "at"),
        )
        stamp = v.new_stamp(caller)
        at = change.at or stamp.at
        at_given = change.at is not None or caller.retry

        def decide(target: VersionHistory, others: list[VersionHistory]) -> RegistryPlan:
            return plan_stage_change(change, at, at_given, target, others)

        version, events, created = await self.store.change_stage(
            change.version_id, at, change.archive_others, stamp, decide
        )
        return RegistryChange(version, events, created)

    async def change_alias(self, change: AliasChange, caller: Caller) -> RegistryChange:
        """Point an alias at a version, or remove it (`version_id` None); repeats are no-ops, as for stages."""
        change = replace(
            change,
            model=v.name(change.model, "model"),
            alias=v.alias(change.alias),
            version_id=v.opt_id(change.version_id, "versionId", Kind.MODEL_VERSION),
            reason=v.text(change.reason, "reason", 2048),
            at=v.not_in_future(change.at, "at"),
        )
        stamp = v.new_stamp(caller)
        at = change.at or stamp.at
        at_given = change.at is not None or caller.retry
        model_id = make_id(Kind.MODEL, change.model)

        def decide(alias_events: list[RegistryEvent], target: ModelVersion | None) -> RegistryPlan:
            return plan_alias_change(change, model_id, at, at_given, alias_events, target)

        version, events, created = await self.store.change_alias(change, at, stamp, decide)
        return RegistryChange(version, events, created)

    async def model(self, model_id: str) -> Model:
        checked = v.one_id(model_id, "id", Kind.MODEL)
        return pick(await self.store.models_by_ids([checked]), checked, "model")

    async def model_version(self, version_id: str) -> ModelVersion:
        checked = v.one_id(version_id, "id", Kind.MODEL_VERSION)
        return pick(await self.store.model_versions_by_ids([checked]), checked, "model version")

    async def state_at(self, version_id: str, at: datetime, known_at: datetime | None = None) -> VersionState:
        """The stage and aliases a version held at `at`, as the registry knew it at `known_at` (default:
        everything recorded so far)."""
        checked_at = v.aware(at, "at")
        assert checked_at is not None
        state = await self.store.version_state_at(version_id, checked_at, v.known_at(known_at))
        if state is None:
            raise NotFound(f"model version {version_id!r} does not exist", field="id")
        existed, stage, aliases = state
        return VersionState(at=checked_at, existed=existed, stage=stage, aliases=aliases)

    async def history(
        self, model_name: str, first: int | None = None, after: str | None = None
    ) -> list[RegistryEvent]:
        """A page of a model's registry log, oldest first: `first` events (default 100, at most 500) after
        the event whose id is `after`."""
        size = 100 if first is None else first
        if not 1 <= size <= 500:
            raise InvalidArgument(f"first must be between 1 and 500; got {size}", field="first")
        model_id = make_id(Kind.MODEL, v.name(model_name, "model"))
        after_seq = 0
        if after is not None:
            prefix = "event:" + model_id.split(":", 1)[1] + ":"
            if not after.startswith(prefix) or not after[len(prefix) :].isdigit():
                raise InvalidArgument(f"after must be an event id of {model_id}", field="after")
            after_seq = int(after[len(prefix) :])
        return await self.store.events_of_model(model_id, after_seq, size)

    async def models(self, first: int | None, after: str | None) -> Page[Model]:
        return await self.store.list_models(PageRequest.of(first, after))

    async def model_versions(
        self, where: ModelVersionFilter, first: int | None, after: str | None
    ) -> Page[ModelVersion]:
        page = PageRequest.of(first, after)
        if page.after is not None and not (
            len(page.after) == 2 and isinstance(page.after[0], str) and isinstance(page.after[1], int)
        ):
            raise InvalidArgument("after is not a cursor of this listing", field="after")
        if (where.metric_min is not None or where.metric_max is not None) and where.metric is None:
            raise InvalidArgument("metricMin and metricMax need metric (the metric's name)", field="metric")
        where = replace(
            where,
            model=v.name(where.model, "model") if where.model else None,
            alias=v.alias(where.alias) if where.alias else None,
            tag=v.tags([where.tag])[0] if where.tag else None,
            metric=next(iter(v.measurements({where.metric: 0.0}, "metric"))) if where.metric else None,
        )
        return await self.store.list_model_versions(where, page)

    async def models_by_ids(self, ids: Sequence[str]) -> dict[str, Model]:
        return await self.store.models_by_ids(ids)

    async def model_versions_by_ids(self, ids: Sequence[str]) -> dict[str, ModelVersion]:
        return await self.store.model_versions_by_ids(ids)

    async def version_ids_of_models(self, ids: Sequence[str]) -> dict[str, list[str]]:
        return await self.store.version_ids_of_models(ids)

    async def events_of_versions(self, ids: Sequence[str]) -> dict[str, list[RegistryEvent]]:
        return await self.store.events_of_versions(ids)
