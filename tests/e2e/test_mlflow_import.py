"""`provgraph import mlflow` against a real MLflow (pip-installed, a SQLite store populated here through
MLflow's own API) and the real service over HTTP: provenance questions answered across the import, a
second import that changes nothing, `--since`, and one-line errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from conftest import Tokens
from provgraph.client import Client
from provgraph.interchange.mlflow import ImportFailed, MlflowImport, open_tracking
from provgraph.interchange.mlflow_mapping import metric_key, provgraph_name
from provgraph.interchange.recorder import Summary

from .conftest import ApiServer, free_port

# MLflow's own code trips deprecation warnings of its dependencies (SQLAlchemy, pandas, its own type-hint
# hints); they are attributed to MLflow's modules and are not this project's to fix.
pytestmark = pytest.mark.filterwarnings("ignore:::mlflow")

QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
S3_SOURCE = "source:s3/acme-bucket/reviews/train.csv"
EXPERIMENT = "Sentiment analysis: v2"  # a space and a ':' provgraph names may not hold


@dataclass(frozen=True)
class MlflowStore:
    """What the test put into MLflow, to look for in provgraph."""

    root: Path
    uri: str
    train_run: str
    killed_run: str
    running_run: str
    trial_run: str
    logged_model: str
    train_digest: str
    validation_digest: str
    scratch_digest: str


def _log_pyfunc(name: str) -> Any:
    import mlflow.pyfunc

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: list[str], params: Any = None) -> list[str]:
            return model_input

    return mlflow.pyfunc.log_model(name=name, python_model=Echo())


def populate(root: Path) -> MlflowStore:
    """An experiment with a trained run (params, metrics, git tags, three dataset inputs, a logged model),
    a killed run and a running one; a registered model whose version 1 is in Production with the alias
    `champion` and whose version 2 is Archived."""
    import mlflow
    import pandas as pd

    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        client = mlflow.MlflowClient(uri)
        experiment_id = client.create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").as_uri())
        reviews = pd.DataFrame({"text": ["great", "awful", "fine"], "label": ["pos", "neg", "pos"]})
        train = mlflow.data.from_pandas(
            reviews, source="s3://acme-bucket/reviews/train.csv", name="reviews", targets="label"
        )
        validation = mlflow.data.from_pandas(
            reviews.iloc[:2],
            source="https://example.com/reviews/val.csv",
            name="reviews-val",
            targets="label",
        )
        scratch = mlflow.data.from_pandas(
            reviews.iloc[:1], name="reviews-scratch"
        )  # built in code: no location
        tags = {
            "mlflow.source.git.commit": "e1f2a3b",
            "mlflow.source.git.repoURL": "git@example.com:ml/sentiment.git",
        }
        with mlflow.start_run(experiment_id=experiment_id, run_name="train 1", tags=tags) as run:
            mlflow.log_params({"lr": 0.01, "batch size": 32})
            mlflow.log_metric("acc", 0.5)
            mlflow.log_metric("acc", 0.9)
            mlflow.log_input(train, context="training")
            mlflow.log_input(validation, context="validation")
            mlflow.log_input(scratch, context="eval")
            logged = _log_pyfunc("sentiment-model")
            with mlflow.start_run(experiment_id=experiment_id, run_name="trial", nested=True) as trial:
                mlflow.log_param("seed", 7)
        killed = client.create_run(experiment_id)
        client.set_terminated(killed.info.run_id, "KILLED")
        running = client.create_run(experiment_id)
        v1 = mlflow.register_model(logged.model_uri, "sentiment")
        v2 = mlflow.register_model(logged.model_uri, "sentiment")
        client.set_registered_model_alias("sentiment", "champion", v1.version)
        # Stages are deprecated since MLflow 2.9 but MLflow 3 still serves them; servers hold them.
        with pytest.warns(FutureWarning, match="deprecated"):
            client.transition_model_version_stage("sentiment", v1.version, "Production")
        with pytest.warns(FutureWarning, match="deprecated"):
            client.transition_model_version_stage("sentiment", v2.version, "Archived")
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None resets it (and its env variable)
    return MlflowStore(
        root,
        uri,
        run.info.run_id,
        killed.info.run_id,
        running.info.run_id,
        trial.info.run_id,
        logged.model_id,
        train._to_mlflow_entity().digest,
        validation._to_mlflow_entity().digest,
        scratch._to_mlflow_entity().digest,
    )


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStore]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in QUIET_MLFLOW.items():
            patch.setenv(name, value)
        yield populate(tmp_path_factory.mktemp("mlflow"))


def copy_of(store: MlflowStore, root: Path) -> str:
    """A copy of the populated store that a test may add to (artifacts stay where they are)."""
    shutil.copy2(store.root / "mlflow.db", root / "mlflow.db")
    return f"sqlite:///{root / 'mlflow.db'}"


def run_cli(api: ApiServer, token: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provgraph", "import", "mlflow", *args],
        env={**os.environ, **QUIET_MLFLOW, "PROVGRAPH_URL": api.url, "PROVGRAPH_TOKEN": token, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def import_now(api: ApiServer, token: str, uri: str, **options: Any) -> Summary:
    with Client(api.url, token=token) as pg:
        return MlflowImport(open_tracking(uri), pg, **options).run()


def graph_state(driver: Driver) -> tuple[list[str], list[str]]:
    """Every node (labels and properties; tokens aside) and every relationship (ends, type, properties)."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:ApiToken RETURN labels(n) AS l, properties(n) AS p", database_="neo4j"
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(z) RETURN a.id AS a, type(r) AS t, z.id AS z, properties(r) AS p", database_="neo4j"
    )
    return (
        sorted(repr((sorted(n["l"]), sorted(n["p"].items()))) for n in nodes),
        sorted(repr((r["a"], r["t"], r["z"], sorted(r["p"].items()))) for r in rels),
    )


