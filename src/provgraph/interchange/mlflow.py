"""`provgraph import mlflow`: what an MLflow tracking server holds, recorded in provgraph.

MLflow is read through its own client (`mlflow.MlflowClient`, imported only when an import runs) and
provgraph is written through the SDK, so this works against any provgraph deployment with a WRITER token.

What becomes what (names are mapped by `mlflow_mapping`):

- an experiment → an Experiment; a run → a Run keyed `mlflow-<run id>`, kind TRAIN (MLflow runs have no
  kind), with its params, latest metrics, status (KILLED → FAILED), times, user (the param `mlflow.user`:
  provgraph runs have no owner field) and code (the `mlflow.source.*` tags);
- a run's dataset input → a Source (where the data lives), a Dataset and a DatasetVersion whose version
  is MLflow's digest, used by the run in the role its `mlflow.data.context` tag names;
- an MLflow 3 logged model → a version of the Model `logged/<name>`, trained by its source run;
- a registered model version → a version of the Model of the same name, artifact `models:/<name>/<n>`
  (MLflow's own URI for it), tagged `mlflow-version:<n>`, trained by its source run; its current stage and
  the model's current aliases are recorded as registry events now, with reasons saying they came from
  MLflow (MLflow keeps no history of them).

Importing again records nothing new; `since` limits an import to runs started and model versions created
(or changed: stage or aliases) at or after a time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provgraph.client import Client, NotFoundError, ProvgraphClientError
from provgraph.client import _operations as ops
from provgraph.client._call import Call
from provgraph.domain.registry import Stage
from provgraph.interchange import mlflow_mapping as m
from provgraph.interchange.mlflow_scope import Scope
from provgraph.interchange.recorder import ImportFailed, Recorder, Summary

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, LoggedModel, Run
    from mlflow.entities.model_registry import ModelVersion

__all__ = ["ImportFailed", "MlflowImport", "Summary", "check_writer", "import_command", "open_tracking"]

Progress = Callable[[int, int], None]  # (done, total)
FROM_MLFLOW = "imported from MLflow: "  # how every registry event an import records begins its reason
INSTALL_HINT = "pip install 'provgraph[mlflow]' (or: pip install 'mlflow>=3,<4')"


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def open_tracking(tracking_uri: str) -> MlflowClient:
    """An MlflowClient for the URI, after checking it can be read. A SQLite file or a directory that does
    not exist is refused here: MLflow would silently create an empty store there."""
    try:
        import mlflow
    except ImportError:
        raise ImportFailed(f"the MLflow import needs MLflow 3: {INSTALL_HINT}") from None
    scheme, sep, rest = tracking_uri.partition(":")
    if scheme == "sqlite":
        path = rest[3:] if rest.startswith("///") else ""
        if not path or path == ":memory:" or not Path(path).is_file():
            raise ImportFailed(
                f"no MLflow database at {tracking_uri} (a sqlite:/// URI must name an existing file)"
            )
    elif scheme == "file" or not sep or len(scheme) == 1:  # a plain path (or a Windows drive letter)
        path = rest.removeprefix("//") if scheme == "file" else tracking_uri
        if not Path(path).is_dir():
            raise ImportFailed(f"no MLflow store at {tracking_uri} (the directory does not exist)")
    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)
    except Exception as exc:  # MLflow reports unreachable servers and unknown schemes in many types
        raise ImportFailed(f"cannot read MLflow at {tracking_uri}: {_one_line(exc)}") from None
    return client


def check_writer(pg: Client) -> str:
    """The token's name, once the service confirmed it may write."""
    try:
        principal = pg.execute("{ whoami { name role } }")["whoami"]
    except ProvgraphClientError as exc:
        raise ImportFailed(f"provgraph at {pg.url}: {exc} (set PROVGRAPH_URL and PROVGRAPH_TOKEN)") from None
    if principal["role"] not in ("WRITER", "ADMIN"):
        raise ImportFailed(
            f"the token {principal['name']!r} is a {principal['role']}: importing needs a WRITER token"
        )
    return str(principal["name"])


