"""GraphQL types for the model registry: models, versions, stages, aliases, events, comparisons."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from provgraph.api.context import Info
from provgraph.api.scalars import Long, long_or_none
from provgraph.api.types.common import EventKind, KnownAt, Metric, MetricInput, Stage, metric_dict, metrics_of
from provgraph.api.types.paging import After, Connection, First, connection, page_after, page_ids
from provgraph.domain import lineage
from provgraph.domain import registry as domain
from provgraph.domain.serving import Deployment
from provgraph.service.registry import RegistryChange

if TYPE_CHECKING:
    from provgraph.api.types.runs import RunType
    from provgraph.api.types.serving import DeploymentType

Lazy = strawberry.lazy


@strawberry.type(name="Model", description="A registered model: the name its versions share.")
class ModelType:
    id: strawberry.ID
    name: str
    description: str | None
    owner: str | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field(description="The versions, oldest first, a page at a time.")
    async def versions(self, info: Info, first: First = None, after: After = None) -> list[ModelVersionType]:
        ids = page_ids(await info.context.loaders.version_ids_of_model.load(self.id), first, after)
        found = await info.context.loaders.model_versions.load_many(ids)
        return [ModelVersionType.of(v) for v in found if v is not None]

    @strawberry.field(
        description="The registry log of this model, oldest first (hash-chained), a page at a time (`after`: an event id)."
    )
    async def history(self, info: Info, first: First = None, after: After = None) -> list[RegistryEventType]:
        events = await info.context.services.registry.history(self.name, first, after)
        return [RegistryEventType.of(e) for e in events]

    @classmethod
    def of(cls, m: domain.Model) -> ModelType:
        return cls(
            id=strawberry.ID(m.id),
            name=m.name,
            description=m.description,
            owner=m.owner,
            recorded_at=m.recorded.recorded_at,
            recorded_by=m.recorded.recorded_by,
        )


@strawberry.type(
    name="RegistryEvent", description="One append-only registry fact: who changed what, when, why."
)
class RegistryEventType:
    id: strawberry.ID
    seq: int
    kind: EventKind  # type: ignore[valid-type]
    model_version_id: strawberry.ID
    at: datetime
    actor: str
    reason: str | None
    from_stage: Stage | None  # type: ignore[valid-type]
    to_stage: Stage | None  # type: ignore[valid-type]
    alias: str | None
    previous_version_id: strawberry.ID | None
    prev_hash: str | None
    hash: str | None
    recorded_at: datetime | None

    @classmethod
    def of(cls, e: domain.RegistryEvent) -> RegistryEventType:
        return cls(
            id=strawberry.ID(e.id),
            seq=e.seq,
            kind=e.kind,
            model_version_id=strawberry.ID(e.version_id),
            at=e.at,
            actor=e.actor,
            reason=e.reason,
            from_stage=e.from_stage,
            to_stage=e.to_stage,
            alias=e.alias,
            previous_version_id=strawberry.ID(e.previous_version_id) if e.previous_version_id else None,
            prev_hash=e.prev_hash,
            hash=e.hash,
            recorded_at=e.recorded_at,
        )


@strawberry.type(name="VersionState", description="What the registry said about a version at a time.")
class VersionStateType:
    at: datetime
    existed: bool
    stage: Stage  # type: ignore[valid-type]
    aliases: list[str]


@strawberry.type(name="ValueChange")
class ValueChangeType:
    key: str
    this: str | None
    other: str | None


@strawberry.type(
    name="Comparison",
    description="How two model versions differ in what made them. The data lists are sorted by id and paged.",
)
class ComparisonType:
    other_id: strawberry.ID
    params: list[ValueChangeType]
    metrics: list[ValueChangeType]
    code: list[ValueChangeType]
    environment: list[ValueChangeType]
    _found: strawberry.Private[lineage.Comparison]

    @strawberry.field(description="Data (versions, slices, sources) only this used.")
    def data_only_here(self, first: First = None, after: After = None) -> list[strawberry.ID]:
        return [strawberry.ID(x) for x in page_ids(self._found.data_only_here, first, after)]

    @strawberry.field(description="Data only the other used.")
    def data_only_there(self, first: First = None, after: After = None) -> list[strawberry.ID]:
        return [strawberry.ID(x) for x in page_ids(self._found.data_only_there, first, after)]

    @strawberry.field(description="Data both used.")
    def data_in_both(self, first: First = None, after: After = None) -> list[strawberry.ID]:
        return [strawberry.ID(x) for x in page_ids(self._found.data_in_both, first, after)]

    @classmethod
    def of(cls, c: lineage.Comparison) -> ComparisonType:
        def changes(items: list[lineage.ValueChange]) -> list[ValueChangeType]:
            return [ValueChangeType(key=i.key, this=i.this, other=i.other) for i in items]

        return cls(
            other_id=strawberry.ID(c.other_id),
            params=changes(c.params),
            metrics=changes(c.metrics),
            code=changes(c.code),
            environment=changes(c.environment),
            _found=c,
        )


def _event_id(e: domain.RegistryEvent) -> str:
    return e.id


def _deployment_id(d: Deployment) -> str:
    return d.id


@strawberry.type(
    name="ModelVersion", description="A numbered version of a model: one artifact, its origins, its stage."
)
class ModelVersionType:
    id: strawberry.ID
    model_id: strawberry.ID
    version: int
    artifact_uri: str
    framework: str | None
    size_bytes: Long | None
    metrics: list[Metric]
    tags: list[str]
    description: str | None
    created_at: datetime
    stage: Stage = strawberry.field(description="The stage now; see stateAt for any other time.")  # type: ignore[valid-type]
    aliases: list[str] = strawberry.field(description="Aliases pointing here now.")
    trained_by_id: strawberry.ID | None
    fine_tuned_from_id: strawberry.ID | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field
    async def model(self, info: Info) -> ModelType:
        found = await info.context.loaders.models.load(self.model_id)
        assert found is not None  # a version cannot exist without its model
        return ModelType.of(found)

    @strawberry.field(description="The run that trained this version.")
    async def trained_by(self, info: Info) -> Annotated[RunType, Lazy("provgraph.api.types.runs")] | None:
        from provgraph.api.types.runs import RunType

        if self.trained_by_id is None:
            return None
        found = await info.context.loaders.runs.load(self.trained_by_id)
        return RunType.of(found) if found else None

    @strawberry.field(description="The base version this one was fine-tuned from.")
    async def fine_tuned_from(self, info: Info) -> ModelVersionType | None:
        if self.fine_tuned_from_id is None:
            return None
        found = await info.context.loaders.model_versions.load(self.fine_tuned_from_id)
        return ModelVersionType.of(found) if found else None

    @strawberry.field(description="Registry events about this version, oldest first, a page at a time.")
    async def history(self, info: Info, first: First = None, after: After = None) -> list[RegistryEventType]:
        events = await info.context.loaders.events_of_version.load(self.id)
        return [RegistryEventType.of(e) for e in page_after(events, _event_id, first, after)]

    @strawberry.field(description="The stage and aliases this version held at a time.")
    async def state_at(self, info: Info, at: datetime, known_at: KnownAt = None) -> VersionStateType:
        state = await info.context.services.registry.state_at(self.id, at, known_at)
        return VersionStateType(at=state.at, existed=state.existed, stage=state.stage, aliases=state.aliases)

    @strawberry.field(
        description="How this version differs from another in data, parameters, code and environment."
    )
    async def compare(self, info: Info, other: strawberry.ID) -> ComparisonType:
        return ComparisonType.of(await info.context.services.provenance.compare(self.id, other))

    @strawberry.field(description="The deployments of this version, oldest first, a page at a time.")
    async def deployments(
        self, info: Info, first: First = None, after: After = None
    ) -> list[Annotated[DeploymentType, Lazy("provgraph.api.types.serving")]]:
        from provgraph.api.types.serving import DeploymentType

        found = await info.context.loaders.deployments_of_version.load(self.id)
        return [DeploymentType.of(d) for d in page_after(found, _deployment_id, first, after)]

    @strawberry.field(description="How many inferences were logged against this version.")
    async def inference_count(self, info: Info) -> int:
        return await info.context.loaders.inference_count.load(self.id)

    @strawberry.field(description="One metric's value, if the version has it.")
    def metric(self, key: str) -> float | None:
        return next((m.value for m in self.metrics if m.key == key), None)

    @classmethod
    def of(cls, mv: domain.ModelVersion) -> ModelVersionType:
        return cls(
            id=strawberry.ID(mv.id),
            model_id=strawberry.ID(mv.model_id),
            version=mv.version,
            artifact_uri=mv.artifact_uri,
            framework=mv.framework,
            size_bytes=long_or_none(mv.size_bytes),
            metrics=metrics_of(mv.metrics),
            tags=list(mv.tags),
            description=mv.description,
            created_at=mv.created_at,
            stage=mv.stage,
            aliases=list(mv.aliases),
            trained_by_id=strawberry.ID(mv.trained_by) if mv.trained_by else None,
            fine_tuned_from_id=strawberry.ID(mv.fine_tuned_from) if mv.fine_tuned_from else None,
            recorded_at=mv.recorded.recorded_at,
            recorded_by=mv.recorded.recorded_by,
        )


# -- inputs and payloads -------------------------------------------------------------------------------


@strawberry.input
class RegisterModelInput:
    name: str
    description: str | None = None
    owner: str | None = None


@strawberry.input
class RegisterModelVersionInput:
    model: str = strawberry.field(description="The model's name (registered before).")
    artifact_uri: str = strawberry.field(
        description="Where the artifact lives; registering it again is a no-op."
    )
    framework: str | None = None
    size_bytes: Long | None = None
    metrics: list[MetricInput] = strawberry.field(default_factory=list)
    trained_by: strawberry.ID | None = strawberry.field(default=None, description="The run that trained it.")
    fine_tuned_from: strawberry.ID | None = strawberry.field(
        default=None, description="The base model version."
    )
    tags: list[str] = strawberry.field(default_factory=list)
    description: str | None = None
    created_at: datetime | None = None


@strawberry.input
class TransitionStageInput:
    model_version_id: strawberry.ID
    stage: Stage  # type: ignore[valid-type]
    reason: str | None = None
    at: datetime | None = strawberry.field(default=None, description="When it took effect; defaults to now.")
    archive_others: bool = strawberry.field(
        default=False,
        description="When promoting to PRODUCTION, archive the model's other production versions.",
    )


@strawberry.input
class SetAliasInput:
    model: str
    alias: str
    model_version_id: strawberry.ID
    reason: str | None = None
    at: datetime | None = None


@strawberry.input
class RemoveAliasInput:
    model: str
    alias: str
    reason: str | None = None
    at: datetime | None = None


@strawberry.input
class ModelVersionFilter:
    model: str | None = None
    stage: Stage | None = None  # type: ignore[valid-type]
    alias: str | None = None
    tag: str | None = None
    metric: str | None = strawberry.field(default=None, description="Keep versions that have this metric…")
    metric_min: float | None = strawberry.field(default=None, description="…at least this high…")
    metric_max: float | None = strawberry.field(default=None, description="…and at most this high.")


@strawberry.type
class RegisterModelPayload:
    model: ModelType
    created: bool


@strawberry.type
class RegisterModelVersionPayload:
    model_version: ModelVersionType
    created: bool


@strawberry.type
class RegistryChangePayload:
    model_version: ModelVersionType
    events: list[RegistryEventType] = strawberry.field(
        description="The events of the change (for a repeat: the events the original request recorded)."
    )
    created: bool = strawberry.field(
        description="False when this repeated a recorded change and wrote nothing."
    )

    @classmethod
    def of(cls, done: RegistryChange) -> RegistryChangePayload:
        return cls(
            model_version=ModelVersionType.of(done.version),
            events=[RegistryEventType.of(e) for e in done.events],
            created=done.created,
        )


@strawberry.type
class RegistryQuery:
    @strawberry.field
    async def model(self, info: Info, id: strawberry.ID) -> ModelType:
        return ModelType.of(await info.context.services.registry.model(id))

    @strawberry.field(description="Models ordered by id.")
    async def models(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ModelType]:
        return connection(await info.context.services.registry.models(first, after), ModelType.of)

    @strawberry.field
    async def model_version(self, info: Info, id: strawberry.ID) -> ModelVersionType:
        found = await info.context.services.registry.model_version(id)
        info.context.loaders.model_versions.prime(found.id, found)
        return ModelVersionType.of(found)

    @strawberry.field(
        description="Model versions by model and number, filtered by stage, alias, tag or metric."
    )
    async def model_versions(
        self,
        info: Info,
        where: ModelVersionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ModelVersionType]:
        w = where or ModelVersionFilter()
        page = await info.context.services.registry.model_versions(
            domain.ModelVersionFilter(
                model=w.model,
                stage=w.stage,
                alias=w.alias,
                tag=w.tag,
                metric=w.metric,
                metric_min=w.metric_min,
                metric_max=w.metric_max,
            ),
            first,
            after,
        )
        return connection(page, ModelVersionType.of)


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(description="Record a model. Idempotent on its name.")
    async def register_model(self, info: Info, input: RegisterModelInput) -> RegisterModelPayload:
        done = await info.context.services.registry.register_model(
            domain.ModelSpec(name=input.name, description=input.description, owner=input.owner),
            info.context.caller,
        )
        return RegisterModelPayload(model=ModelType.of(done.entity), created=done.created)

    @strawberry.mutation(
        description="Record a new version of a model; it gets the next number. Idempotent on (model, artifactUri)."
    )
    async def register_model_version(
        self, info: Info, input: RegisterModelVersionInput
    ) -> RegisterModelVersionPayload:
        spec = domain.ModelVersionSpec(
            model=input.model,
            artifact_uri=input.artifact_uri,
            framework=input.framework,
            size_bytes=input.size_bytes,
            metrics=metric_dict(input.metrics, "metrics"),
            trained_by=input.trained_by,
            fine_tuned_from=input.fine_tuned_from,
            tags=tuple(input.tags),
            description=input.description,
            created_at=input.created_at,
        )
        done = await info.context.services.registry.register_model_version(spec, info.context.caller)
        return RegisterModelVersionPayload(
            model_version=ModelVersionType.of(done.entity), created=done.created
        )

    @strawberry.mutation(
        description="Move a version to another stage (see the README for the rules). Repeating a recorded change "
        "(same version, stage and `at`) records nothing and answers with it (`created: false`)."
    )
    async def transition_stage(self, info: Info, input: TransitionStageInput) -> RegistryChangePayload:
        done = await info.context.services.registry.change_stage(
            domain.StageChange(
                version_id=input.model_version_id,
                to_stage=input.stage,
                reason=input.reason,
                at=input.at,
                archive_others=input.archive_others,
            ),
            info.context.caller,
        )
        return RegistryChangePayload.of(done)

    @strawberry.mutation(description="Point an alias at a version (moving it if it pointed elsewhere).")
    async def set_alias(self, info: Info, input: SetAliasInput) -> RegistryChangePayload:
        done = await info.context.services.registry.change_alias(
            domain.AliasChange(
                model=input.model,
                alias=input.alias,
                version_id=input.model_version_id,
                reason=input.reason,
                at=input.at,
            ),
            info.context.caller,
        )
        return RegistryChangePayload.of(done)

    @strawberry.mutation(description="Remove an alias from a model.")
    async def remove_alias(self, info: Info, input: RemoveAliasInput) -> RegistryChangePayload:
        done = await info.context.services.registry.change_alias(
            domain.AliasChange(
                model=input.model, alias=input.alias, version_id=None, reason=input.reason, at=input.at
            ),
            info.context.caller,
        )
        return RegistryChangePayload.of(done)