RUN = """query($id: ID!) { run(id: $id) { status experimentId parentRunId startedAt endedAt
  params { key value } metrics { key value } code { repo commit entrypoint } inputs { id role } } }"""


def test_the_cli_imports_mlflow_and_provenance_questions_reach_across_it(
    api_server: ApiServer, tokens: Tokens, mlflow_store: MlflowStore
) -> None:
    done = run_cli(api_server, tokens.writer, "--tracking-uri", mlflow_store.uri)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stdout.strip().splitlines()[-1]
    counts = re.fullmatch(
        r"created (\d+), already there (\d+), skipped (\d+) \(recorded as test-writer\)", last
    )
    assert counts is not None, done.stdout
    assert int(counts[1]) > 0 and counts[2] == "0"
    assert (
        f"skipped: source of dataset 'reviews-scratch' version '{mlflow_store.scratch_digest}'" in done.stdout
    )

    train_version = f"datasetVersion:reviews:{mlflow_store.train_digest}"
    run_id = f"run:mlflow-{mlflow_store.train_run}"
    with Client(api_server.url, token=tokens.reader) as pg:
        # Which models used the S3 data? The registered versions and the logged model, through the run.
        uses = pg.models_using_source(S3_SOURCE)
        by_id = {use.model_version.id: use for use in uses.items}
        assert set(by_id) == {
            "modelVersion:sentiment:1",
            "modelVersion:sentiment:2",
            "modelVersion:logged/sentiment-model:1",
        }
        assert by_id["modelVersion:sentiment:1"].paths[0].node_ids == [
            "modelVersion:sentiment:1",
            run_id,
            train_version,
            S3_SOURCE,
        ]
        production = pg.models_using_source(S3_SOURCE, stage="PRODUCTION")
        assert [use.model_version.id for use in production.items] == ["modelVersion:sentiment:1"]

        # Everything upstream of the champion: the run's three dataset versions and the two sources.
        upstream = pg.lineage("modelVersion:sentiment:1", types=["Run", "DatasetVersion", "Source"])
        assert {node.id for node in upstream.nodes} == {
            run_id,
            train_version,
            f"datasetVersion:reviews-val:{mlflow_store.validation_digest}",
            f"datasetVersion:reviews-scratch:{mlflow_store.scratch_digest}",
            S3_SOURCE,
            "source:https/example.com/reviews/val.csv",
        }

        # The registry as MLflow shows it now, recorded as events whose reasons say where they came from.
        champion = pg.model_version("modelVersion:sentiment:1")
        assert (champion.stage, champion.aliases, champion.trained_by_id) == (
            "PRODUCTION",
            ["champion"],
            run_id,
        )
        assert "mlflow-version:1" in champion.tags
        events = [(e.kind, e.to_stage or e.alias, e.reason, e.actor) for e in pg.history(champion.id)]
        assert events[1:] == [
            (
                "STAGE_CHANGED",
                "STAGING",
                "imported from MLflow: stage Production (through STAGING, as provgraph's stage rules require)",
                "test-writer",
            ),
            ("STAGE_CHANGED", "PRODUCTION", "imported from MLflow: stage Production", "test-writer"),
            ("ALIAS_SET", "champion", "imported from MLflow: alias 'champion'", "test-writer"),
        ]
        archived = pg.model_version("modelVersion:sentiment:2")
        assert archived.stage == "ARCHIVED"
        assert pg.history(archived.id)[-1].reason == "imported from MLflow: stage Archived"
        logged = pg.model_version("modelVersion:logged/sentiment-model:1")
        assert f"mlflow-model-id:{mlflow_store.logged_model}" in logged.tags
        assert logged.trained_by_id == run_id

        # The run: params (a key with a space mapped), latest metric, code, inputs with their roles.
        run = pg.execute(RUN, {"id": run_id})["run"]
        params = {p["key"]: p["value"] for p in run["params"]}
        assert params["lr"] == "0.01"
        assert params[metric_key("batch size")] == "32"
        assert "mlflow.user" in params
        assert run["metrics"] == [{"key": "acc", "value": 0.9}]
        assert run["code"] == {
            "repo": "git@example.com:ml/sentiment.git",
            "commit": "e1f2a3b",
            "entrypoint": run["code"]["entrypoint"],
        }
        assert run["code"]["entrypoint"]
        assert run["status"] == "FINISHED"
        assert run["experimentId"] == f"experiment:{provgraph_name(EXPERIMENT)}"
        assert {i["id"]: i["role"] for i in run["inputs"]} == {
            train_version: "TRAIN",
            f"datasetVersion:reviews-val:{mlflow_store.validation_digest}": "VALIDATION",
            f"datasetVersion:reviews-scratch:{mlflow_store.scratch_digest}": "OTHER",
        }
        killed = pg.execute(RUN, {"id": f"run:mlflow-{mlflow_store.killed_run}"})["run"]
        running = pg.execute(RUN, {"id": f"run:mlflow-{mlflow_store.running_run}"})["run"]
        assert (killed["status"], running["status"], running["endedAt"]) == ("FAILED", "RUNNING", None)
        trial = pg.execute(RUN, {"id": f"run:mlflow-{mlflow_store.trial_run}"})["run"]
        assert (trial["parentRunId"], run["parentRunId"]) == (run_id, None)  # a nested run keeps its parent


