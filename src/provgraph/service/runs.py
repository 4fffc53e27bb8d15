"""Registering experiments and runs, and recording how runs end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from provgraph.domain.errors import Conflict, InvalidArgument
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.paging import Page, PageRequest
from provgraph.domain.records import Caller
from provgraph.domain.runs import (
    Code,
    Environment,
    Experiment,
    ExperimentSpec,
    Run,
    RunCompletion,
    RunInput,
    RunSpec,
    RunStatus,
)
from provgraph.service import validate as v
from provgraph.service.catalog import Registered, check_unchanged, pick
from provgraph.store.runs import RunStore


class RunService:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    async def register_experiment(self, spec: ExperimentSpec, caller: Caller) -> Registered[Experiment]:
        spec = ExperimentSpec(
            name=v.name(spec.name, "name"), description=v.text(spec.description, "description", 4096)
        )
        experiment, created = await self.store.merge_experiment(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "experiment", experiment.id, {"description": (spec.description, experiment.description)}
            )
        return Registered(experiment, created)

    async def register_run(self, spec: RunSpec, caller: Caller) -> Registered[Run]:
        spec = self._validated(spec)
        run, created = await self.store.merge_run(spec, v.new_stamp(caller))
        if not created:
            pairs: dict[str, tuple[object, object]] = {
                "kind": (spec.kind, run.kind),
                "experiment": (
                    make_id(Kind.EXPERIMENT, spec.experiment) if spec.experiment else None,
                    run.experiment_id,
                ),
                "startedAt": (spec.started_at, run.started_at),
                "params": (spec.params or None, run.params),
                "code": (None if spec.code == Code() else spec.code, run.code),
                "environment": (
                    None if spec.environment == Environment() else spec.environment,
                    run.environment,
                ),
                "inputs": (list(spec.inputs) or None, list(run.inputs)),
                "parentRunId": (spec.parent, run.parent),
            }
            if spec.status.terminal:  # a one-shot registration of a finished run must match its end too
                pairs["status"] = (spec.status, run.status)
                pairs["endedAt"] = (spec.ended_at, run.ended_at)
                pairs["metrics"] = (spec.metrics or None, run.metrics)
                pairs["error"] = (spec.error, run.error)
            check_unchanged("run", run.id, pairs)
        return Registered(run, created)

    async def complete_run(self, completion: RunCompletion, caller: Caller) -> Registered[Run]:
        """Record how a run ended. Reporting the same end again is a repeat (`created` false)."""
        if not completion.status.terminal:
            raise InvalidArgument("status must be FINISHED or FAILED to complete a run", field="status")
        completion = replace(
            completion,
            run_id=v.one_id(completion.run_id, "runId", Kind.RUN),
            ended_at=v.not_in_future(completion.ended_at, "endedAt"),
            metrics=v.measurements(completion.metrics, "metrics"),
            error=_error(completion.error, completion.status),
        )

        def decide(current: Run) -> bool:
            if current.status.terminal:
                same = (
                    current.status is completion.status
                    and (completion.ended_at is None or completion.ended_at == current.ended_at)
                    and all(current.metrics.get(k) == value for k, value in completion.metrics.items())
                    and (completion.error is None or completion.error == current.error)
                )
                if same:
                    return False
                raise Conflict(
                    f"run {current.id} already ended as {current.status.value} at "
                    f"{current.ended_at.isoformat() if current.ended_at else '?'}; its end cannot be changed",
                    field="status",
                )
            if completion.ended_at is not None and completion.ended_at < current.started_at:
                raise InvalidArgument("endedAt is before the run's startedAt", field="endedAt")
            return True

        run, created = await self.store.complete_run(completion, v.new_stamp(caller), decide)
        return Registered(run, created)

    async def run(self, run_id: str) -> Run:
        checked = v.one_id(run_id, "id", Kind.RUN)
        return pick(await self.store.runs_by_ids([checked]), checked, "run")

    async def runs(self, experiment: str | None, first: int | None, after: str | None) -> Page[Run]:
        experiment_id = make_id(Kind.EXPERIMENT, v.name(experiment, "experiment")) if experiment else None
        return await self.store.list_runs(experiment_id, PageRequest.of(first, after))

    async def experiments(self, first: int | None, after: str | None) -> Page[Experiment]:
        return await self.store.list_experiments(PageRequest.of(first, after))

    async def runs_by_ids(self, ids: Sequence[str]) -> dict[str, Run]:
        return await self.store.runs_by_ids(ids)

    async def experiments_by_ids(self, ids: Sequence[str]) -> dict[str, Experiment]:
        return await self.store.experiments_by_ids(ids)

    def _validated(self, spec: RunSpec) -> RunSpec:
        started_at = v.not_in_future(spec.started_at, "startedAt")
        ended_at = v.not_in_future(spec.ended_at, "endedAt")
        if ended_at is not None and not spec.status.terminal:
            raise InvalidArgument("endedAt is only allowed with status FINISHED or FAILED", field="endedAt")
        if ended_at is not None and started_at is not None and ended_at < started_at:
            raise InvalidArgument("endedAt is before startedAt", field="endedAt")
        if spec.metrics and not spec.status.terminal:
            raise InvalidArgument("metrics are reported when the run ends (completeRun)", field="metrics")
        inputs = tuple(
            RunInput(v.one_id(i.id, "inputs", Kind.DATASET_VERSION, Kind.SLICE), i.role) for i in spec.inputs
        )
        v.ids([i.id for i in inputs], "inputs", Kind.DATASET_VERSION, Kind.SLICE)
        packages = tuple(v.line(p, "environment.packages", 256) or "" for p in spec.environment.packages)
        if len(packages) > 2000:
            raise InvalidArgument("environment.packages has more than 2000 entries", field="packages")
        return replace(
            spec,
            key=v.name(spec.key, "key"),
            experiment=v.name(spec.experiment, "experiment") if spec.experiment else None,
            started_at=started_at,
            ended_at=ended_at,
            params=v.key_values(spec.params, "params"),
            metrics=v.measurements(spec.metrics, "metrics"),
            code=Code(
                repo=v.line(spec.code.repo, "code.repo", 2048),
                commit=v.line(spec.code.commit, "code.commit", 256),
                entrypoint=v.line(spec.code.entrypoint, "code.entrypoint", 1024),
                dirty=spec.code.dirty,
            ),
            environment=Environment(
                image_digest=v.line(spec.environment.image_digest, "environment.imageDigest", 256),
                python=v.line(spec.environment.python, "environment.python", 64),
                framework=v.line(spec.environment.framework, "environment.framework", 128),
                framework_version=v.line(
                    spec.environment.framework_version, "environment.frameworkVersion", 64
                ),
                packages=tuple(sorted(packages)),
            ),
            inputs=tuple(sorted(inputs, key=lambda i: i.id)),
            parent=v.opt_id(spec.parent, "parentRunId", Kind.RUN),
            error=_error(spec.error, spec.status),
        )


MAX_ERROR = 4096


def _error(error: str | None, status: RunStatus) -> str | None:
    """Why a run failed: text (a traceback's last line, a task's message), only with status FAILED."""
    checked = v.text(error, "error", MAX_ERROR)
    if checked is not None and status is not RunStatus.FAILED:
        raise InvalidArgument("error is recorded only with status FAILED", field="error")
    return checked
