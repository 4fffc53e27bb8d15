"""What an MLflow import covers: the experiments, runs, logged models and registered model versions it
lists, limited by experiment names and by `since`, in a fixed order (so provgraph numbers the versions
of a model the same way on every import of the same data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from provgraph.interchange import mlflow_mapping as m
from provgraph.interchange.recorder import ImportFailed

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Experiment, LoggedModel, Run
    from mlflow.entities.model_registry import ModelVersion

PAGE = 1000


def pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    """Every item of a paged MLflow listing (its PagedList carries the next page's token)."""
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


@dataclass
class Listing:
    """Everything in scope, in the order it is recorded."""

    experiments: list[Experiment] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    logged_models: list[LoggedModel] = field(default_factory=list)
    registered: list[tuple[str, list[ModelVersion]]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.runs) + len(self.logged_models) + sum(len(v) for _, v in self.registered)


class Scope:
    """Lists what an import covers, and looks up what it needs beyond that (a version's source run that
    started before `since`, a model's aliases)."""

    def __init__(self, client: MlflowClient, experiments: Sequence[str], since: datetime | None) -> None:
        self.ml = client
        self.names = list(experiments)
        self.since_ms = m.to_ms(since) if since is not None else None
        self.selected: set[str] | None = None  # experiment ids, when limited by name
        self.runs: dict[str, Run] = {}
        self.first_use: dict[tuple[str, str], int] = {}  # (dataset, digest) → its earliest run's start
        self._aliases: dict[str, dict[str, str]] = {}

    def new(self, ms: int | None) -> bool:
        """Whether a time (MLflow milliseconds) is at or after `since` (always, without one)."""
        return self.since_ms is None or (ms is not None and ms >= self.since_ms)

    def listing(self) -> Listing:
        experiments = self._experiments()
        ids = [e.experiment_id for e in experiments]
        runs = [run for experiment_id in ids for run in self._runs_of(experiment_id)]
        with_runs = {run.info.experiment_id for run in runs}
        logged = [
            lm for chunk in range(0, len(ids), 100) for lm in self._logged_models(ids[chunk : chunk + 100])
        ]
        return Listing(
            experiments=[e for e in experiments if self.new(e.creation_time) or e.experiment_id in with_runs],
            runs=runs,
            logged_models=sorted(
                (lm for lm in logged if self.new(lm.creation_timestamp)),
                key=lambda lm: (lm.creation_timestamp, lm.model_id),
            ),
            registered=self._registry(),
        )

    def run(self, run_id: str) -> Run | None:
        """An MLflow run by id (None when MLflow has no such run)."""
        if run_id not in self.runs:
            try:
                self.runs[run_id] = self.ml.get_run(run_id)
            except Exception:  # MLflow's "no such run" differs by store; the caller records without it
                return None
        return self.runs[run_id]

    def aliases(self, name: str) -> dict[str, str]:
        """A registered model's aliases now (alias → version number). Search results may leave them out
        (Unity Catalog's do), so this asks for the model itself."""
        if name not in self._aliases:
            found = self.ml.get_registered_model(name).aliases
            self._aliases[name] = {alias: str(version) for alias, version in found.items()}
        return self._aliases[name]

    def _experiments(self) -> list[Experiment]:
        if not self.names:
            found = list(pages(lambda t: self.ml.search_experiments(max_results=PAGE, page_token=t)))
        else:
            found = []
            for name in self.names:
                experiment = self.ml.get_experiment_by_name(name)
                if experiment is None or experiment.lifecycle_stage != "active":
                    raise ImportFailed(f"MLflow has no (active) experiment named {name!r}")
                found.append(experiment)
            self.selected = {e.experiment_id for e in found}
        return sorted(found, key=lambda e: (len(e.experiment_id), e.experiment_id))

    def _runs_of(self, experiment_id: str) -> list[Run]:
        where = f"attributes.start_time >= {self.since_ms}" if self.since_ms is not None else ""
        listed = pages(
            lambda t: self.ml.search_runs(
                [experiment_id], where, max_results=PAGE, order_by=["attributes.start_time ASC"], page_token=t
            )
        )
        runs = sorted(listed, key=lambda r: (r.info.start_time or 0, r.info.run_id))
        for run in runs:
            self.runs[run.info.run_id] = run
            started = run.info.start_time
            for used in run.inputs.dataset_inputs if run.inputs and started is not None else []:
                key = (used.dataset.name, used.dataset.digest)
                self.first_use[key] = min(self.first_use.get(key, started), started)
        return runs

    def _logged_models(self, ids: list[str]) -> Iterator[LoggedModel]:
        return pages(lambda t: self.ml.search_logged_models(ids, max_results=100, page_token=t))

    def _registry(self) -> list[tuple[str, list[ModelVersion]]]:
        """Each registered model (prompts are left out by MLflow's search) with its versions in scope,
        oldest first. With `since`, a version is in scope when it was created or changed (stage, tags)
        since then, or when an alias points at it now; with experiment names, when its source run is in
        one of them."""
        listed = pages(lambda t: self.ml.search_registered_models(max_results=100, page_token=t))
        names = sorted(rm.name for rm in listed)
        by_model: dict[str, list[ModelVersion]] = {name: [] for name in names}
        for version in pages(lambda t: self.ml.search_model_versions(max_results=PAGE, page_token=t)):
            if version.name in by_model:
                by_model[version.name].append(version)
        out = []
        for name in names:
            aliased = set(self.aliases(name).values()) if by_model[name] else set()
            versions = [
                v
                for v in by_model[name]
                if (
                    self.new(v.creation_timestamp)
                    or self.new(v.last_updated_timestamp)
                    or str(v.version) in aliased
                )
                and self._in_selected_experiments(v.run_id)
            ]
            if versions or (self.selected is None and self.since_ms is None):
                out.append((name, sorted(versions, key=lambda v: int(v.version))))
        return out

    def _in_selected_experiments(self, run_id: str | None) -> bool:
        if self.selected is None:
            return True
        run = self.run(run_id) if run_id else None
        return run is not None and run.info.experiment_id in self.selected