def test_a_second_import_changes_nothing(
    api_server: ApiServer, tokens: Tokens, mlflow_store: MlflowStore, driver: Driver
) -> None:
    first = import_now(api_server, tokens.writer, mlflow_store.uri)
    before = graph_state(driver)
    second = import_now(api_server, tokens.writer, mlflow_store.uri)
    assert first.total_created > 0
    assert (second.total_created, dict(second.created)) == (0, {})
    assert second.total_existing > 0
    assert second.skipped == first.skipped
    assert graph_state(driver) == before


def test_since_imports_only_what_is_new_and_current_aliases(
    api_server: ApiServer, tokens: Tokens, mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    import mlflow

    uri = copy_of(mlflow_store, tmp_path)
    import_now(api_server, tokens.writer, uri)
    since = datetime.now(UTC)
    mlflow.set_tracking_uri(uri)
    try:
        client = mlflow.MlflowClient(uri)
        experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
        with mlflow.start_run(experiment_id=experiment_id) as later:
            mlflow.log_param("lr", 0.02)
            logged = _log_pyfunc("sentiment-model")
        v3 = mlflow.register_model(logged.model_uri, "sentiment")
        client.set_registered_model_alias("sentiment", "champion", v3.version)  # the champion moves
        client.set_registered_model_alias("sentiment", "candidate", v3.version)
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]

    new = import_now(api_server, tokens.writer, uri, since=since)
    # The new run, its logged model, version 3 and the aliases; the older runs and versions are not looked
    # at (the experiment and the two models are, and are there).
    assert dict(new.created) == {"runs": 1, "run ends": 1, "model versions": 2, "aliases": 2}
    assert dict(new.existing) == {"experiments": 1, "models": 2}
    later_run = f"run:mlflow-{later.info.run_id}"
    with Client(api_server.url, token=tokens.reader) as pg:
        moved = pg.model_version("modelVersion:sentiment:3")
        assert (moved.trained_by_id, moved.aliases, moved.stage) == (
            later_run,
            ["candidate", "champion"],
            "NONE",
        )
        assert pg.model_version("modelVersion:sentiment:1").aliases == []
        assert pg.model_version("modelVersion:logged/sentiment-model:2").trained_by_id == later_run

    # An alias deleted in MLflow is removed by the next import (an alias set by hand in provgraph would stay).
    mlflow.MlflowClient(uri).delete_registered_model_alias("sentiment", "candidate")
    removed = import_now(api_server, tokens.writer, uri, since=since)
    assert (removed.created["aliases"], removed.total_created) == (1, 1)
    with Client(api_server.url, token=tokens.reader) as pg:
        assert pg.model_version("modelVersion:sentiment:3").aliases == ["champion"]
        last = pg.history("modelVersion:sentiment:3")[-1]
        assert (last.kind, last.alias) == ("ALIAS_REMOVED", "candidate")
        assert last.reason == "imported from MLflow: alias 'candidate' no longer set"

    # MLflow keeps no time for alias changes, so the version an alias points at is looked at on every
    # import, however late `since` is; it is all there already.
    nothing_new = import_now(api_server, tokens.writer, uri, since=datetime(2200, 1, 1, tzinfo=UTC))
    assert nothing_new.total_created == 0
    assert (nothing_new.existing["model versions"], nothing_new.existing["aliases"]) == (1, 1)


