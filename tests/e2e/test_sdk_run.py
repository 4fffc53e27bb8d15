"""The run context against the real service over HTTP: what a finished and a failed run read back as, and
the README's pipeline run as written, twice, against the demo story."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import types
from pathlib import Path

import httpx
import pytest

from conftest import Tokens
from provgraph.client import (
    AsyncClient,
    Client,
    ConflictError,
    InputRole,
    RegistryEventKind,
    RunKind,
    RunStatus,
)
from provgraph.config import Settings
from provgraph.demo import load_demo
from snippets import mlflow_pipeline, readme_pipeline

from .conftest import ApiServer


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory is a git repository with one commit and an origin."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "train.py").write_text("print('training')\n")
    git(root, "init", "--quiet")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "first")
    git(root, "remote", "add", "origin", "git@git.example.com:ml/intent.git")
    monkeypatch.chdir(root)
    return root


def register_data(pg: Client) -> str:
    pg.register_source("chat-transcripts", "database", license="internal")
    pg.register_dataset("intents")
    return pg.register_dataset_version("intents", "2026-06", sources=["chat-transcripts"], row_count=5000).id


def test_a_finished_run_reads_back_with_its_code_environment_metrics_and_model_version(
    api_server: ApiServer, tokens: Tokens, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVGRAPH_IMAGE_DIGEST", "sha256:4b8e2a90c3d1")
    lightgbm = types.ModuleType("lightgbm")
    lightgbm.__version__ = "4.5.0"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lightgbm", lightgbm)
    with Client(api_server.url, token=tokens.writer) as pg:
        data = register_data(pg)
        with pg.run("train-intent", kind=RunKind.TRAIN, experiment="intent", inputs=[(data, "train")]) as run:
            run.log_params(lr=3e-5, epochs=3)
            run.log_metrics(val_f1=0.91, loss=0.2)
            version = run.register_model_version("intent", "s3://models/intent/1")
        recorded = pg.get_run(run.key)
        trained = pg.model_version(version.id)

    assert (recorded.status, recorded.kind, recorded.experiment_id) == (
        RunStatus.FINISHED,
        "TRAIN",
        "experiment:intent",
    )
    assert recorded.ended_at is not None and recorded.ended_at >= recorded.started_at
    assert recorded.params == {"lr": "3e-05", "epochs": "3"}
    assert recorded.metrics == {"val_f1": 0.91, "loss": 0.2}
    assert [(i.id, i.role) for i in recorded.inputs] == [(data, InputRole.TRAIN)]
    assert recorded.code is not None and recorded.environment is not None
    assert (recorded.code.commit, recorded.code.dirty) == (git(repo, "rev-parse", "HEAD"), False)
    assert recorded.code.repo == "git@git.example.com:ml/intent.git"
    assert recorded.environment.python == platform.python_version()
    assert recorded.environment.image_digest == "sha256:4b8e2a90c3d1"
    assert (recorded.environment.framework, recorded.environment.framework_version) == ("lightgbm", "4.5.0")
    assert f"httpx=={httpx.__version__}" in recorded.environment.packages
    assert (trained.trained_by_id, trained.framework, trained.metrics) == (
        run.id,
        "lightgbm",
        {"val_f1": 0.91, "loss": 0.2},
    )


def test_a_run_that_raises_reads_back_failed_with_the_error(api_server: ApiServer, tokens: Tokens) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        with (
            pytest.raises(RuntimeError, match="CUDA out of memory"),
            pg.run("train-intent", capture=False) as run,
        ):
            run.log_params(lr=3e-5)
            run.log_metrics(loss=4.2)
            raise RuntimeError("CUDA out of memory")
        failed = pg.get_run(run.key)
        with pytest.raises(ZeroDivisionError), pg.run("eval-intent", kind="eval", capture=False) as started:
            started.start()
            raise ZeroDivisionError("no validation rows")
        failed_later = pg.get_run(started.key)

    assert (failed.status, failed.metrics) == (RunStatus.FAILED, {"loss": 4.2})
    assert (failed.params, failed.error) == ({"lr": "3e-05"}, "RuntimeError: CUDA out of memory")
    assert failed.ended_at is not None
    # registered before it failed: the reason comes with the completion all the same
    assert (failed_later.status, failed_later.error) == (
        RunStatus.FAILED,
        "ZeroDivisionError: no validation rows",
    )


def test_the_async_run_context_records_the_same(api_server: ApiServer, tokens: Tokens) -> None:
    async def script() -> tuple[str, str]:
        async with AsyncClient(api_server.url, token=tokens.writer) as pg:
            async with pg.run("finetune-intent", kind="finetune", capture=False) as run:
                run.log_params(base="none")
                version = await run.register_model_version("intent", "s3://models/intent/ft-1")
            recorded = await pg.get_run(run.key)
            return recorded.status, (await pg.model_version(version.id)).trained_by_id or ""

    status, trained_by = asyncio.run(script())
    assert status == RunStatus.FINISHED
    assert trained_by.startswith("run:finetune-intent-")


def test_a_keyed_rerun_with_other_params_is_a_conflict(api_server: ApiServer, tokens: Tokens) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        with pg.run("train-intent", key="train-intent-7", capture=False) as run:
            run.log_params(lr=0.1)
        with (
            pytest.raises(ConflictError) as conflict,
            pg.run("train-intent", key="train-intent-7", capture=False) as rerun,
        ):
            rerun.log_params(lr=0.2)
        assert conflict.value.field == "params"
        assert pg.get_run("train-intent-7").params == {"lr": "0.1"}


def test_the_readme_pipeline_runs_as_written_against_the_demo_twice(
    api_server: ApiServer, settings: Settings, tokens: Tokens, tmp_path: Path
) -> None:
    asyncio.run(load_demo(settings))  # what `make run` loads, into the test database
    script = tmp_path / "pipeline.py"
    script.write_text(readme_pipeline())
    environment = {**os.environ, "PROVGRAPH_URL": api_server.url, "PROVGRAPH_TOKEN": tokens.writer}
    environment.pop("PROVGRAPH_IMAGE_DIGEST", None)
    printed, states = [], []
    with Client(api_server.url, token=tokens.reader) as pg:
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, str(script)],
                cwd=tmp_path,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            printed.append(done.stdout)
            run = pg.get_run("train-intent-2026-06")
            history = pg.history("modelVersion:intent:1")
            runs = pg.execute("{ runs { totalCount } }")["runs"]["totalCount"]
            states.append((run, history, runs))

    assert printed == ["modelVersion:intent:1\n"] * 2
    assert states[1] == states[0]  # the second run changed nothing
    run, history, _ = states[0]
    assert (run.status, run.experiment_id, run.params, run.metrics) == (
        RunStatus.FINISHED,
        "experiment:intent",
        {"lr": "3e-05", "epochs": "3"},
        {"val_f1": 0.91},
    )
    assert [i.id for i in run.inputs] == ["datasetVersion:intents:2026-06"]
    assert run.code is not None and run.code.entrypoint == str(script)  # not in a repository: as given
    assert [(e.kind, e.alias) for e in history] == [
        (RegistryEventKind.REGISTERED, None),
        (RegistryEventKind.ALIAS_SET, "champion"),
    ]


# MLflow's own code trips deprecation warnings of its dependencies (SQLAlchemy, pandas); not ours to fix.
@pytest.mark.filterwarnings("ignore:::mlflow")
def test_the_mlflow_equivalent_runs_as_written(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")  # a dependency of the MLflow import; this checks the docs' claim
    pytest.importorskip("sklearn")
    script = tmp_path / "mlflow_pipeline.py"
    script.write_text(mlflow_pipeline())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        # No telemetry: the machine may have no internet, and a test should not phone home anyway.
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": uri,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias("intent", "champion")
    run = client.get_run(version.run_id)
    assert str(version.version) == "1"  # compared as text: MLflow 3.17 answers an int
    assert (run.data.params, run.data.metrics) == ({"lr": "3e-05", "epochs": "3"}, {"val_f1": 0.91})
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == ["intents"]
