"""GraphQL types for experiments and runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from provgraph.api.context import Info
from provgraph.api.types.common import (
    InputRole,
    Metric,
    MetricInput,
    Param,
    ParamInput,
    RunKind,
    RunStatus,
    metric_dict,
    metrics_of,
    param_dict,
    params_of,
)
from provgraph.api.types.paging import Connection, connection
from provgraph.domain import runs as domain

if TYPE_CHECKING:
    from provgraph.api.types.catalog import DatasetVersionType, SliceType
    from provgraph.api.types.registry import ModelVersionType

Lazy = strawberry.lazy


@strawberry.type(name="Experiment")
class ExperimentType:
    id: strawberry.ID
    name: str
    description: str | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field(description="Runs of this experiment, ordered by id.")
    async def runs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[RunType]:
        page = await info.context.services.runs.runs(self.name, first, after)
        return connection(page, RunType.of)

    @classmethod
    def of(cls, e: domain.Experiment) -> ExperimentType:
        return cls(
            id=strawberry.ID(e.id),
            name=e.name,
            description=e.description,
            recorded_at=e.recorded.recorded_at,
            recorded_by=e.recorded.recorded_by,
        )


@strawberry.type(name="Code", description="The code a run executed.")
class CodeType:
    repo: str | None
    commit: str | None
    entrypoint: str | None
    dirty: bool | None = strawberry.field(
        description="The working tree had uncommitted changes when the run started (null: not recorded)."
    )


@strawberry.type(name="Environment", description="Where a run executed.")
class EnvironmentType:
    image_digest: str | None
    python: str | None
    framework: str | None
    framework_version: str | None
    packages: list[str]


@strawberry.type(name="RunInput", description="A dataset version or slice a run used, and what for.")
class RunInputType:
    id: strawberry.ID
    role: InputRole  # type: ignore[valid-type]

    @strawberry.field(description="Set when the input is a dataset version.")
    async def dataset_version(
        self, info: Info
    ) -> Annotated[DatasetVersionType, Lazy("provgraph.api.types.catalog")] | None:
        from provgraph.api.types.catalog import DatasetVersionType

        found = await info.context.loaders.dataset_versions.load(self.id)
        return DatasetVersionType.of(found) if found else None

    @strawberry.field(name="slice", description="Set when the input is a slice.")
    async def slice_(self, info: Info) -> Annotated[SliceType, Lazy("provgraph.api.types.catalog")] | None:
        from provgraph.api.types.catalog import SliceType

        found = await info.context.loaders.slices.load(self.id)
        return SliceType.of(found) if found else None


@strawberry.type(name="Run", description="A training, evaluation, preprocessing or fine-tuning run.")
class RunType:
    id: strawberry.ID
    key: str
    kind: RunKind  # type: ignore[valid-type]
    status: RunStatus  # type: ignore[valid-type]
    experiment_id: strawberry.ID | None
    started_at: datetime
    ended_at: datetime | None
    params: list[Param]
    metrics: list[Metric]
    code: CodeType
    environment: EnvironmentType
    inputs: list[RunInputType]
    output_ids: list[strawberry.ID] = strawberry.field(
        description="Dataset and model versions this run generated."
    )
    parent_run_id: strawberry.ID | None = strawberry.field(
        description="The run this one is part of (an orchestrator's DAG run), if it said so."
    )
    error: str | None = strawberry.field(
        description="Why the run failed, when it was reported FAILED with a reason (an exception, a task's message)."
    )
    recorded_at: datetime
    recorded_by: str

    @strawberry.field(
        description="OpenLineage facets received for this run (run and job facets, the latest of each), "
        "verbatim; null when the run did not come through OpenLineage."
    )
    async def open_lineage_facets(self, info: Info) -> JSON | None:
        found = await info.context.loaders.open_lineage_facets.load(self.id)
        return None if found is None else JSON(found)

    @strawberry.field
    async def experiment(self, info: Info) -> ExperimentType | None:
        if self.experiment_id is None:
            return None
        found = await info.context.loaders.experiments.load(self.experiment_id)
        return ExperimentType.of(found) if found else None

    @strawberry.field(description="Model versions this run trained.")
    async def model_versions(
        self, info: Info
    ) -> list[Annotated[ModelVersionType, Lazy("provgraph.api.types.registry")]]:
        from provgraph.api.types.registry import ModelVersionType

        ids = [i for i in self.output_ids if i.startswith("modelVersion:")]
        found = await info.context.loaders.model_versions.load_many(ids)
        return [ModelVersionType.of(m) for m in found if m is not None]

    @strawberry.field(description="Dataset versions this run produced.")
    async def dataset_versions(
        self, info: Info
    ) -> list[Annotated[DatasetVersionType, Lazy("provgraph.api.types.catalog")]]:
        from provgraph.api.types.catalog import DatasetVersionType

        ids = [i for i in self.output_ids if i.startswith("datasetVersion:")]
        found = await info.context.loaders.dataset_versions.load_many(ids)
        return [DatasetVersionType.of(v) for v in found if v is not None]

    @strawberry.field(description="One parameter's value, if the run has it.")
    def param(self, key: str) -> str | None:
        return next((p.value for p in self.params if p.key == key), None)

    @strawberry.field(description="One metric's value, if the run has it.")
    def metric(self, key: str) -> float | None:
        return next((m.value for m in self.metrics if m.key == key), None)

    @classmethod
    def of(cls, r: domain.Run) -> RunType:
        env = r.environment
        return cls(
            id=strawberry.ID(r.id),
            key=r.key,
            kind=r.kind,
            status=r.status,
            experiment_id=strawberry.ID(r.experiment_id) if r.experiment_id else None,
            started_at=r.started_at,
            ended_at=r.ended_at,
            params=params_of(r.params),
            metrics=metrics_of(r.metrics),
            code=CodeType(
                repo=r.code.repo, commit=r.code.commit, entrypoint=r.code.entrypoint, dirty=r.code.dirty
            ),
            environment=EnvironmentType(
                image_digest=env.image_digest,
                python=env.python,
                framework=env.framework,
                framework_version=env.framework_version,
                packages=list(env.packages),
            ),
            inputs=[RunInputType(id=strawberry.ID(i.id), role=i.role) for i in r.inputs],
            output_ids=[strawberry.ID(o) for o in r.output_ids],
            parent_run_id=strawberry.ID(r.parent) if r.parent else None,
            error=r.error,
            recorded_at=r.recorded.recorded_at,
            recorded_by=r.recorded.recorded_by,
        )


# -- inputs and payloads -------------------------------------------------------------------------------


@strawberry.input
class RegisterExperimentInput:
    name: str
    description: str | None = None


@strawberry.input
class CodeInput:
    repo: str | None = None
    commit: str | None = None
    entrypoint: str | None = None
    dirty: bool | None = None


@strawberry.input
class EnvironmentInput:
    image_digest: str | None = None
    python: str | None = None
    framework: str | None = None
    framework_version: str | None = None
    packages: list[str] = strawberry.field(
        default_factory=list, description='Pinned packages, e.g. "torch==2.5.1".'
    )


@strawberry.input
class RunInputRef:
    id: strawberry.ID = strawberry.field(description="A dataset version or slice id.")
    role: InputRole = InputRole.TRAIN  # type: ignore[valid-type]


@strawberry.input
class RegisterRunInput:
    key: str = strawberry.field(
        description="Your id for the run (a pipeline run id, a UUID): makes retries safe."
    )
    kind: RunKind  # type: ignore[valid-type]
    experiment: str | None = strawberry.field(
        default=None, description="Experiment name; created on first use."
    )
    status: RunStatus = RunStatus.RUNNING  # type: ignore[valid-type]
    started_at: datetime | None = strawberry.field(
        default=None, description="Defaults to the time of recording."
    )
    ended_at: datetime | None = None
    params: list[ParamInput] = strawberry.field(default_factory=list)
    metrics: list[MetricInput] = strawberry.field(
        default_factory=list, description="Only for a finished run."
    )
    code: CodeInput | None = None
    environment: EnvironmentInput | None = None
    inputs: list[RunInputRef] = strawberry.field(default_factory=list)
    parent_run_id: strawberry.ID | None = strawberry.field(
        default=None, description="The run this one is part of (need not be recorded yet)."
    )
    error: str | None = strawberry.field(
        default=None, description="Why it failed: only with status FAILED, up to 4,096 characters."
    )


@strawberry.input
class CompleteRunInput:
    run_id: strawberry.ID
    status: RunStatus  # type: ignore[valid-type]
    ended_at: datetime | None = None
    metrics: list[MetricInput] = strawberry.field(default_factory=list)
    error: str | None = strawberry.field(
        default=None, description="Why it failed: only with status FAILED, up to 4,096 characters."
    )


@strawberry.type
class RegisterExperimentPayload:
    experiment: ExperimentType
    created: bool


@strawberry.type
class RegisterRunPayload:
    run: RunType
    created: bool


@strawberry.type
class CompleteRunPayload:
    run: RunType
    created: bool = strawberry.field(description="False when the run had already ended this way.")


@strawberry.type
class RunQuery:
    @strawberry.field
    async def run(self, info: Info, id: strawberry.ID) -> RunType:
        return RunType.of(await info.context.services.runs.run(id))

    @strawberry.field(description="Runs ordered by id, optionally of one experiment.")
    async def runs(
        self, info: Info, experiment: str | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[RunType]:
        return connection(await info.context.services.runs.runs(experiment, first, after), RunType.of)

    @strawberry.field(description="Experiments ordered by id.")
    async def experiments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ExperimentType]:
        return connection(await info.context.services.runs.experiments(first, after), ExperimentType.of)


@strawberry.type
class RunMutation:
    @strawberry.mutation(description="Record an experiment. Idempotent on its name.")
    async def register_experiment(
        self, info: Info, input: RegisterExperimentInput
    ) -> RegisterExperimentPayload:
        done = await info.context.services.runs.register_experiment(
            domain.ExperimentSpec(name=input.name, description=input.description), info.context.caller
        )
        return RegisterExperimentPayload(experiment=ExperimentType.of(done.entity), created=done.created)

    @strawberry.mutation(
        description="Record a run with its parameters, code, environment and inputs. Idempotent on its key."
    )
    async def register_run(self, info: Info, input: RegisterRunInput) -> RegisterRunPayload:
        code = input.code or CodeInput()
        env = input.environment or EnvironmentInput()
        spec = domain.RunSpec(
            key=input.key,
            kind=input.kind,
            experiment=input.experiment,
            status=input.status,
            started_at=input.started_at,
            ended_at=input.ended_at,
            params=param_dict(input.params, "params"),
            metrics=metric_dict(input.metrics, "metrics"),
            code=domain.Code(
                repo=code.repo, commit=code.commit, entrypoint=code.entrypoint, dirty=code.dirty
            ),
            environment=domain.Environment(
                image_digest=env.image_digest,
                python=env.python,
                framework=env.framework,
                framework_version=env.framework_version,
                packages=tuple(env.packages),
            ),
            inputs=tuple(domain.RunInput(i.id, i.role) for i in input.inputs),
            parent=input.parent_run_id,
            error=input.error,
        )
        done = await info.context.services.runs.register_run(spec, info.context.caller)
        return RegisterRunPayload(run=RunType.of(done.entity), created=done.created)

    @strawberry.mutation(
        description="Record how a run ended (once; repeating the same end records nothing: `created: false`)."
    )
    async def complete_run(self, info: Info, input: CompleteRunInput) -> CompleteRunPayload:
        completion = domain.RunCompletion(
            run_id=input.run_id,
            status=input.status,
            ended_at=input.ended_at,
            metrics=metric_dict(input.metrics, "metrics"),
            error=input.error,
        )
        done = await info.context.services.runs.complete_run(completion, info.context.caller)
        return CompleteRunPayload(run=RunType.of(done.entity), created=done.created)