def test_experiment_names_limit_the_import(
    api_server: ApiServer, tokens: Tokens, mlflow_store: MlflowStore
) -> None:
    only_default = import_now(api_server, tokens.writer, mlflow_store.uri, experiments=["Default"])
    assert dict(only_default.created) == {"experiments": 1}
    with pytest.raises(ImportFailed, match="no \\(active\\) experiment named 'nope'"):
        import_now(api_server, tokens.writer, mlflow_store.uri, experiments=["nope"])


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("sqlite:///{tmp}/missing/mlflow.db", "no MLflow database at sqlite:///"),
        ("bogus://nowhere", "cannot read MLflow at bogus://nowhere: "),
        ("http://127.0.0.1:{port}", "cannot read MLflow at http://127.0.0.1:"),
    ],
)
def test_a_bad_tracking_uri_is_one_clear_line(
    api_server: ApiServer, tokens: Tokens, tmp_path: Path, uri: str, says: str
) -> None:
    uri = uri.format(tmp=tmp_path, port=free_port())
    done = run_cli(api_server, tokens.writer, "--tracking-uri", uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: " + says), done.stderr
    assert not (tmp_path / "missing").exists()  # MLflow was not allowed to create an empty store


def test_a_reader_token_is_refused_before_anything_is_read(api_server: ApiServer, tokens: Tokens) -> None:
    done = run_cli(api_server, tokens.reader, "--tracking-uri", "sqlite:///unused.db")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the token 'test-reader' is a READER: importing needs a WRITER token"


def test_the_readme_mlflow_example_runs_as_shown(
    api_server: ApiServer, tokens: Tokens, tmp_path: Path
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    script = readme.split("### MLflow", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    # The token comes from the test session instead of `token dev` (which needs the database's password).
    script = "\n".join(line for line in script.splitlines() if not line.startswith("export PROVGRAPH_TOKEN"))
    script = script.replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    env = {**os.environ, **QUIET_MLFLOW, "PROVGRAPH_URL": api_server.url, "PROVGRAPH_TOKEN": tokens.writer}
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip().splitlines()[-1]
        == "created 11, already there 0, skipped 0 (recorded as test-writer)"
    )
    with Client(api_server.url, token=tokens.reader) as pg:
        uses = {
            u.model_version.id: u.model_version
            for u in pg.models_using_source("s3/acme-bucket/reviews.csv").items
        }
    assert uses["modelVersion:sentiment:1"].aliases == ["champion"]