class MlflowImport:
    """One import: lists what is in scope, then records it run by run and version by version."""

    def __init__(
        self,
        mlflow_client: MlflowClient,
        pg: Client,
        *,
        experiments: Sequence[str] = (),
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.ml = mlflow_client
        self.pg = pg
        self.scope = Scope(mlflow_client, experiments, since)
        self.progress = progress or (lambda done, total: None)
        self.summary = Summary()
        self.out = Recorder(pg, self.summary)
        self.done = self.total = 0
        self.experiments: dict[str, str | None] = {}  # MLflow id → provgraph name (None: not recorded)
        self.runs: dict[str, str | None] = {}  # MLflow run id → provgraph run key (None: not recorded)
        self.dataset_versions: dict[tuple[str, str], str | None] = {}
        self.recorded: set[str] = set()  # sources and datasets registered in this import

    def run(self) -> Summary:
        """Import everything in scope; returns what was created, found, and skipped."""
        self.summary.actor = check_writer(self.pg)
        listing = self.scope.listing()
        self.total = listing.size
        self.progress(0, self.total)
        for experiment in listing.experiments:
            self._experiment(experiment.experiment_id, experiment.name)
        # Oldest first, so a nested run's parent is recorded before it (a parent the scope left out is
        # recorded on demand, as a model version's source run is).
        for run in sorted(listing.runs, key=lambda r: r.info.start_time or 0):
            if run.info.run_id not in self.runs:
                self._run(run)
            self._tick()
        for lm in listing.logged_models:
            self._logged_model(lm)
            self._tick()
        for name, versions in listing.registered:
            self._registered_model(name, versions)
        return self.summary

    def _tick(self) -> None:
        self.done += 1
        self.progress(self.done, self.total)

    # -- recording ----------------------------------------------------------------------------------

    def _experiment(self, experiment_id: str, name: str | None = None) -> str | None:
        if experiment_id not in self.experiments:
            if name is None:
                name = self.ml.get_experiment(experiment_id).name
            mapped = m.provgraph_name(name)
            described = None if mapped == name else f"MLflow experiment {name!r}"
            done = self.out.send(
                "experiments", f"experiment {name!r}", ops.register_experiment(mapped, description=described)
            )
            self.experiments[experiment_id] = mapped if done else None
        return self.experiments[experiment_id]

    def _ensure_run(self, run_id: str | None) -> str | None:
        """The provgraph key of an MLflow run, recording it first when this import has not (a model
        version's source run may have started before `since`)."""
        if not run_id:
            return None
        if run_id not in self.runs:
            run = self.scope.run(run_id)
            if run is None or run.info.lifecycle_stage != "active":
                self.out.skip(
                    f"run {run_id}: deleted in MLflow or unknown; what it trained is recorded without it"
                )
                self.runs[run_id] = None
            else:
                self.total += 1
                self._run(run)
                self._tick()
        return self.runs[run_id]

    def _run(self, run: Run) -> None:
        info, data = run.info, run.data
        what = f"run {info.run_id}"
        experiment = self._experiment(info.experiment_id)
        inputs = self._inputs(run)
        params, problems = m.params_of(data.params)
        if info.user_id and "mlflow.user" not in params:
            params["mlflow.user"] = info.user_id
        parent_id = data.tags.get("mlflow.parentRunId")
        parent = self._ensure_run(parent_id) if parent_id and parent_id != info.run_id else None
        call = ops.register_run(
            f"mlflow-{info.run_id}",
            "TRAIN",
            experiment=experiment,
            parent=f"run:{parent}" if parent else None,
            inputs=inputs,
            params=params,
            code=m.code_of(data.tags) or None,
            started_at=m.from_ms(info.start_time),
        )
        recorded = self.out.send("runs", what, call)
        # A run the service refused (one that changed in MLflow after it was recorded) is still there to
        # link model versions to.
        key = f"mlflow-{info.run_id}"
        self.runs[info.run_id] = key if recorded or self._exists("run", f"run:{key}") else None
        status = m.run_status(info.status)
        if recorded and status != "RUNNING":  # a running run is completed by a later import
            metrics, more = m.metrics_of(data.metrics)
            problems += more
            end = ops.complete_run(recorded["id"], status, ended_at=m.from_ms(info.end_time), metrics=metrics)
            self.out.send("run ends", what, end)
        for problem in problems:
            self.out.skip(f"{what}: {problem}")

    def _inputs(self, run: Run) -> list[tuple[str, str]]:
        roles: dict[str, str] = {}
        for used in run.inputs.dataset_inputs if run.inputs else []:
            context = next((t.value for t in used.tags if t.key == "mlflow.data.context"), None)
            role = m.input_role(context)
            version_id = self._dataset_version(used.dataset, run)
            if version_id is None:
                continue
            if version_id not in roles or m.ROLE_RANK[role] < m.ROLE_RANK[roles[version_id]]:
                roles[version_id] = role
        return sorted(roles.items())

    def _dataset_version(self, dataset: Dataset, run: Run) -> str | None:
        key = (dataset.name, dataset.digest)
        if key in self.dataset_versions:
            return self.dataset_versions[key]
        what = f"dataset {dataset.name!r} version {dataset.digest!r}"
        self.dataset_versions[key] = None
        if not dataset.digest:
            self.out.skip(f"{what} of run {run.info.run_id}: no digest to name the version by")
            return None
        source = m.source_of(dataset.source_type, dataset.source)
        sources = []
        if isinstance(source, m.SourceRef):
            if self._once(
                source.name,
                "sources",
                f"source {source.uri!r}",
                ops.register_source(source.name, source.kind, uri=source.uri),
            ):
                sources.append(source.name)
        else:
            self.out.skip(f"source of {what}: {source}")
        name = m.provgraph_name(dataset.name)
        described = None if name == dataset.name else f"MLflow dataset {dataset.name!r}"
        if not self._once(
            name, "datasets", f"dataset {dataset.name!r}", ops.register_dataset(name, description=described)
        ):
            return None
        version = m.provgraph_name(dataset.digest)
        # A new version is dated by its first use; an existing one keeps the date it was recorded with.
        created_at = (
            None
            if self._exists("datasetVersion", f"datasetVersion:{name}:{version}")
            else m.from_ms(self.scope.first_use.get(key, run.info.start_time))
        )
        call = ops.register_dataset_version(
            name,
            version,
            sources=sources,
            digest=dataset.digest,
            uri=source.uri if isinstance(source, m.SourceRef) else None,
            row_count=m.row_count(dataset.profile),
            schema=m.schema_text(dataset.schema),
            created_at=created_at,
        )
        recorded = self.out.send("dataset versions", what, call)
        self.dataset_versions[key] = recorded["id"] if recorded else None
        return self.dataset_versions[key]

    def _once(self, name: str, kind: str, what: str, call: Call[Any]) -> bool:
        """Register a source or dataset once per import."""
        marker = f"{kind}:{name}"
        if marker not in self.recorded and self.out.send(kind, what, call):
            self.recorded.add(marker)
        return marker in self.recorded

    def _exists(self, field: str, node_id: str) -> bool:
        """Whether provgraph has the node (`field`: the query that reads one of its kind)."""
        try:
            self.pg.execute(f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": node_id})
        except NotFoundError:
            return False
        return True

    def _logged_model(self, lm: LoggedModel) -> None:
        what = f"logged model {lm.model_id}"
        if lm.status != "READY":
            self.out.skip(f"{what}: its status is {lm.status}, not READY")
            return
        model = m.provgraph_name(f"logged/{lm.name}")
        if not self.out.send(
            "models", what, ops.register_model(model, description=f"MLflow logged models named {lm.name!r}")
        ):
            return
        call = ops.register_model_version(
            model,
            lm.artifact_location,
            trained_by=self._ensure_run(lm.source_run_id),
            framework=lm.model_type or None,
            tags=m.tags_of("mlflow", "mlflow-logged-model", f"mlflow-model-id:{lm.model_id}"),
            description=f"MLflow logged model {lm.model_id} ({lm.name!r}) of experiment {lm.experiment_id}",
            created_at=m.from_ms(lm.creation_timestamp),
        )
        self.out.send("model versions", what, call)

    def _registered_model(self, name: str, versions: list[ModelVersion]) -> None:
        model = m.provgraph_name(name)
        described = None if model == name else f"MLflow registered model {name!r}"
        if not self.out.send(
            "models", f"registered model {name!r}", ops.register_model(model, description=described)
        ):
            for _ in versions:
                self._tick()
            return
        ids: dict[str, str] = {}
        held: dict[str, str] = {}  # the aliases these versions held in provgraph, before this import
        for version in versions:
            recorded = self._registered_version(model, version)
            if recorded is not None:
                ids[str(version.version)] = recorded["id"]
                held.update(dict.fromkeys(recorded["aliases"], recorded["id"]))
            self._tick()
        current = self.scope.aliases(name)
        for alias, number in sorted(current.items()):
            if number in ids:
                change = ops.set_alias(
                    model, m.alias_name(alias), ids[number], reason=f"{FROM_MLFLOW}alias {alias!r}"
                )
                self.out.send("aliases", f"alias {alias!r} of {name!r}", change)
        # An alias deleted in MLflow since an import set it is removed; one set in provgraph by hand stays.
        for alias in sorted(set(held) - {m.alias_name(a) for a in current}):
            if self._set_by_import(held[alias], alias):
                change = ops.remove_alias(model, alias, reason=f"{FROM_MLFLOW}alias {alias!r} no longer set")
                self.out.send("aliases", f"alias {alias!r} of {name!r}", change)

    def _set_by_import(self, version_id: str, alias: str) -> bool:
        """Whether the alias's last move onto the version was recorded by an MLflow import."""
        events = [e for e in self.pg.history(version_id) if e.alias == alias and e.kind == "ALIAS_SET"]
        return bool(events) and (events[-1].reason or "").startswith(FROM_MLFLOW)

    def _registered_version(self, model: str, version: ModelVersion) -> dict[str, Any] | None:
        what = f"version {version.version} of registered model {version.name!r}"
        if version.status != "READY":
            self.out.skip(f"{what}: its status is {version.status}, not READY")
            return None
        logged = m.logged_model_id(version.source)
        call = ops.register_model_version(
            model,
            f"models:/{version.name}/{version.version}",
            trained_by=self._ensure_run(version.run_id),
            tags=m.tags_of(
                "mlflow",
                f"mlflow-version:{version.version}",
                *([f"mlflow-model-id:{logged}"] if logged else []),
            ),
            description=f"MLflow registered model {version.name!r} version {version.version}"
            + (f", from {version.source}" if version.source else ""),
            created_at=m.from_ms(version.creation_timestamp),
        )
        recorded = self.out.send("model versions", what, call)
        if recorded is None:
            return None
        target = m.stage_of(version.current_stage)
        if target is None:
            self.out.skip(f"{what}: MLflow stage {version.current_stage!r} has no provgraph equivalent")
            return recorded
        current = Stage(recorded["stage"])
        for step in m.stage_path(current, target):
            reason = f"{FROM_MLFLOW}stage {version.current_stage}" + (
                "" if step is target else f" (through {step.value}, as provgraph's stage rules require)"
            )
            if not self.out.send(
                "stage changes", what, ops.transition_stage(recorded["id"], step.value, reason=reason)
            ):
                break
        return recorded


@contextmanager
def _progress_display() -> Iterator[Progress]:
    """A progress bar on a terminal (rich, which typer brings), else a line every tenth of the way."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            "importing from MLflow", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        ) as bar:
            task = bar.add_task("import", total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    last = [-1]

    def line(done: int, total: int) -> None:
        step = done * 10 // max(total, 1)
        if step != last[0] and total:
            last[0] = step
            print(f"importing from MLflow: {done}/{total}", file=sys.stderr, flush=True)

    yield line


def import_command(tracking_uri: str, experiments: Iterable[str] = (), since: str | None = None) -> Summary:
    """What `provgraph import mlflow` runs: the SDK client from PROVGRAPH_URL / PROVGRAPH_TOKEN, MLflow
    from `tracking_uri`, with progress on standard error. Raises ImportFailed with a one-line reason."""
    try:
        since_at = m.parse_since(since) if since else None
    except ValueError as exc:
        raise ImportFailed(str(exc)) from None
    # MLflow's HTTP client retries for about 4 minutes by default; an import should say sooner that the
    # server is not there (set the variable to wait longer).
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    with Client() as pg:
        check_writer(pg)
        client = open_tracking(tracking_uri)
        with _progress_display() as progress:
            job = MlflowImport(client, pg, experiments=list(experiments), since=since_at, progress=progress)
            try:
                return job.run()
            except ProvgraphClientError as exc:
                raise ImportFailed(f"provgraph at {pg.url}: {exc}") from None
            except ImportFailed:
                raise
            except Exception as exc:  # MLflow's read errors come in many types (MlflowException, requests)
                raise ImportFailed(f"reading MLflow at {tracking_uri}: {_one_line(exc)}") from None
